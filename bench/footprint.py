#!/usr/bin/env python3
"""`runner watch`'s own footprint at idle, and what makes it up.

27 [[sync]] rows (20 apps of 40 files, a third of them to two hosts) to 2 private sshd on
127.0.0.1 (throwaway keys, empty HOME), `runner watch` started, its first reconcile awaited,
then after 3 s idle: the PSS of runner and of its children (/proc/<pid>/smaps_rollup), its
threads by name, and its anonymous memory. With --before, an earlier build measured the same
way in the same run.

Usage: python3 bench/footprint.py --runner target/release/runner [--before FILE]
"""
import argparse
import collections
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROWS = 27


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid):
    kids = collections.defaultdict(list)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            st = open(f"/proc/{d}/stat").read()
        except OSError:
            continue
        kids[int(st[st.rfind(")") + 2:].split()[1])].append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def field(path, name):
    for line in open(path):
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def setup(work):
    sshd = os.path.join(work, "sshd")
    os.makedirs(sshd)
    os.makedirs(os.path.join(work, "home"))
    for k in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(sshd, k)], check=True)
    shutil.copy(os.path.join(sshd, "user_key.pub"), os.path.join(sshd, "authorized_keys"))
    os.makedirs("/run/sshd", exist_ok=True)
    ports, procs = [], []
    for _ in range(2):
        port = free_port()
        cfg = os.path.join(sshd, f"sshd_config-{port}")
        with open(cfg, "w") as f:
            f.write(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {sshd}/host_key\nPidFile {sshd}/{port}.pid\n"
                    f"AuthorizedKeysFile {sshd}/authorized_keys\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\n"
                    f"UsePAM no\nLogLevel ERROR\nSetEnv HOME={work}/home\n")
        procs.append(subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", cfg], stderr=subprocess.DEVNULL))
        ports.append(port)
    for port in ports:
        for _ in range(200):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.02)
    client = os.path.join(work, "ssh_config")
    with open(client, "w") as f:
        f.write(f"Host *\n IdentityFile {sshd}/user_key\n IdentitiesOnly yes\n StrictHostKeyChecking no\n"
                " UserKnownHostsFile /dev/null\n LogLevel ERROR\n")
    rows = []
    for a in range(20):
        src = os.path.join(work, "staging", f"app{a}")
        os.makedirs(os.path.join(src, "lib"))
        for j in range(40):
            with open(os.path.join(src, "lib", f"f{j}.dat"), "wb") as f:
                f.write(os.urandom(20000))
        for port in ports[: 1 if a % 3 else 2]:
            rows.append((src, port))
    assert len(rows) == ROWS
    return ports, procs, client, rows


def measure(work, runner, client, rows, tag):
    run = os.path.join(work, tag)
    os.makedirs(run)
    cfg = os.path.join(run, "runner.toml")
    with open(cfg, "w") as f:
        f.write(f'staging = "{work}/staging"\ndeploy_root = "{run}/deploy"\nbackup_root = "{run}/backup"\n'
                f'state_dir = "{run}/state"\n')
        for src, port in rows:
            f.write(f'\n[[sync]]\nsource = "{src}"\n'
                    f'target = "ssh://root@127.0.0.1:{port}{run}/targets/{port}/{os.path.basename(src)}"\n'
                    f'ssh_options = ["-F", "{client}"]\nagent = "{runner}"\n')
    log = os.path.join(run, "watch.log")
    w = subprocess.Popen([runner, "-c", cfg, "watch", "--log-format", "json"], stdout=subprocess.DEVNULL,
                         stderr=open(log, "wb"), start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while open(log).read().count('"synced"') < ROWS:
            if time.monotonic() > deadline or w.poll() is not None:
                sys.exit(f"{tag}: no first reconcile: {open(log).read()[-2000:]}")
            time.sleep(0.05)
        time.sleep(3)  # idle: the measurement is of the service at rest
        procs = descendants(w.pid)
        by = collections.defaultdict(lambda: [0, 0])
        for p in procs:
            comm = open(f"/proc/{p}/comm").read().strip()
            by["runner" if p == w.pid else comm][0] += 1
            by["runner" if p == w.pid else comm][1] += field(f"/proc/{p}/smaps_rollup", "Pss")
        threads = collections.Counter(open(f"/proc/{w.pid}/task/{t}/comm").read().strip()
                                      for t in os.listdir(f"/proc/{w.pid}/task"))
        return {"pss_kb": sum(v[1] for v in by.values()), "processes": len(procs),
                "by": {k: tuple(v) for k, v in by.items()}, "threads": dict(threads),
                "anon_kb": field(f"/proc/{w.pid}/status", "RssAnon")}
    finally:
        os.killpg(w.pid, signal.SIGTERM)
        w.wait(30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runner", required=True)
    ap.add_argument("--before")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="runner-footprint-")
    ports, procs, client, rows = setup(work)
    try:
        builds = [("this build", os.path.realpath(a.runner))]
        if a.before:
            builds.insert(0, ("before", os.path.realpath(a.before)))
        print(f"runner watch at idle: {ROWS} rows (20 apps x 40 files) to 2 sshd on 127.0.0.1; "
              f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs\n")
        print("| build | processes | PSS, all | runner's PSS | its anonymous RSS | ssh clients | threads |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for i, (tag, runner) in enumerate(builds):
            m = measure(work, runner, client, rows, f"run{i}")
            r = m["by"].pop("runner")
            ssh = m["by"].get("ssh", (0, 0))
            threads = ", ".join(f"{n} {k}" for k, n in sorted(m["threads"].items(), key=lambda x: -x[1]))
            print(f"| {tag} | {m['processes']} | {m['pss_kb'] / 1024:.1f} MB | {r[1] / 1024:.1f} MB | "
                  f"{m['anon_kb'] / 1024:.1f} MB | {ssh[0]}, {ssh[1] / 1024:.1f} MB | {threads} |")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
