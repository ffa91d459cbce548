#!/usr/bin/env python3
"""Where a cold `runner release --all` spends its time, against the floor of the work itself.

On the fleet `cargo bench --bench release` generated (WORK: fleet/, staging-base/, mutated/; 20
apps, 1281 jars, 137 rewritten), in turns:
- runner: a cold release (fresh deploy tree, no state) with --events; the steps' own times
  summed over the apps, and what lies outside the apps' releases (process start, config, the
  hashing of every staged and deployed jar on every core before the first app).
- the floor: the same unavoidable work with no safety and no bookkeeping, in one Python process
  per core: sha256 of every staged and every deployed jar, then the 137 changed jars copied twice
  (into a backup dir, and over the deployed copy) and one sync.

Usage: python3 bench/release_floor.py --runner target/release/runner [--work target/bench-release]
       [--rounds 3]
"""
import argparse
import collections
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor


def reset(work):
    for d in ("deploy", "staging", "state", "backup-runner", "floor-backup"):
        shutil.rmtree(os.path.join(work, d), ignore_errors=True)
    subprocess.run("cp -a fleet deploy && cp -a staging-base staging && cp -a mutated/. staging/ && sync",
                   shell=True, check=True, cwd=work)


def runner_round(work, runner, apps):
    cfg = os.path.join(work, "floor-runner.toml")
    with open(cfg, "w") as f:
        f.write(f'staging = "{work}/staging"\ndeploy_root = "{work}/deploy"\n'
                f'backup_root = "{work}/backup-runner"\nstate_dir = "{work}/state"\n')
        for a in apps:
            f.write(f'[apps.{a}]\nrestart = ["true"]\n')
    reset(work)
    t0 = time.monotonic()
    out = subprocess.run([runner, "-c", cfg, "release", "--all", "--yes", "--events"],
                         capture_output=True, text=True, check=True).stdout
    wall = (time.monotonic() - t0) * 1000
    steps, own = collections.Counter(), 0
    for line in out.splitlines():
        ev = json.loads(line)
        if ev.get("event") == "step":
            m = re.search(r"(\d+) ms$", ev.get("detail", ""))
            if m:
                steps[ev["step"]] += int(m.group(1))
        elif ev.get("event") == "report":
            own += ev["report"]["duration_ms"]
    return {"wall": wall, "outside": wall - own, "backup": steps["backup"], "install": steps["install"],
            "restart": steps["restart"], "rest": own - sum(steps.values())}


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(1 << 20):
            h.update(b)
    return h.hexdigest()


def floor_round(work):
    reset(work)
    os.chdir(work)
    deployed = {}
    for root, _, files in os.walk("deploy"):
        for f in files:
            deployed.setdefault((root.split("/")[1], f), os.path.join(root, f))
    jars = [os.path.join(r, f) for top in ("staging", "deploy") for r, _, fs in os.walk(top) for f in fs
            if f.endswith(".jar")]
    pairs = [(os.path.join("staging", a, j), deployed[(a, j)])
             for a in sorted(os.listdir("mutated")) for j in sorted(os.listdir(os.path.join("mutated", a)))]
    t0 = time.monotonic()
    with ProcessPoolExecutor(os.cpu_count()) as ex:
        list(ex.map(sha, jars, chunksize=64))
    t1 = time.monotonic()
    os.mkdir("floor-backup")
    for i, (src, dst) in enumerate(pairs):
        shutil.copyfile(dst, f"floor-backup/{i}.jar")
        shutil.copyfile(src, dst)
    os.sync()
    t2 = time.monotonic()
    return {"hash": (t1 - t0) * 1000, "copy": (t2 - t1) * 1000, "total": (t2 - t0) * 1000,
            "jars": len(jars), "changed": len(pairs)}


def median(rows, key):
    v = sorted(r[key] for r in rows)
    return v[len(v) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runner", required=True)
    ap.add_argument("--work", default="target/bench-release")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    runner, work = os.path.realpath(a.runner), os.path.realpath(a.work)
    if not os.path.isdir(os.path.join(work, "mutated")):
        raise SystemExit(f"no fleet under {work}: run `cargo bench --bench release` once first")
    apps = sorted(os.listdir(os.path.join(work, "fleet")))
    rr, ff = [], []
    for _ in range(a.rounds):
        rr.append(runner_round(work, runner, apps))
        ff.append(floor_round(work))
    f = ff[0]
    print(f"cold release, {len(apps)} apps, {f['jars'] // 2} staged jars, {f['changed']} rewritten; medians of "
          f"{a.rounds}, {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs\n")
    print("| | total | hashing every staged and deployed jar | backup copies | install | restarts | the rest |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| runner release --all | {median(rr, 'wall'):.0f} ms | {median(rr, 'outside'):.0f} ms (with process start "
          f"and config) | {median(rr, 'backup'):.0f} ms | {median(rr, 'install'):.0f} ms | {median(rr, 'restart'):.0f} ms "
          f"| {median(rr, 'rest'):.0f} ms (plan, journal, history) |")
    print(f"| the floor (no safety, no records) | {median(ff, 'total'):.0f} ms | {median(ff, 'hash'):.0f} ms | "
          f"{median(ff, 'copy'):.0f} ms (both copies and one sync) | | | |")


if __name__ == "__main__":
    main()
