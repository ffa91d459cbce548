#!/usr/bin/env python3
"""One-shot `runner sync` against `rsync -a` over ssh, side by side in one run (bench/sync.sh
calls it last; it also runs alone):

  python3 bench/oneshot.py --runner target/release/runner [--shared ../shared/bench]
                           [--work /tmp/runner-oneshot] [--repeats 5] [--hosts 3]

A 41 MB tree (50 jars of 500 KB and a 16 MB fat jar of 4000 deflated 4 KB entries; the bytes do
not compress, as a jar's do not) is pushed to N real sshd on 127.0.0.1 (default OpenSSH ciphers
and key exchange, one sshd per simulated host), by `runner sync -j N` (one [[sync]] row per host)
and by N `rsync -a --delete -e ssh` in parallel, one per host:

  fill       into empty targets
  burst      after the 50 jars are rewritten
  no-change  nothing changed
  delta      one 4 KB entry of the fat jar changed: bytes on the wire for one host (runner: what
             it wrote to and read from its transport, --json; rsync: --stats, sent + received)
  watch      `runner watch` with 6 rows on 2 hosts: TCP connections to the sshd ports, and ssh
             logins the sshd logged

runner keeps its ssh connections between commands (ControlPersist); the rows marked "fresh"
run runner with `-o ControlMaster=no`, a login per target as rsync has. Medians. Loopback only.
Every ssh session gets an empty HOME (sshd's SetEnv), as a deploy account's shell starts with no
rc file to speak of; `--account-dotfiles` keeps the account's own (on this VM root's ~/.bashrc runs
`pyenv init`, 0.2 s of CPU per session, paid by rsync and runner alike).
"""
import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_bench  # noqa: E402  (its sshd setup and process handling)


def log(*x):
    print(f"[oneshot {time.strftime('%T')}]", *x, file=sys.stderr, flush=True)


def noise(rng, n):
    return rng.randbytes(n)


def fat_jar(path, changed=None):
    """4000 entries of 4 KB noise, deflated (noise does not shrink): about 16 MB. `changed`: the
    index of the one entry whose bytes differ."""
    rng = random.Random(7)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(4000):
            body = noise(rng, 4096)
            if i == changed:
                body = noise(random.Random(999), 4096)
            info = zipfile.ZipInfo(f"BOOT-INF/classes/c{i:04}.class", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, body)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def write_tree(src, seed):
    """50 real jars of 500 KB (runner pushes no archive that does not open: a jar of noise would
    be skipped as incomplete), each 25 stored entries of 20 KB noise."""
    os.makedirs(os.path.join(src, "lib"), exist_ok=True)
    rng = random.Random(seed)
    for i in range(50):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            for j in range(25):
                info = zipfile.ZipInfo(f"lib{i:02}/C{j:02}.class", date_time=(2026, 1, 1, 0, 0, 0))
                z.writestr(info, noise(rng, 20 * 1024))
        with open(os.path.join(src, "lib", f"lib-{i:02}.jar"), "wb") as f:
            f.write(buf.getvalue())


def tree_size(d):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)


def median(v):
    return statistics.median(v) if v else float("nan")


