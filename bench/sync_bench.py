#!/usr/bin/env python3
"""runner's side of bench/sync.sh: the same fleet, the same changes and the same measuring code
as the baseline (../shared/bench/lib/rsyncbench.py, imported, not copied), with `runner watch`
in place of the inotifywait+rsync loops and ssh:// targets in place of rsync daemons.

  measure --work W --shared S --runner BIN --out R [--repeats N ...]
      3 sshd on 127.0.0.1 (one per simulated host, throwaway keys), a runner.toml with one
      [[sync]] row per (app, host) triple of the fleet, then:
        (a) `runner sync` into empty targets, and no-change `runner sync` (-j 8 and -j 1);
            `runner watch`'s own full reconcile over its open sessions (SIGHUP), repeated;
        (b)(c)(d)(e) rsyncbench's `live` scenarios against `runner watch`, where "rsync runs"
            counts the files runner sent (from its JSON log) instead of rsync invocations.
  report --results DIR
      the side-by-side table from results-{blog,nodelay,runner}.json, with ratios.

Loopback only. Every process started here gets its own session; all are killed at the end.
"""
import argparse
import importlib.util
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time

LOOPBACK = "127.0.0.1"


def load_rsyncbench(shared):
    spec = importlib.util.spec_from_file_location("rsyncbench", os.path.join(shared, "lib", "rsyncbench.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    load_rsyncbench.mod = mod
    return mod


def log(*x):
    print(f"[sync_bench {time.strftime('%T')}]", *x, file=sys.stderr, flush=True)


class Procs:
    """Processes started here, each in its own session; killed by group at the end."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL, **kw)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        t_end = time.monotonic() + 5
        for p in self.procs:
            try:
                p.wait(max(0.1, t_end - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def json_lines(path, off0=0, off1=None):
    with open(path, "rb") as f:
        f.seek(off0)
        data = f.read() if off1 is None else f.read(max(0, off1 - off0))
    for line in data.splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        fields = d.get("fields", d)
        yield fields


def synced_lines(path, off0=0, off1=None):
    return [f for f in json_lines(path, off0, off1) if f.get("message") == "synced"]


def free_ports(rb, start, n):
    """The first of n consecutive free loopback ports at or above start (the baseline's own helper)."""
    return int(subprocess.run([sys.executable, rb.__file__, "free-ports", str(start), str(n)],
                              capture_output=True, text=True, check=True).stdout)


class Tree:
    """CPU of server processes and all their descendants: sshd gives every session its own
    session id, and runner keeps its sessions open, so a process-group sum would miss them."""

    def __init__(self, roots):
        self.roots = set(int(p) for p in roots)

    def members(self, procs=None):
        parent = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        st = f.read()
                    parent[int(d)] = int(st[st.rfind(")") + 2:].split()[1])
                except (OSError, ValueError, IndexError):
                    pass
        procs = procs if procs is not None else load_rsyncbench.mod.read_procs()
        out = {}
        for pid in procs:
            p, seen = pid, 0
            while p and p not in self.roots and seen < 64:
                p, seen = parent.get(p, 0), seen + 1
            if p in self.roots:
                out[pid] = procs[pid]
        return out

    def cpu_s(self, procs=None):
        return sum(v[2] for v in self.members(procs).values()) / load_rsyncbench.mod.CLK

    def count(self, comm, procs=None):
        return sum(1 for v in self.members(procs).values() if v[0] == comm)


def start_sshds(rb, procs, work, hosts, log_level="ERROR", home=None):
    """One sshd per simulated host on 127.0.0.1. `home`: the HOME its sessions get (sshd's
    SetEnv), so the login shell reads that dir's dotfiles rather than the account's."""
    d = os.path.join(work, "runner-ssh")
    subprocess.run(["rm", "-rf", d], check=True)
    os.makedirs(d)
    os.chmod(d, 0o700)
    for k in ("host", "user"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"bench-{k}",
                        "-f", os.path.join(d, f"{k}_key")], check=True)
    with open(os.path.join(d, "user_key.pub")) as f, open(os.path.join(d, "authorized_keys"), "w") as o:
        o.write(f.read())
    os.makedirs("/run/sshd", exist_ok=True)
    base = free_ports(rb, 28850, len(hosts))
    out = {}
    for i, h in enumerate(hosts):
        port = base + i
        conf = os.path.join(d, f"sshd-{h}.conf")
        with open(conf, "w") as f:
            f.write(f"""Port {port}
ListenAddress {LOOPBACK}
HostKey {d}/host_key
PidFile {d}/sshd-{h}.pid
AuthorizedKeysFile {d}/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
LogLevel {log_level}
UseDNS no
MaxStartups 100
MaxSessions 100
""" + (f"SetEnv HOME={home}\n" if home else ""))
        p = procs.start(["/usr/sbin/sshd", "-D", "-e", "-f", conf],
                        stdout=open(os.path.join(d, f"sshd-{h}.log"), "ab"), stderr=subprocess.STDOUT)
        out[h] = {"port": port, "pgid": p.pid}
    for h in hosts:
        subprocess.run([sys.executable, rb.__file__, "wait-port", str(out[h]["port"]), "15"], check=True)
    with open(os.path.join(d, "ssh_config"), "w") as f:
        f.write(f"""Host {LOOPBACK}
  IdentityFile {d}/user_key
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
""")
    return d, out


def start_rsyncds(rb, procs, work, hosts, watchers, targets):
    """One rsync daemon per simulated host (as the baseline has them), a module per target dir."""
    d = os.path.join(work, "runner-rsyncd")
    subprocess.run(["rm", "-rf", d], check=True)
    os.makedirs(d)
    pw = os.path.join(d, "rsync.password")
    secret = "bench-" + os.urandom(8).hex()
    with open(pw, "w") as f:
        f.write(secret + "\n")
    with open(os.path.join(d, "secrets"), "w") as f:
        f.write(f"rsync_backup:{secret}\n")
    os.chmod(pw, 0o600)
    os.chmod(os.path.join(d, "secrets"), 0o600)
    base = free_ports(rb, 28870, len(hosts))
    out = {}
    for i, h in enumerate(hosts):
        port = base + i
        conf = os.path.join(d, f"rsyncd-{h}.conf")
        with open(conf, "w") as f:
            f.write(f"port = {port}\naddress = {LOOPBACK}\nuid = root\ngid = root\nuse chroot = no\n"
                    f"max connections = 200\nread only = no\nlist = false\nhosts allow = {LOOPBACK}\n"
                    f"auth users = rsync_backup\nsecrets file = {d}/secrets\n")
            for w in watchers:
                if w["host"] == h:
                    path = os.path.join(targets, h, w["app"])
                    os.makedirs(path, exist_ok=True)
                    f.write(f"\n[{w['module']}]\npath = {path}\n")
        p = procs.start(["rsync", "--daemon", "--no-detach", f"--config={conf}"],
                        stdout=open(os.path.join(d, f"rsyncd-{h}.log"), "ab"), stderr=subprocess.STDOUT)
        out[h] = {"port": port, "pgid": p.pid}
    for h in hosts:
        subprocess.run([sys.executable, rb.__file__, "wait-port", str(out[h]["port"]), "15"], check=True)
    return pw, out


def timed(argv, server_groups):
    c0 = server_groups.cpu_s()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    time.sleep(0.3)  # let sshd reap its session children
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode:
        sys.stderr.write(r.stderr.decode(errors="replace")[-3000:])
        raise SystemExit(f"{argv} failed with {r.returncode}")
    rep = json.loads(r.stdout)["targets"]
    return {"wall_s": round(wall, 3),
            "client_cpu_s": round((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime), 3),
            "server_cpu_s": round(server_groups.cpu_s() - c0, 3),
            "targets": len(rep), "sent": sum(x["sent"] for x in rep),
            "bytes": sum(x["bytes"] for x in rep), "unchanged": sum(x["unchanged"] for x in rep)}


def cmd_measure(a):
    rb = load_rsyncbench(a.shared)
    work = os.path.realpath(a.work)
    manifest = json.load(open(os.path.join(work, "fleet.json")))
    staging = os.path.join(work, "staging")
    targets = os.path.join(work, "runner-targets")
    run = os.path.join(work, "runner-run")
    subprocess.run(["rm", "-rf", targets, run], check=True)
    os.makedirs(run)
    hosts = sorted({w["host"] for w in manifest["watchers"]})
    procs = Procs()
    res = {"meta": {"variant": "runner-" + a.transport, "transport": a.transport, "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                    "runner": subprocess.run([a.runner, "--version"], capture_output=True, text=True).stdout.strip(),
                    "ssh": subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip(),
                    "cpus": os.cpu_count(), "watchers": len(manifest["watchers"]), "hosts": len(hosts),
                    "files": manifest["totals"]["files"], "target_mb": round(manifest["totals"]["target_bytes"] / 2 ** 20, 1)}}
    try:
        if a.transport == "ssh":
            sshdir, servers = start_sshds(rb, procs, work, hosts)
        else:
            pwfile, servers = start_rsyncds(rb, procs, work, hosts, manifest["watchers"], targets)
        server = Tree([v["pgid"] for v in servers.values()])
        cfg = os.path.join(run, "runner.toml")
        with open(cfg, "w") as f:
            f.write(f'staging = "{staging}"\ndeploy_root = "{run}/deploy"\nbackup_root = "{run}/backup"\n'
                    f'state_dir = "{run}/state"\n')
            for w in manifest["watchers"]:
                port = servers[w["host"]]["port"]
                f.write(f'\n[[sync]]\nsource = "{staging}/{w["app"]}"\n')
                if a.transport == "ssh":
                    f.write(f'target = "ssh://root@{LOOPBACK}:{port}{targets}/{w["host"]}/{w["app"]}"\n'
                            f'ssh_options = ["-F", "{sshdir}/ssh_config"]\nagent = "{a.runner}"\n')
                else:
                    f.write(f'target = "rsync://rsync_backup@{LOOPBACK}:{port}/{w["module"]}"\n'
                            f'password_file = "{pwfile}"\n')
        base = [a.runner, "-c", cfg, "--json", "sync"]

        log("(a) runner sync -j 8, empty targets")
        res["fullsync_runner"] = timed(base + ["-j", "8"], server)
        log(res["fullsync_runner"])
        res["noop_runner_j8"] = [timed(base + ["-j", "8"], server) for _ in range(3)]
        res["noop_runner_j1"] = [timed(base + ["-j", "1"], server) for _ in range(3)]
        log("(a) no-op", res["noop_runner_j8"][-1], res["noop_runner_j1"][-1])

        wlog = os.path.join(run, "runner.log")
        watch = procs.start([a.runner, "-c", cfg, "watch", "--log-format", "json"],
                            stdout=subprocess.DEVNULL, stderr=open(wlog, "wb"))
        n = len(manifest["watchers"])
        t_end = time.monotonic() + 120
        while len(synced_lines(wlog)) < n:
            if time.monotonic() > t_end or watch.poll() is not None:
                raise SystemExit(f"runner watch did not finish its first reconcile: {open(wlog).read()[-2000:]}")
            time.sleep(0.02)
        log("watch up")

        # runner watch's own drift repair over its open sessions, on demand (SIGHUP)
        recon = []
        for _ in range(5):
            off = os.path.getsize(wlog)
            c0 = rb.Groups([watch.pid]).cpu_s()
            t0 = time.monotonic()
            os.kill(watch.pid, signal.SIGHUP)
            while len(synced_lines(wlog, off)) < n:
                time.sleep(0.002)
            wall = time.monotonic() - t0
            lines = synced_lines(wlog, off)
            recon.append({"wall_s": round(wall, 4), "sent": sum(x.get("sent", 0) for x in lines),
                          "worker_ms_sum": sum(x.get("ms", 0) for x in lines),
                          "watcher_cpu_s": round(rb.Groups([watch.pid]).cpu_s() - c0, 3)})
            time.sleep(0.3)
        res["reconcile_watch"] = recon
        log("(a) watch reconcile", recon[-1])
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)

        # the baseline's live scenarios, measured by its own code
        env = {"work": work, "run_dir": run, "staging": staging, "targets": targets,
               "manifest": os.path.join(work, "fleet.json"), "log": wlog, "password_file": "",
               "user": "root", "ip": LOOPBACK,
               "hosts": {h: {"port": servers[h]["port"], "pgid": servers[h]["pgid"],
                             "target_root": os.path.join(targets, h)} for h in hosts},
               "watchers": [dict(w, dir=os.path.join(staging, w["app"]) + "/", port=servers[w["host"]]["port"],
                                 target_dir=os.path.join(targets, w["host"], w["app"]), pgid=watch.pid)
                            for w in manifest["watchers"]],
               "params": {"repeats": a.repeats, "repeats_all": a.repeats_all, "idle_s": a.idle_s,
                          "burst_n": a.burst}}
        env_path = os.path.join(run, "env.json")
        with open(env_path, "w") as f:
            json.dump(env, f, indent=1)
        # "rsync runs" becomes "files runner sent"; runner has no rsync children to wait for
        rb.Activity.rsync_runs = lambda self, o0, o1: sum(x.get("sent", 0) for x in synced_lines(self.env.log, o0, o1))
        rb.Activity.busy = lambda self: False
        env_init = rb.Env.__init__

        def init(self, path):
            env_init(self, path)
            self.dgroups = Tree([h["pgid"] for h in self.hosts.values()])
        rb.Env.__init__ = init
        # the agent keeps its hash cache in a hidden dir inside each target root
        compare = rb.compare_trees
        rb.compare_trees = lambda src, dst: (lambda m, e, d: (m, [x for x in e if not x.startswith(".runner-agent/")], d))(
            *compare(src, dst))
        rb.cmd_live(argparse.Namespace(env=env_path, out=a.out))
        rb.cmd_verify(argparse.Namespace(env=env_path, out=a.out, label="end"))
        data = rb.load_json(a.out)
        data["live"]["footprint"]["inotify_watches"] = rb.inotify_watch_count(watch.pid)

        os.kill(watch.pid, signal.SIGTERM)
        t0 = time.monotonic()
        rc = watch.wait(30)
        data["sigterm"] = {"exit_code": rc, "stop_ms": round((time.monotonic() - t0) * 1000, 1)}
        errors = [f for f in json_lines(wlog) if f.get("level") in ("ERROR",)]
        data["log_errors"] = len(errors)
        with open(a.out + ".tmp", "w") as f:
            json.dump(data, f, indent=1)
        os.replace(a.out + ".tmp", a.out)
    finally:
        procs.stop_all()


# ----------------------------------------------------------------------------------- report

def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float):
        v = round(v, 1) if abs(v) < 100 else int(round(v))
    return f"{v}{unit}"


