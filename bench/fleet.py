#!/usr/bin/env python3
"""Fleet release benchmark: N simulated hosts on 127.0.0.1, a no-op restart, runner's rolling
release from a central box with `--batch 1` and `--batch 25%` (and a bigger fleet for scale), and
`--batch 25%` again with every host behind one private nginx, drained by nginx-drain (a batch
at a time) with a 0 ms drain wait, so what is measured is the drain's own work: the upstream
edit, `nginx -t` and the reload, per batch, and the put-back per host.

Each "host" is a port of one private sshd (`Match LocalPort` gives each its own RUNNER_CONFIG
and HOME), with its own deploy dir of 40 jars and state dir; the app restarts with `true` and
has nothing to verify, so what is left is runner's work: ssh connection, sync, the release on
the host (lock, plan, backup, install, journal, history) and the orchestration around them.

  With `--agent FILE` (the static build), first the agent install: every host lacks runner and
`release --install-agent` puts FILE on all of them at once (gzipped, unpacked and checked
there), beside the baseline of the same file sent plain over ssh to all of them at once
(`ssh host 'cat > file'`, what a hand-rolled copy does).

  bench/fleet.py --runner target/release/runner [--hosts 20] [--scale-hosts 200] [--work DIR]
                [--plugin target/plugins/wasm32-wasip2/release/nginx_drain.wasm] [--agent FILE]

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


NGINX = next((p for p in ("/usr/sbin/nginx", "/usr/bin/nginx") if os.path.exists(p)), "nginx")


def with_drain(work, central, hosts, plugin):
    """A private nginx whose upstream has a server per host, and a second central config with
    nginx-drain; its reload command logs each reload. Returns (config, nginx prefix, reload log)."""
    prefix = os.path.join(work, "nginx")
    os.makedirs(f"{prefix}/conf.d", exist_ok=True)
    os.makedirs(f"{prefix}/logs", exist_ok=True)
    # The servers are addresses nothing is sent to (no load here): the hosts' sshd ports.
    servers = {h: f"127.0.0.1:{h.rsplit(':', 1)[1]}" for h in hosts}
    with open(f"{prefix}/conf.d/demo-upstream.conf", "w") as f:
        f.write("upstream demo {\n" + "".join(f"    server {s};\n" for s in servers.values()) + "}\n")
    port = free_ports(1, base=29900)[0]
    with open(f"{prefix}/nginx.conf", "w") as f:
        f.write(f"worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log;\n"
                f"events {{ worker_connections 64; }}\nhttp {{\n  access_log off;\n"
                f"  include {prefix}/conf.d/*.conf;\n"
                f"  server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://demo; }} }}\n}}\n")
    args = ["-p", prefix, "-c", f"{prefix}/nginx.conf", "-e", f"{prefix}/logs/error.log"]
    subprocess.run([NGINX, *args], check=True)
    log = f"{work}/reloads.log"
    reload = f"{work}/reload.sh"
    with open(reload, "w") as f:
        f.write(f"#!/bin/sh\necho reload >> {log}\nexec {NGINX} {' '.join(args)} -s reload\n")
    os.chmod(reload, 0o755)
    conf = f"{central}/runner-drain.toml"
    listed = ", ".join(f'"{h}" = "{s}"' for h, s in servers.items())
    quoted = lambda argv: "[" + ", ".join(f'"{a}"' for a in argv) + "]"
    with open(f"{central}/runner.toml") as src, open(conf, "w") as f:
        f.write(src.read())
        f.write(f'\n[[plugin]]\nname = "drain"\nwasm = "{plugin}"\ntimeout = "30s"\n'
                f'allow = {{ exec = ["{NGINX}", "{reload}"], rw = ["{prefix}/conf.d"] }}\n'
                f'config = {{ upstream = "{prefix}/conf.d/demo-upstream.conf", servers = {{ {listed} }}, '
                f'test = {quoted([NGINX, *args, "-t"])}, reload = ["{reload}"], drain = "0ms" }}\n')
    return conf, args, log


def roll(runner, central, batch, seed, config=None, reloads=None):
    # a new version of 5 of the 40 jars, staged on the central box
    for j in range(5):
        write_jar(f"{central}/staging/demo/lib/lib{j:02}.jar", seed * 100 + j)
    t0 = time.monotonic()
    config = config or f"{central}/runner.toml"
    if reloads and os.path.exists(reloads):
        os.remove(reloads)
    r = subprocess.run([runner, "-c", config, "--json", "release", "demo", "--batch", batch],
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
    # The central hook calls each host waited for: its own (before-/after-host, with the time it
    # queued behind other hosts' calls of the same plugin) and its batch's.
    hist = subprocess.run([runner, "-c", config, "--json", "history", "demo", "--limit", "1"],
                          capture_output=True, text=True, check=True)
    calls = json.loads(hist.stdout)["records"][-1].get("hooks", [])
    hook_ms = {h["host"]: sum(c["micros"] + c.get("waited_micros", 0) for c in calls
                              if c.get("host") == h["host"] or h["host"] in c.get("batch", [])) / 1000
               for h in hosts}
    # With a drain, a batch starts only once all of its hosts connected: what a host waits for
    # the slowest connect of its batch is that barrier, not runner's work.
    barrier = [0] * len(hosts)
    if reloads:
        size = -(-len(hosts) * int(batch.rstrip("%")) // 100) if batch.endswith("%") else int(batch)
        for b in range(0, len(hosts), size):
            group = hosts[b:b + size]
            slowest = max(h["connect_ms"] for h in group)
            for k, h in enumerate(group):
                barrier[b + k] = slowest - h["connect_ms"]
    n_reloads = None
    if reloads:
        with open(reloads) as f:
            n_reloads = sum(1 for _ in f)
    return {"batch": batch, "hosts": len(hosts), "wall_s": round(wall, 2), "drain": bool(reloads),
            "reloads": n_reloads,
            "host_ms_median": med("ms"), "connect_ms_median": med("connect_ms"),
            "sync_ms_median": med("sync_ms"), "release_ms_median": med("release_ms"),
            "overhead_ms_median": statistics.median(over), "overhead_ms_max": max(over),
            "hooks_ms_median": round(statistics.median(hook_ms.values()), 1),
            "barrier_ms_median": statistics.median(barrier),
            "runner_ms_median": round(statistics.median(o - hook_ms[h["host"]] - w for o, h, w in zip(over, hosts, barrier)), 1),
            "runner_ms_max": round(max(o - hook_ms[h["host"]] - w for o, h, w in zip(over, hosts, barrier)), 1)}


def install(runner, work, central, hosts, agent):
    """--install-agent on every host at once, then the plain-ssh baseline of the same file."""
    conf = f"{central}/runner-install.toml"
    with open(f"{central}/runner.toml") as f:
        text = f.read().replace(f'agent = "{runner}"', f'agent = "{work}/nowhere/runner"')
    with open(conf, "w") as f:
        f.write(text + f'agent_binary = "{agent}"\n')
    for i in range(len(hosts)):
        shutil.rmtree(os.path.join(work, f"host{i:03}", ".runner"), ignore_errors=True)
    t0 = time.monotonic()
    r = subprocess.run([runner, "-c", conf, "--json", "release", "demo", "--install-agent",
                        "--batch", "100%", "--yes"], capture_output=True, text=True)
    wall = time.monotonic() - t0
    last = [l for l in r.stdout.splitlines() if '"event":"fleet"' in l]
    if r.returncode != 0 or not last:
        sys.stderr.write(r.stdout[-3000:] + r.stderr[-3000:])
        raise SystemExit(f"release --install-agent failed ({r.returncode})")
    rep = json.loads(last[-1])["report"]["hosts"]
    sent = [h["agent_install"]["bytes_sent"] for h in rep]
    connect = statistics.median(h["connect_ms"] for h in rep)
    # The baseline: the same file, plain, to every host at once over the same ssh.
    t0 = time.monotonic()
    procs = []
    for h in hosts:
        dest, port = h.rsplit(":", 1)
        with open(agent, "rb") as body:
            procs.append(subprocess.Popen(
                ["ssh", "-F", f"{work}/ssh_config", "-p", port, dest,
                 "mkdir -p .runner/plain && cat > .runner/plain/runner && chmod 755 .runner/plain/runner"],
                stdin=body))
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("plain ssh copy failed")
    plain = time.monotonic() - t0
    return {"install": True, "hosts": len(hosts), "bytes": os.path.getsize(agent),
            "bytes_sent_per_host": sent[0], "wall_s": round(wall, 2),
            "connect_ms_median": connect, "plain_copy_s": round(plain, 2)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runner", required=True)
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--scale-hosts", type=int, default=200)
    ap.add_argument("--work", default="/tmp/runner-fleet-bench")
    ap.add_argument("--plugin", default="target/plugins/wasm32-wasip2/release/nginx_drain.wasm")
    ap.add_argument("--agent", help="the static runner --install-agent sends (measures the install)")
    a = ap.parse_args()
    runner = os.path.realpath(a.runner)
    plugin = os.path.realpath(a.plugin)
    results = []
    for n, batches in ((a.hosts, ["1", "25%"]), (a.scale_hosts, ["25%"])):
        if n <= 0:
            continue
        work = os.path.join(a.work, f"n{n}")
        sshd, central, hosts = setup(work, runner, n)
        nginx = None
        try:
            if a.agent and n == a.hosts:
                res = install(runner, work, central, hosts, os.path.realpath(a.agent))
                print(json.dumps(res), file=sys.stderr)
                results.append(res)
            # First fill: every host gets all jars, over fresh logins. The rolls after it reuse
            # those logins (runner's ControlPersist keeps each host's connection 60 s).
            res = roll(runner, central, "100%", 1)
            res["first"] = True
            print(json.dumps(res), file=sys.stderr)
            results.append(res)
            for i, b in enumerate(batches):
                res = roll(runner, central, b, 2 + i)
                print(json.dumps(res), file=sys.stderr)
                results.append(res)
            if n == a.hosts:
                conf, nginx, log = with_drain(work, central, hosts, plugin)
                res = roll(runner, central, "25%", 9, config=conf, reloads=log)
                print(json.dumps(res), file=sys.stderr)
                results.append(res)
        finally:
            for p in sshd:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait()
            if nginx:
                subprocess.run([NGINX, *nginx, "-s", "stop"])
    with open(os.path.join(a.work, "fleet-results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"{'hosts':>5} {'batch':>6} {'drain':>6} {'total':>8} {'per host':>9} {'ssh+hello':>10} {'sync':>6} "
          f"{'release there':>14} {'orchestration':>14} {'of it: hooks':>13} {'barrier':>8} {'runner':>16} {'reloads':>8}")
    for r in results:
        if r.get("install"):
            print(f"agent install on {r['hosts']} hosts at once: {r['wall_s']}s with --install-agent "
                  f"(release included; {r['bytes_sent_per_host']} of {r['bytes']} bytes sent per host, "
                  f"connect+install median {r['connect_ms_median']} ms) vs {r['plain_copy_s']}s to "
                  f"copy the binary plain over ssh")
            continue
        batch = f"{r['batch']}*" if r.get("first") else r['batch']
        print(f"{r['hosts']:>5} {batch:>6} {'yes' if r['drain'] else 'no':>6} {r['wall_s']:>7}s "
              f"{r['host_ms_median']:>7}ms {r['connect_ms_median']:>8}ms {r['sync_ms_median']:>4}ms "
              f"{r['release_ms_median']:>12}ms {r['overhead_ms_median']:>7}ms (max {r['overhead_ms_max']}) "
              f"{r['hooks_ms_median']:>11}ms {r['barrier_ms_median']:>6}ms {r['runner_ms_median']:>6}ms (max {r['runner_ms_max']}) "
              f"{r['reloads'] if r['reloads'] is not None else '-':>8}")
    if any(r.get("first") for r in results):
        print("* the first roll: every jar to every host, over fresh ssh logins (the rolls after it "
              "reuse them)")


if __name__ == "__main__":
    main()