class Bench:
    def __init__(self, a):
        self.a = a
        self.work = os.path.realpath(a.work)
        self.rb = sync_bench.load_rsyncbench(os.path.realpath(a.shared))
        self.procs = sync_bench.Procs()
        self.src = os.path.join(self.work, "src")
        self.hosts = [f"h{i}" for i in range(max(a.hosts, 2))]
        self.user = os.environ.get("USER", "root")

    def setup(self):
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        write_tree(self.src, 1)
        fat_jar(os.path.join(self.src, "app.jar"))
        # INFO: each login is logged ("Accepted publickey"), which the watch row counts.
        # Sessions get an empty HOME unless --account-dotfiles: this VM's root runs `pyenv init`
        # from ~/.bashrc in every ssh session (0.2 s of CPU), which a deploy account does not.
        home = None if self.a.account_dotfiles else os.path.join(self.work, "home")
        if home:
            os.makedirs(home)
        self.ssh_dir, self.sshd = sync_bench.start_sshds(self.rb, self.procs, self.work, self.hosts,
                                                         log_level="INFO", home=home)
        self.ssh_config = os.path.join(self.ssh_dir, "ssh_config")
        log(f"tree: {tree_size(self.src) / 1e6:.1f} MB, {len(self.hosts)} sshd")

    def target(self, h, kind):
        return os.path.join(self.work, "targets", kind, h)

    def config(self, name, hosts, fresh, rows_per_host=1, agent=None):
        """A runner.toml with a [[sync]] row per (host, row): the tree to `targets/runner/<h>`."""
        state = os.path.join(self.work, f"state-{name}")
        opts = ["-F", self.ssh_config] + (["-o", "ControlMaster=no"] if fresh else [])
        body = [f'staging = "{self.work}/staging"', f'deploy_root = "{self.work}/deploy"',
                f'backup_root = "{self.work}/backup"', f'state_dir = "{state}"', ""]
        for h in hosts:
            for r in range(rows_per_host):
                dest = self.target(h, "runner") + (f"-{r}" if rows_per_host > 1 else "")
                body += ["[[sync]]", f'source = "{self.src}"',
                         f'target = "ssh://{self.user}@127.0.0.1:{self.sshd[h]["port"]}{dest}"',
                         f"ssh_options = {json.dumps(opts)}", f'agent = "{agent or self.a.runner}"', ""]
        path = os.path.join(self.work, f"{name}.toml")
        with open(path, "w") as f:
            f.write("\n".join(body))
        return path

    def runner_sync(self, cfg, jobs, bin=None):
        t0 = time.monotonic()
        r = subprocess.run([bin or self.a.runner, "-c", cfg, "--json", "sync", "-j", str(jobs)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wall = time.monotonic() - t0
        if r.returncode:
            sys.stderr.write(r.stderr.decode(errors="replace")[-3000:])
            raise SystemExit("runner sync failed")
        return wall, json.loads(r.stdout)["targets"]

    def rsync_all(self, hosts, stats=False):
        t0 = time.monotonic()
        ps = []
        for h in hosts:
            dest = self.target(h, "rsync")
            ssh = f"ssh -F {self.ssh_config} -p {self.sshd[h]['port']}"
            argv = ["rsync", "-a", "--delete", "-e", ssh] + (["--stats"] if stats else []) + \
                [self.src + "/", f"{self.user}@127.0.0.1:{dest}/"]
            ps.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        outs = [p.communicate() for p in ps]
        wall = time.monotonic() - t0
        for p, (o, e) in zip(ps, outs):
            if p.returncode:
                sys.stderr.write(e.decode(errors="replace")[-3000:])
                raise SystemExit("rsync failed")
        return wall, [o.decode() for o, _ in outs]

    def check(self, kind, hosts):
        """Every target holds the source, byte for byte (runner's own .runner-agent aside)."""
        for h in hosts:
            missing, extra, differ = self.rb.compare_trees(self.src, self.target(h, kind))
            extra = [e for e in extra if not e.startswith(".runner-agent")]
            if missing or extra or differ:
                raise SystemExit(f"{kind} {h}: missing {missing[:3]}, extra {extra[:3]}, differ {differ[:3]}")

    def clear(self, kind):
        shutil.rmtree(os.path.join(self.work, "targets", kind), ignore_errors=True)
        for h in self.hosts:
            os.makedirs(self.target(h, kind), exist_ok=True)

    def run(self):
        a = self.a
        hosts = self.hosts[:a.hosts]
        kept = self.config("kept", hosts, fresh=False)
        fresh = self.config("fresh", hosts, fresh=True)
        contestants = [("rsync", lambda: self.rsync_all(hosts)[0]),
                       ("runner", lambda: self.runner_sync(kept, len(hosts))[0]),
                       ("runner fresh", lambda: self.runner_sync(fresh, len(hosts))[0])]
        if a.before:
            before = self.config("before", hosts, fresh=True, agent=a.before)
            contestants.append(("runner before",
                                lambda: self.runner_sync(before, len(hosts), a.before)[0]))
        rows = {}

        def add(row, who, secs):
            rows.setdefault(row, {}).setdefault(who, []).append(secs)

        for i in range(a.repeats):
            log(f"round {i + 1}/{a.repeats}")
            write_tree(self.src, 1)
            fat_jar(os.path.join(self.src, "app.jar"))
            for kind in ("runner", "rsync"):
                self.clear(kind)
            # Fill, then burst, then no-change; the same for each contestant.
            for who, go in contestants:
                if who.startswith("runner "):
                    self.clear("runner")
                write_tree(self.src, 1)
                kind = "rsync" if who == "rsync" else "runner"
                add("fill", who, go())
                self.check(kind, hosts)
                write_tree(self.src, 100 + i)
                add("burst", who, go())
                self.check(kind, hosts)
                add("no-change", who, go())
        # Bytes on the wire for one changed 4 KB entry of the fat jar, one host.
        one = self.config("one", hosts[:1], fresh=False)
        fat_jar(os.path.join(self.src, "app.jar"))
        self.runner_sync(one, 1)
        self.rsync_all(hosts[:1])
        fat_jar(os.path.join(self.src, "app.jar"), changed=2000)
        _, rep = self.runner_sync(one, 1)
        runner_wire = rep[0]["wire_sent"] + rep[0]["wire_received"]
        _, outs = self.rsync_all(hosts[:1], stats=True)
        rsync_wire = 0
        for line in outs[0].splitlines():
            if line.startswith("Total bytes sent:") or line.startswith("Total bytes received:"):
                rsync_wire += int(line.split(":")[1].strip().replace(",", ""))
        wire = {"runner": runner_wire, "rsync": rsync_wire, "delta_files": rep[0]["delta"]}
        if a.before:
            # The earlier build sends the whole file; it does not count its wire bytes.
            before = self.config("before-one", hosts[:1], fresh=True, agent=a.before)
            fat_jar(os.path.join(self.src, "app.jar"))
            self.runner_sync(before, 1, a.before)
            fat_jar(os.path.join(self.src, "app.jar"), changed=2000)
            _, rep = self.runner_sync(before, 1, a.before)
            wire["before_bytes"] = rep[0]["bytes"]
        watch = self.watch_connections()
        return rows, wire, watch

    def watch_connections(self):
        """`runner watch` with 3 rows on each of 2 hosts, once every row has synced."""
        hosts = self.hosts[:2]
        # The one-shot rows' shared connections are still up (ControlPersist): end them first.
        subprocess.run(["pkill", "-f", f"{self.work}/state-"], capture_output=True)
        time.sleep(0.5)
        cfg = self.config("watch", hosts, fresh=False, rows_per_host=3)
        for h in hosts:
            for r in range(3):
                shutil.rmtree(self.target(h, "runner") + f"-{r}", ignore_errors=True)
        logins0 = self.logins(hosts)
        status = os.path.join(self.work, "state-watch", "watch-status.json")
        p = self.procs.start([self.a.runner, "-c", cfg, "watch"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                st = json.load(open(status))
                if len(st["targets"]) == 6 and all(t.get("last_ok") for t in st["targets"]):
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("runner watch never synced every row")
        ports = [self.sshd[h]["port"] for h in hosts]
        ss = subprocess.run(["ss", "-tnH", "state", "established"], capture_output=True, text=True).stdout
        conns = sum(1 for line in ss.splitlines()
                    if any(line.split()[2].endswith(f":{port}") for port in ports if len(line.split()) > 2))
        # ssh clients: runner's children, and the masters it left running (named by their socket).
        clients = subprocess.run(["pgrep", "-c", "-x", "-P", str(p.pid), "ssh"], capture_output=True,
                                 text=True).stdout.strip()
        masters = subprocess.run(["pgrep", "-c", "-f", f"{self.work}/state-watch"], capture_output=True,
                                 text=True).stdout.strip()
        p.terminate()
        p.wait(10)
        return {"rows": 6, "hosts": 2, "tcp": conns, "logins": self.logins(hosts) - logins0,
                "ssh_processes": int(clients or 0) + int(masters or 0), "masters": int(masters or 0)}

    def logins(self, hosts):
        n = 0
        for h in hosts:
            try:
                with open(os.path.join(self.ssh_dir, f"sshd-{h}.log"), errors="replace") as f:
                    n += f.read().count("Accepted publickey")
            except OSError:
                pass
        return n


def report(rows, wire, watch, hosts, dotfiles):
    before = "runner before" in rows["fill"]
    shell = "the account's own dotfiles" if dotfiles else "an empty HOME"
    out = [f"One-shot sync of a 41 MB tree to {hosts} hosts over ssh (medians; ssh sessions: {shell}):", "",
           "| row | rsync -a over ssh, one per host | runner sync | rsync ÷ runner | runner, a fresh login per target |"
           + (" the earlier build |" if before else ""),
           "| --- | --- | --- | --- | --- |" + (" --- |" if before else "")]
    for row in ("fill", "burst", "no-change"):
        r, n, f = (median(rows[row][w]) for w in ("rsync", "runner", "runner fresh"))
        line = f"| {row} | {r * 1000:.0f} ms | {n * 1000:.0f} ms | **{r / n:.2f}×** | {f * 1000:.0f} ms ({r / f:.2f}×) |"
        if before:
            b = median(rows[row]["runner before"])
            line += f" {b * 1000:.0f} ms ({r / b:.2f}×) |"
        out.append(line)
    out += ["", "One 4 KB entry of the 16 MB fat jar changed, one host:", "",
            "| | bytes on the wire |", "| --- | --- |",
            f"| rsync -a (--stats: sent + received) | {wire['rsync']:,} |",
            f"| runner sync (sent as a delta: {wire['delta_files']} file) | {wire['runner']:,} ({wire['runner'] / max(wire['rsync'], 1):.2f}× rsync's) |",
            *([f"| the earlier build (the whole file; data only) | {wire['before_bytes']:,} |"] if "before_bytes" in wire else []),
            "", f"runner watch, {watch['rows']} rows on {watch['hosts']} hosts: {watch['tcp']} TCP connections "
            f"to the sshd, {watch['logins']} logins, {watch['ssh_processes']} ssh processes "
            f"({watch['masters']} of them the shared connections' masters)"]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--runner", required=True)
    ap.add_argument("--shared", default=os.path.join(here, "..", "..", "shared", "bench"))
    ap.add_argument("--work", default="/tmp/runner-oneshot")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--hosts", type=int, default=3)
    ap.add_argument("--out", help="also write the report here")
    ap.add_argument("--before", help="an earlier runner build, measured in the same rounds")
    ap.add_argument("--account-dotfiles", action="store_true",
                    help="ssh sessions read the account's own ~/.bashrc (default: an empty HOME)")
    a = ap.parse_args()
    a.runner = os.path.realpath(a.runner)
    a.before = a.before and os.path.realpath(a.before)
    b = Bench(a)
    try:
        b.setup()
        rows, wire, watch = b.run()
    finally:
        b.procs.stop_all()
        # runner's shared connections outlive it by design (ControlPersist): end them.
        subprocess.run(["pkill", "-f", f"{b.work}/state-"], capture_output=True)
    text = report(rows, wire, watch, a.hosts, a.account_dotfiles)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    json.dump({"rows": rows, "wire": wire, "watch": watch},
              open(os.path.join(b.work, "oneshot.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
