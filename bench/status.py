#!/usr/bin/env python3
"""`runner status` over many apps with a warm hash cache: N apps of M jars, each released once
(so each has a manifest), then `runner status` timed R times (no health URLs: what is measured
is runner's own work: history, manifests, a stat walk of every deploy dir, the plan of every
staging dir).

  bench/status.py --runner target/release/runner [--apps 20] [--jars 64] [--repeats 15] [--work DIR]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import time
import zipfile


def write_jar(path, seed, size=50_000):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        z.writestr("C.class", bytes((seed * 31 + i) % 251 for i in range(size)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runner", required=True)
    ap.add_argument("--apps", type=int, default=20)
    ap.add_argument("--jars", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--work", default="/tmp/runner-status-bench")
    a = ap.parse_args()
    runner = os.path.realpath(a.runner)
    w = a.work
    shutil.rmtree(w, ignore_errors=True)
    conf = [f'staging = "{w}/staging"', f'deploy_root = "{w}/deploy"', f'backup_root = "{w}/backup"',
            f'state_dir = "{w}/state"']
    for i in range(a.apps):
        app = f"app{i:02}"
        os.makedirs(f"{w}/deploy/{app}")
        for j in range(a.jars):
            write_jar(f"{w}/staging/{app}/lib/lib{j:03}.jar", i * 1000 + j)
        conf.append(f'[apps.{app}]\nrestart = ["true"]')
    with open(f"{w}/runner.toml", "w") as f:
        f.write("\n".join(conf) + "\n")
    cmd = [runner, "-c", f"{w}/runner.toml"]
    subprocess.run(cmd + ["-q", "release", "--all", "--yes"], check=True)
    # The first status warms the caches of files installed too recently to be cached.
    time.sleep(0.2)
    subprocess.run(cmd + ["status"], check=True, capture_output=True)
    times = []
    for _ in range(a.repeats):
        t = time.monotonic()
        r = subprocess.run(cmd + ["--json", "status"], capture_output=True)
        times.append((time.monotonic() - t) * 1000)
        assert r.returncode == 0, r.stdout[-2000:]
    files = a.apps * a.jars
    print(f"runner status: {a.apps} apps, {files} deployed jars ({files * 50 // 1000} MB), warm cache: "
          f"median {statistics.median(times):.1f} ms, min {min(times):.1f} ms, max {max(times):.1f} ms "
          f"({a.repeats} runs)")


if __name__ == "__main__":
    main()