def secs(v):
    if v is None:
        return "-"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.1f} s"


def ratio(base, ours):
    if base is None or ours in (None, 0):
        return "-"
    return f"{base / ours:.1f}x"


def cmd_report(a):
    names = ("blog", "nodelay", "runner-ssh", "runner-rsync")
    R = {v: json.load(open(os.path.join(a.results, f"results-{v}.json"))) for v in names}
    B, N, S, Y = (R[v] for v in names)
    cols = (("verbatim", B), ("nodelay", N), ("runner ssh", S), ("runner rsync", Y))
    meta = B["meta"]
    L = [f"# Sync: inotifywait+rsync loops vs runner watch  ({S['meta']['when']})",
         f"fleet: {meta['apps']} apps, {meta['files']} jars, {meta['staging_mb']} MB staging, {meta['watchers']} (app, host) "
         f"targets on {meta['hosts']} simulated hosts ({meta['target_mb']} MB); scale={meta['scale']}; {meta['cpus']} CPUs",
         f"verbatim/nodelay = the blog's loops against rsync daemons (without/with TCP_NODELAY); runner ssh = "
         f"runner watch over ssh:// ({S['meta']['ssh']}, default ciphers and kex); runner rsync = runner watch "
         f"driving rsync against the same kind of daemons (rsync://)",
         "ratios = nodelay loop / runner (above 1: runner is faster)", ""]

    def lat(d, k):
        return d["live"]["latency"][k]["summary"]

    hdr = f"  {'change -> every target holds it':<32}" + "".join(f"{n:>14}" for n, _ in cols) + f"{'ssh vs nodelay':>16}{'rsync vs nodelay':>18}"
    L += ["(b) latency, median (p90) ms", hdr]
    labels = {"k1": "1 lib jar", "k10": "10 lib jars", "kall": "every jar of the app", "fat1": "1 fat jar"}
    for k in S["live"]["latency"]:
        u = lat(S, k)
        cell = lambda s: f"{fmt(s.get('median'))}({fmt(s.get('p90'))})"
        L.append(f"  {labels.get(k, k) + ' (' + str(u['files']) + ' files)':<32}" + "".join(f"{cell(lat(d, k)):>14}" for _, d in cols)
                 + f"{ratio(lat(N, k).get('median'), u.get('median')):>16}{ratio(lat(N, k).get('median'), lat(Y, k).get('median')):>18}")
    L += ["", f"  {'transfers per changed file per target':<32}" + "".join(f"{n:>14}" for n, _ in cols)]
    for k in S["live"]["latency"]:
        hosts = S["live"]["latency"][k]["hosts"]
        per = lambda s: round(s.get("rsync_runs_median", 0) / max(1, s["files"] * hosts), 2)
        L.append(f"  {labels.get(k, k):<32}" + "".join(f"{per(lat(d, k)):>14}" for _, d in cols))
    L.append("  (loops: rsync runs of the whole dir per changed file; runner: files sent per changed file)")

    L += ["", "(c) a jar uploaded in 64 KiB chunks over ~4 s: versions at the target's final name that were not the finished jar"]
    for i, pt in enumerate(S["live"]["partial"]):
        cells = ", ".join(f"{n} {d['live']['partial'][i]['truncated_versions']} (invalid zip "
                          f"{d['live']['partial'][i]['invalid_zip_versions']})" for n, d in cols)
        L.append(f"  {pt['mode']:<20} {cells}; final version at every target after the write ended: runner ssh "
                 f"{fmt(pt['final_match_after_write_ms'], ' ms')}, runner rsync "
                 f"{fmt(Y['live']['partial'][i]['final_match_after_write_ms'], ' ms')}")
    L += ["", "(e) a jar delivered by rename"]
    for i, m in enumerate(S["live"]["missed"]):
        cells = ", ".join(f"{n} " + (fmt(d["live"]["missed"][i]["latency_ms"], " ms") if d["live"]["missed"][i]["synced"]
                                     else "never pushed") for n, d in cols)
        L.append(f"  {m['case']:<20} {cells}")

    ssh = B.get("ssh", {})
    med = lambda xs, k: statistics.median(x[k] for x in xs)

    def runner_rows(d, tag):
        j8 = {k: med(d["noop_runner_j8"], k) for k in ("wall_s", "client_cpu_s", "server_cpu_s")}
        j1 = {k: med(d["noop_runner_j1"], k) for k in ("wall_s", "client_cpu_s", "server_cpu_s")}
        rw = {"wall_s": med(d["reconcile_watch"], "wall_s"), "client_cpu_s": med(d["reconcile_watch"], "watcher_cpu_s"),
              "server_cpu_s": None}
        return j8, j1, rw

    s8, s1, sw = runner_rows(S, "ssh")
    y8, y1, yw = runner_rows(Y, "rsync")
    L += ["", f"(a) whole fleet, every target {'':<33}  wall  client CPU  server CPU"]
    rows = [("initial sync into empty targets", None),
            ("  loops' rsync, daemon, 1 run per target, verbatim", B.get("fullsync_loopflags")),
            ("  loops' rsync, daemon, 1 run per target, nodelay", N.get("fullsync_loopflags")),
            ("  rsync -a over ssh, 1 connection per target", ssh.get("s4_per_triple_full")),
            ("  runner sync -j 8, ssh://", S["fullsync_runner"]),
            ("  runner sync -j 8, rsync://", Y["fullsync_runner"]),
            ("no-change reconcile", None),
            ("  rsync quick check, daemon, verbatim", B.get("fullsync_noop")),
            ("  rsync quick check, daemon, nodelay", N.get("fullsync_noop")),
            ("  rsync -a over ssh, 1 connection per target", ssh.get("s5_per_triple_noop")),
            ("  rsync -a over ssh, whole tree in 1 connection", ssh.get("s2_noop")),
            ("  runner sync -j 8, ssh:// (an ssh login per target)", s8),
            ("  runner sync -j 1, ssh://", s1),
            ("  runner sync -j 8, rsync://", y8),
            ("  runner watch, ssh:// (its open sessions, SIGHUP)", sw),
            ("  runner watch, rsync:// (SIGHUP)", yw)]
    for name, r in rows:
        if r is None:
            L.append(f"  {name}")
            continue
        server = r.get("server_cpu_s", r.get("daemon_cpu_s"))
        L.append(f"  {name:<60}{secs(r['wall_s']):>8}{secs(r['client_cpu_s']):>12}{secs(server):>12}")
    quick = [x["wall_s"] for x in (N.get("fullsync_noop"), B.get("fullsync_noop"), ssh.get("s2_noop"),
                                   ssh.get("s5_per_triple_noop")) if x]
    L.append(f"  no-change reconcile: runner watch over ssh:// is {ratio(min(quick), sw['wall_s'])} faster than the fastest "
             f"rsync quick check above ({secs(min(quick))}); runner sync -j 8 over ssh:// is "
             f"{ratio((ssh.get('s5_per_triple_noop') or {}).get('wall_s'), s8['wall_s'])} faster than rsync -a over ssh per target")

    L += ["", "(d) idle and bursts"]
    for name, d in cols:
        i, fp = d["live"]["idle"], d["live"]["footprint"]
        L.append(f"  {name:<13} idle {i['seconds']} s: watcher CPU {i['cpu_watchers_ms']} ms, server CPU {i['cpu_daemons_ms']} ms; "
                 f"{fp['processes']} processes, PSS {fp['pss_mb']} MB, {fp['inotify_watches']} inotify watches")
    for key, what in (("burst_rewrite", "rewrite"), ("burst_touch", "touch")):
        n = S["live"][key].get("files") or S["live"][key].get("changes")
        L.append(f"  burst: {what} {n} jars across apps -> every target; CPU watcher+server")
        for name, d in cols:
            b = d["live"][key]
            L.append(f"    {name:<13}{fmt(b.get('all_targets_ms'), ' ms'):>10}   CPU {fmt(b['cpu_watchers_ms'])}+{fmt(b['cpu_daemons_ms'])} ms, "
                     f"transfers {b['rsync_runs']}")
    L += ["", "consistency at the end: " + ", ".join(f"{n} {d['verify_end']['consistent']}" for n, d in cols)
          + f"; runner watch SIGTERM: exit {S['sigterm']['exit_code']} in {S['sigterm']['stop_ms']} ms (ssh), "
            f"exit {Y['sigterm']['exit_code']} in {Y['sigterm']['stop_ms']} ms (rsync); error lines in its logs: "
            f"{S['log_errors']} / {Y['log_errors']}"]
    print("\n".join(L))


