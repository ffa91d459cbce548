#!/usr/bin/env python3
"""Fleet release benchmark: N simulated hosts on 127.0.0.1, a no-op restart, runner's rolling
release from a central box with `--batch 1` and `--batch 25%` (and a bigger fleet for scale).

Each "host" is a port of one private sshd (`Match LocalPort` gives each its own RUNNER_CONFIG
and HOME), with its own deploy dir of 40 jars and state dir; the app restarts with `true` and
has nothing to verify, so what is left is runner's work: ssh connection, sync, the release on
the host (lock, plan, backup, install, journal, history) and the orchestration around them.

  bench/fleet.py --runner target/release/runner [--hosts 20] [--scale-hosts 200] [--work DIR]

Prints a table and writes WORK/fleet-results.json. Loopback only; the sshd it starts is killed
at the end.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import zipfile


def free_ports(n, base=29100):
    out = []
    p = base
    while len(out) < n:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            out.append(p)
        except OSError:
            pass
        finally:
            s.close()
        p += 1
    return out


def write_jar(path, seed, size=20000):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        z.writestr("C.class", bytes((seed * 31 + i) % 251 for i in range(size)))


def setup(work, runner, n):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    keys = os.path.join(work, "keys")
    os.makedirs(keys)
    os.chmod(keys, 0o700)
    for k in ("host", "user"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{keys}/{k}"], check=True)
    shutil.copy(f"{keys}/user.pub", f"{keys}/authorized_keys")
    ports = free_ports(n)
    hosts = []
    common = [
        "ListenAddress 127.0.0.1", f"HostKey {keys}/host",
        f"AuthorizedKeysFile {keys}/authorized_keys", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "StrictModes no",
        "UsePAM no", "LogLevel ERROR", "UseDNS no", "MaxStartups 1000", "MaxSessions 1000"]
    # sshd listens on at most 16 sockets: one sshd per 16 hosts
    configs = []
    for k in range(0, n, 16):
        chunk = ports[k:k + 16]
        lines = [f"Port {p}" for p in chunk] + common + [f"PidFile {work}/sshd-{k}.pid"]
        for i, p in enumerate(chunk, start=k):
            h = os.path.join(work, f"host{i:03}")
            for j in range(40):
                write_jar(f"{h}/deploy/demo/lib/lib{j:02}.jar", j)
            with open(f"{h}/runner.toml", "w") as f:
                f.write(f'staging = "{h}/staging"\ndeploy_root = "{h}/deploy"\nbackup_root = "{h}/backup"\n'
                        f'state_dir = "{h}/state"\n[apps.demo]\nrestart = ["true"]\n')
            lines += [f"Match LocalPort {p}", f"  SetEnv RUNNER_CONFIG={h}/runner.toml HOME={h}"]
            hosts.append(f"root@127.0.0.1:{p}")
        configs.append(f"{work}/sshd_config-{k}")
        with open(configs[-1], "w") as f:
            f.write("\n".join(lines) + "\n")
    with open(f"{work}/ssh_config", "w") as f:
        f.write(f"Host *\n  IdentityFile {keys}/user\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n"
                f"  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n")
    c = os.path.join(work, "central")
    os.makedirs(f"{c}/staging/demo")
    listed = ", ".join(f'"{h}"' for h in hosts)
    with open(f"{c}/runner.toml", "w") as f:
        f.write(f'staging = "{c}/staging"\ndeploy_root = "{c}/deploy"\nbackup_root = "{c}/backup"\n'
                f'state_dir = "{c}/state"\n[apps.demo]\nrestart = ["true"]\nhosts = [{listed}]\n'
                f'[fleet]\nssh_options = ["-F", "{work}/ssh_config"]\nagent = "{runner}"\n')
    os.makedirs("/run/sshd", exist_ok=True)
    sshd = [subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", c], start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=open(f"{c}.log", "wb")) for c in configs]
    for p in ports:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", p), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.02)
    return sshd, c, hosts


def roll(runner, central, batch, seed):
    # a new version of 5 of the 40 jars, staged on the central box
    for j in range(5):
        write_jar(f"{central}/staging/demo/lib/lib{j:02}.jar", seed * 100 + j)
    t0 = time.monotonic()
    r = subprocess.run([runner, "-c", f"{central}/runner.toml", "--json", "release", "demo", "--batch", batch],
                       capture_output=True, text=True)
    wall = time.monotonic() - t0
    last = [l for l in r.stdout.splitlines() if '"event":"fleet"' in l]
    if r.returncode != 0 or not last:
        sys.stderr.write(r.stdout[-3000:] + r.stderr[-3000:])
        raise SystemExit(f"fleet release --batch {batch} failed ({r.returncode})")
    rep = json.loads(last[-1])["report"]
    hosts = rep["hosts"]
    assert all(h["outcome"] == "verified" for h in hosts), hosts
    med = lambda k: statistics.median(h[k] for h in hosts)
    over = [h["ms"] - h["connect_ms"] - h["sync_ms"] - h["release_ms"] for h in hosts]
    return {"batch": batch, "hosts": len(hosts), "wall_s": round(wall, 2),
            "host_ms_median": med("ms"), "connect_ms_median": med("connect_ms"),
            "sync_ms_median": med("sync_ms"), "release_ms_median": med("release_ms"),
            "overhead_ms_median": statistics.median(over), "overhead_ms_max": max(over)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runner", required=True)
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--scale-hosts", type=int, default=200)
    ap.add_argument("--work", default="/tmp/runner-fleet-bench")
    a = ap.parse_args()
    runner = os.path.realpath(a.runner)
    results = []
    for n, batches in ((a.hosts, ["1", "25%"]), (a.scale_hosts, ["25%"])):
        if n <= 0:
            continue
        sshd, central, _ = setup(os.path.join(a.work, f"n{n}"), runner, n)
        try:
            roll(runner, central, "100%", 1)  # first fill: every host gets all jars
            for i, b in enumerate(batches):
                res = roll(runner, central, b, 2 + i)
                print(json.dumps(res), file=sys.stderr)
                results.append(res)
        finally:
            for p in sshd:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait()
    with open(os.path.join(a.work, "fleet-results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"{'hosts':>5} {'batch':>6} {'total':>8} {'per host':>9} {'ssh+hello':>10} {'sync':>6} "
          f"{'release there':>14} {'orchestration':>14}")
    for r in results:
        print(f"{r['hosts']:>5} {r['batch']:>6} {r['wall_s']:>7}s {r['host_ms_median']:>7}ms "
              f"{r['connect_ms_median']:>8}ms {r['sync_ms_median']:>4}ms {r['release_ms_median']:>12}ms "
              f"{r['overhead_ms_median']:>7}ms (max {r['overhead_ms_max']})")


if __name__ == "__main__":
    main()