def cmd_compare(a):
    """The static build against the glibc one, both runner watch over ssh://, same fleet."""
    g = json.load(open(os.path.join(a.results, "results-runner-ssh.json")))
    st = json.load(open(os.path.join(a.results, "results-runner-ssh-static.json")))
    print("static musl build vs glibc build, runner over ssh:// (static / glibc: below 1.1 is within 10 %)")
    for k in g["live"]["latency"]:
        gm = g["live"]["latency"][k]["summary"].get("median")
        sm = st["live"]["latency"][k]["summary"].get("median")
        print(f"  latency {k:<6} glibc {fmt(gm, ' ms'):>10}  static {fmt(sm, ' ms'):>10}  ratio {sm / gm:.2f}")
    for key, what in (("fullsync_runner", "initial sync -j 8"), ("noop_runner_j8", "no-change sync -j 8")):
        gv, sv = g[key], st[key]
        gw = gv["wall_s"] if isinstance(gv, dict) else statistics.median(x["wall_s"] for x in gv)
        sw = sv["wall_s"] if isinstance(sv, dict) else statistics.median(x["wall_s"] for x in sv)
        print(f"  {what:<20} glibc {secs(gw):>8}  static {secs(sw):>8}  ratio {sw / gw:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("measure")
    for k in ("work", "shared", "runner", "out"):
        s.add_argument("--" + k, required=True)
    s.add_argument("--transport", choices=("ssh", "rsync"), default="ssh")
    s.add_argument("--repeats", type=int, default=10)
    s.add_argument("--repeats-all", type=int, default=5)
    s.add_argument("--idle-s", type=float, default=10)
    s.add_argument("--burst", type=int, default=200)
    s = sub.add_parser("report")
    s.add_argument("--results", required=True)
    s = sub.add_parser("compare")
    s.add_argument("--results", required=True)
    a = ap.parse_args()
    {"measure": cmd_measure, "report": cmd_report, "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    main()
