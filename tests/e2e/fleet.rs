//! Fleet release from a central box: "hosts" are sshd instances on 127.0.0.1 ports, each with its
//! own runner config (`SetEnv RUNNER_CONFIG`), deploy dir and running JVM app; one real nginx in
//! front for the drained roll.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::nginx::{Load, Nginx, nginx_bin};
use crate::sync::Sshd;
use crate::util::{Build, Sandbox, agent_runner, free_port, plugin_wasm};

/// One simulated host: its own sandbox (config, deploy, staging, state) and sshd.
struct Host {
    sb: Sandbox,
    addr: String,
    _sshd: Sshd,
}

/// `keys`: the dir whose `sshd/` holds the shared keys and client config. `extra`: config
/// lines appended to the host's `[apps.demo]` table. The host's `$HOME` is its sandbox.
fn host(keys: &Path, name: &str, extra: &str) -> Host {
    let sb = Sandbox::new(name)
        .jvm_app("demo", Build::V1)
        .with_extra(extra)
        .write_config();
    let port = free_port();
    let sshd = Sshd::start_with(
        keys,
        port,
        &format!(
            "SetEnv RUNNER_CONFIG={} HOME={}",
            sb.config.display(),
            sb.root.display()
        ),
    );
    sb.start("demo");
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    Host {
        sb,
        addr: format!("{user}@127.0.0.1:{port}"),
        _sshd: sshd,
    }
}

/// The central box: the app lists the hosts; v2 is staged here.
/// Holds `lock` with flock(1) (as runner takes it) until the returned child is killed.
fn hold(c: &Sandbox, lock: &Path) -> std::process::Child {
    let held = c.root.join("held");
    let holder = std::process::Command::new("flock")
        .arg(lock)
        .args(["-c", &format!("touch {}; sleep 60", held.display())])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !held.exists() {
        assert!(Instant::now() < deadline, "flock never took the lock");
        std::thread::sleep(Duration::from_millis(10));
    }
    holder
}

/// The central box's `nginx-drain`, mapping each host to its server in `nginx`'s upstream,
/// with the hooks the plugin asks for.
fn drain_plugin(nginx: &Nginx, hosts: &[&Host], drain: &str) -> String {
    drain_config(nginx, &servers(hosts), drain, "nginx-drain", None)
}

/// Each host's address → its app's server, as nginx-drain's `servers` maps them.
fn servers(hosts: &[&Host]) -> Vec<(String, u16)> {
    hosts
        .iter()
        .map(|h| (h.addr.clone(), h.sb.port("demo")))
        .collect()
}

/// `build`: `nginx-drain` (WIT 0.2.0: a batch drained at once) or `nginx-drain-v0-1` (the same
/// source against 0.1.0: host by host). `reload`: a program run instead of `nginx -s reload`.
fn drain_config(
    nginx: &Nginx,
    servers: &[(String, u16)],
    drain: &str,
    build: &str,
    reload: Option<&Path>,
) -> String {
    let servers = servers
        .iter()
        .map(|(addr, port)| format!("\"{addr}\" = \"127.0.0.1:{port}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let (reload, exec) = match reload {
        Some(p) => (
            format!("[\"{}\"]", p.display()),
            format!("\"{}\", \"{}\"", nginx_bin().display(), p.display()),
        ),
        None => (
            nginx.argv_toml(&["-s", "reload"]),
            format!("\"{}\"", nginx_bin().display()),
        ),
    };
    format!(
        r#"
[[plugin]]
name = "drain"
wasm = "{wasm}"
timeout = "20s"
allow = {{ exec = [{exec}], rw = ["{confd}"] }}
config = {{ upstream = "{upstream}", servers = {{ {servers} }}, test = {test}, reload = {reload}, drain = "{drain}" }}
"#,
        wasm = plugin_wasm(build).display(),
        confd = nginx.upstream.parent().unwrap().display(),
        upstream = nginx.upstream.display(),
        test = nginx.argv_toml(&["-t"]),
    )
}

/// A reload command that appends the upstream file, as nginx is about to load it, to `log`
/// (each copy ends with a `--- reload` line) and then reloads `nginx`.
fn logging_reload(nginx: &Nginx, dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let script = dir.join("reload.sh");
    let log = dir.join("reloads.log");
    let args: Vec<String> = nginx
        .args(&["-s", "reload"])
        .iter()
        .map(|a| format!("'{a}'"))
        .collect();
    fs::write(
        &script,
        format!(
            "#!/bin/sh\n{{ cat '{}'; echo '--- reload'; }} >> '{}'\nexec '{}' {}\n",
            nginx.upstream.display(),
            log.display(),
            nginx_bin().display(),
            args.join(" ")
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

/// The servers marked `down` in each reload `logging_reload` logged.
fn downs_per_reload(log: &Path) -> Vec<usize> {
    let text = fs::read_to_string(log).unwrap_or_default();
    text.split("--- reload\n")
        .filter(|s| !s.is_empty())
        .map(|s| s.lines().filter(|l| l.contains(" down;")).count())
        .collect()
}

fn central(name: &str, keys: &Path, hosts: &[&str], extra: &str) -> Sandbox {
    let list = hosts
        .iter()
        .map(|h| format!("\"{h}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let sb = Sandbox::new(name);
    let sb = sb
        .app("demo", &format!("restart = [\"true\"]\nhosts = [{list}]"))
        .with_extra(&format!(
            "\n[fleet]\nssh_options = [\"-F\", \"{}\"]\nagent = \"{}\"\n{extra}",
            keys.join("sshd/ssh_config").display(),
            agent_runner()
        ))
        .write_config();
    sb.stage_build("demo", Build::V2);
    sb
}

/// nginx-drain built against WIT 0.1.0 (what an older runner shipped) still loads and drains
/// host by host, through `before-host` / `after-host`.
#[test]
fn a_rolling_release_drains_each_host_and_loses_no_request() {
    let keys = Sandbox::new("fleet-keys");
    let h1 = host(&keys.root, "fleet-h1", "");
    let h2 = host(&keys.root, "fleet-h2", "");
    let nginx = Nginx::start(&keys.root, &[h1.sb.port("demo"), h2.sb.port("demo")]);
    let upstream_before = fs::read(&nginx.upstream).unwrap();
    let drain = drain_config(
        &nginx,
        &servers(&[&h1, &h2]),
        "700ms",
        "nginx-drain-v0-1",
        None,
    );
    let c = central("fleet-central", &keys.root, &[&h1.addr, &h2.addr], &drain);

    let load = Load::start(nginx.port);
    let r = c.run(&["release", "demo", "--batch", "1"]);
    load.wait_for("2.0.0", "v2 never served through nginx");
    let (ok, failed, bodies) = load.finish();
    eprintln!("{}\n{}", r.stdout(), r.stderr());
    let r = r.success();
    assert_eq!(
        failed, 0,
        "requests failed during the rolling release ({ok} ok)"
    );
    assert!(ok > 50, "the load loop ran ({ok} requests)");
    assert!(bodies.iter().any(|b| b.contains("2.0.0")), "{bodies:?}");
    assert!(h1.sb.version("demo").contains("app=2.0.0"));
    assert!(h2.sb.version("demo").contains("app=2.0.0"));
    assert_eq!(
        fs::read(&nginx.upstream).unwrap(),
        upstream_before,
        "every host is back in the upstream"
    );
    assert!(r.stdout().contains("verified"), "{}", r.stdout());

    // The central history has the roll with each host; each host has its own release.
    let h = c
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    let rec = h.as_array().unwrap().last().unwrap();
    assert_eq!(rec["outcome"], "success");
    let outcomes: Vec<(&str, &str)> = rec["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["host"].as_str().unwrap(), x["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (h1.addr.as_str(), "verified"),
            (h2.addr.as_str(), "verified")
        ]
    );
    let hooks: Vec<String> = rec["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["hook"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        hooks,
        ["before-host", "after-host", "before-host", "after-host"],
        "drained around each host in turn"
    );
    let for_host: Vec<&str> = rec["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["host"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        for_host,
        [&h1.addr, &h1.addr, &h2.addr, &h2.addr].map(String::as_str),
        "each central hook record names its host"
    );
    for h in [&h1, &h2] {
        let local =
            h.sb.run(&["--json", "history", "demo"])
                .success()
                .doc("records");
        assert_eq!(
            local.as_array().unwrap().last().unwrap()["outcome"],
            "success"
        );
    }
    let check = c
        .run(&["--json", "plugin", "list"])
        .success()
        .doc("plugins");
    assert_eq!(check[0]["wit"], "runner:plugin@0.1.0");
}

/// Three hosts behind one nginx, rolled at `--batch 1`, `2` and `100%`: each batch is drained
/// with one edit and one reload, never more servers down at once than the batch holds, no
/// request lost; a batch that is the whole upstream is refused before anything is touched.
#[test]
fn a_batch_is_drained_at_once_and_the_whole_upstream_never() {
    let keys = Sandbox::new("fleetbatch-keys");
    let hosts: Vec<Host> = (1..=3)
        .map(|i| host(&keys.root, &format!("fleetbatch-h{i}"), ""))
        .collect();
    let ports: Vec<u16> = hosts.iter().map(|h| h.sb.port("demo")).collect();
    let nginx = Nginx::start(&keys.root, &ports);
    let upstream_before = fs::read(&nginx.upstream).unwrap();
    let (reload, log) = logging_reload(&nginx, &keys.root);
    let refs: Vec<&Host> = hosts.iter().collect();
    let drain = drain_config(
        &nginx,
        &servers(&refs),
        "500ms",
        "nginx-drain",
        Some(&reload),
    );
    let addrs: Vec<&str> = hosts.iter().map(|h| h.addr.as_str()).collect();
    let c = central("fleetbatch-central", &keys.root, &addrs, &drain);

    // (batch, build staged, its version, batches of the roll)
    for (batch, build, version, batches) in
        [("1", Build::V2, "2.0.0", 3), ("2", Build::V1, "1.0.0", 2)]
    {
        let _ = fs::remove_file(&log);
        c.stage_build("demo", build);
        let load = Load::start(nginx.port);
        let r = c.run(&["--json", "release", "demo", "--batch", batch]);
        load.wait_for(version, "the new build never served through nginx");
        let (ok, failed, _) = load.finish();
        let out = format!("{}\n{}", r.stdout(), r.stderr());
        assert_eq!(r.code(), Some(0), "--batch {batch}: {out}");
        assert_eq!(
            failed, 0,
            "--batch {batch}: requests failed ({ok} ok): {out}"
        );
        for h in &hosts {
            assert!(h.sb.version("demo").contains(version), "--batch {batch}");
        }
        assert_eq!(
            fs::read(&nginx.upstream).unwrap(),
            upstream_before,
            "--batch {batch}: every server is back"
        );
        let downs = downs_per_reload(&log);
        let size: usize = batch.parse().unwrap();
        assert_eq!(
            downs.iter().max(),
            Some(&size),
            "--batch {batch}: at most the batch down at once: {downs:?}"
        );
        // A drain is a reload that takes servers down; the rest put one host back each.
        let drains = downs
            .iter()
            .zip(std::iter::once(&0).chain(downs.iter()))
            .filter(|(now, before)| now > before)
            .count();
        assert_eq!(
            drains, batches,
            "--batch {batch}: one drain per batch: {downs:?}"
        );
        assert_eq!(downs.len(), batches + hosts.len(), "{downs:?}");
    }

    // The whole upstream in one batch: refused, nothing touched.
    let _ = fs::remove_file(&log);
    c.stage_build("demo", Build::V2);
    let load = Load::start(nginx.port);
    let r = c.run(&["release", "demo", "--batch", "100%"]).code_is(1);
    let (_, failed, _) = load.finish();
    let out = format!("{}\n{}", r.stdout(), r.stderr());
    assert_eq!(failed, 0, "{out}");
    assert!(
        out.contains("would leave upstream demo_upstream") && out.contains("--batch 2"),
        "{out}"
    );
    assert!(out.contains("skipped"), "{out}");
    assert!(downs_per_reload(&log).is_empty(), "no reload: {out}");
    assert_eq!(fs::read(&nginx.upstream).unwrap(), upstream_before);
    for h in &hosts {
        assert!(h.sb.version("demo").contains("1.0.0"), "{out}");
    }
    let h = c
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    let rec = h.as_array().unwrap().last().unwrap();
    assert_eq!(rec["outcome"], "failed");
    assert!(
        rec["error"].as_str().unwrap().contains("no server up"),
        "{rec}"
    );
    assert_eq!(rec["hooks"][0]["hook"], "before-batch");
    assert_eq!(rec["hooks"][0]["batch"].as_array().unwrap().len(), 3);
}

#[test]
fn a_failing_host_stops_the_roll_and_rollback_on_failure_restores_the_fleet() {
    let keys = Sandbox::new("fleetfail-keys");
    let h1 = host(&keys.root, "fleetfail-h1", "");
    // v2 "fails to start" on this host only.
    let h2 = host(
        &keys.root,
        "fleetfail-h2",
        "fail = 'Starting DemoApp v2\\.'\n",
    );
    let h3 = host(&keys.root, "fleetfail-h3", "");
    let c = central(
        "fleetfail-central",
        &keys.root,
        &[&h1.addr, &h2.addr, &h3.addr],
        "",
    );
    let r = c.run(&[
        "--json",
        "release",
        "demo",
        "--batch",
        "1",
        "--rollback-on-failure",
    ]);
    eprintln!("{}\n{}", r.stdout(), r.stderr());
    let r = r.code_is(1);
    let last = r.stdout().lines().last().unwrap().to_string();
    let report: serde_json::Value = serde_json::from_str(&last).unwrap();
    let hosts = report["report"]["hosts"].as_array().unwrap();
    let outcome = |i: usize| hosts[i]["outcome"].as_str().unwrap();
    assert_eq!(outcome(0), "rolled-back", "{report}");
    assert_eq!(outcome(1), "failed", "{report}");
    assert_eq!(
        outcome(2),
        "skipped",
        "no new host after a failure: {report}"
    );
    let why = hosts[1]["error"].as_str().unwrap();
    assert!(why.contains(&h2.addr), "the error names the host: {why}");
    // The failed build's start-up lines first, the rolled-back build's after a marker.
    let (failed, after) = why
        .split_once("— after the rollback —")
        .unwrap_or_else(|| panic!("no marker: {why}"));
    assert!(failed.contains("v2"), "{why}");
    assert!(after.contains("Started DemoApp"), "{why}");
    assert_eq!(report["report"]["outcome"], "rolled-back");
    // Every host serves the old build; the skipped one was never touched.
    for h in [&h1, &h2, &h3] {
        assert!(
            h.sb.version("demo").contains("app=1.0.0"),
            "{}",
            h.sb.version("demo")
        );
    }
    let untouched = h3
        .sb
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    assert!(untouched.as_array().unwrap().is_empty());
    // The live events went out as JSON lines too (one per host state change), each as
    // docs/json.md has them.
    assert!(r.stdout().contains("\"event\":\"host\""), "{}", r.stdout());
    let types = crate::json::documented();
    for line in r.stdout().lines() {
        crate::json::conforms("Line", &serde_json::from_str(line).unwrap(), &types);
    }
}

#[test]
fn an_unreachable_host_is_named_and_nothing_is_left_unreported() {
    let keys = Sandbox::new("fleetdown-keys");
    let h1 = host(&keys.root, "fleetdown-h1", "");
    let dead = format!("root@127.0.0.1:{}", free_port());
    // A plugin around each host: a host that cannot be reached is never drained.
    let around = format!(
        "\n[[plugin]]\nname = \"around\"\nwasm = \"{}\"\nhooks = [\"before-host\", \"after-host\"]\n",
        crate::util::plugin_wasm("hostile").display()
    );
    let c = central("fleetdown-central", &keys.root, &[&dead, &h1.addr], &around);
    // Nothing was released before the failure: nothing to roll back, the roll `failed`.
    let r = c
        .run(&["release", "demo", "--batch", "1", "--rollback-on-failure"])
        .code_is(1);
    let out = format!("{}{}", r.stdout(), r.stderr());
    assert!(out.contains(&dead), "names the host: {out}");
    assert!(out.contains(&format!("cannot connect to {dead}")), "{out}");
    assert!(
        out.contains("skipped"),
        "the other host is reported as skipped: {out}"
    );
    assert!(
        h1.sb.version("demo").contains("app=1.0.0"),
        "nothing released after the failure"
    );
    let h = c
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    let last = h.as_array().unwrap().last().unwrap();
    assert_eq!(last["outcome"], "failed");
    assert_eq!(
        last["hooks"].as_array().unwrap().len(),
        0,
        "no before-host (drain) for a host that was never reached: {last}"
    );
}

/// In a batch with a host that cannot be reached, the drain takes only the hosts that
/// connected: the unreachable host's server stays in rotation, and the one reachable is
/// released and put back.
#[test]
fn an_unreachable_host_is_left_out_of_its_batchs_drain() {
    let keys = Sandbox::new("fleetdownb-keys");
    let h1 = host(&keys.root, "fleetdownb-h1", "");
    let dead_port = free_port();
    let dead = format!("root@127.0.0.1:{dead_port}");
    let nginx = Nginx::start(&keys.root, &[dead_port, h1.sb.port("demo")]);
    let upstream_before = fs::read(&nginx.upstream).unwrap();
    let (reload, log) = logging_reload(&nginx, &keys.root);
    let mut map = servers(&[&h1]);
    map.push((dead.clone(), dead_port));
    let drain = drain_config(&nginx, &map, "200ms", "nginx-drain", Some(&reload));
    let c = central("fleetdownb-central", &keys.root, &[&dead, &h1.addr], &drain);
    let r = c.run(&["release", "demo", "--batch", "100%"]).code_is(1);
    let out = format!("{}{}", r.stdout(), r.stderr());
    assert!(out.contains(&format!("cannot connect to {dead}")), "{out}");
    assert!(h1.sb.version("demo").contains("app=2.0.0"), "{out}");
    assert_eq!(
        downs_per_reload(&log),
        [1, 0],
        "h1 alone drained, then put back: {out}"
    );
    assert_eq!(fs::read(&nginx.upstream).unwrap(), upstream_before);
    let h = c
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    let hooks = &h.as_array().unwrap().last().unwrap()["hooks"];
    assert_eq!(hooks[0]["hook"], "before-batch", "{hooks}");
    assert_eq!(hooks[0]["batch"], serde_json::json!([h1.addr]), "{hooks}");
}

/// Points the central box's fleet at a runner that is not on the hosts.
fn without_runner(c: &Sandbox) {
    let text = fs::read_to_string(&c.config).unwrap().replace(
        &format!("agent = \"{}\"", agent_runner()),
        "agent = \"/opt/nowhere/runner\"",
    );
    fs::write(&c.config, text).unwrap();
}

#[test]
fn a_host_without_runner_gets_a_clear_message() {
    let keys = Sandbox::new("fleetnoagent-keys");
    let h1 = host(&keys.root, "fleetnoagent-h1", "");
    let c = central("fleetnoagent-central", &keys.root, &[&h1.addr], "");
    without_runner(&c);
    let r = c.run(&["release", "demo"]).code_is(1);
    let out = format!("{}{}", r.stdout(), r.stderr());
    assert!(out.contains(&h1.addr), "{out}");
    assert!(out.contains("--install-agent"), "says how to fix it: {out}");
    assert!(h1.sb.version("demo").contains("app=1.0.0"));
}

/// A host where `[fleet] agent` answers with something other than frames and keeps running:
/// the host fails at once, naming what was wrong, rather than waiting for an ssh whose shared
/// connection's master keeps the session (and ssh's stderr) open as long as that program runs.
#[test]
fn a_host_whose_agent_speaks_garbage_fails_at_once() {
    let keys = Sandbox::new("fleetgarbage-keys");
    let h1 = host(&keys.root, "fleetgarbage-h1", "");
    let c = central("fleetgarbage-central", &keys.root, &[&h1.addr], "");
    let agent = keys.root.join("garbage-agent");
    fs::write(
        &agent,
        "#!/bin/sh\nprintf 'garbage, not a frame'\nsleep 60\n",
    )
    .unwrap();
    fs::set_permissions(&agent, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let text = fs::read_to_string(&c.config).unwrap().replace(
        &format!("agent = \"{}\"", agent_runner()),
        &format!("agent = \"{}\"", agent.display()),
    );
    fs::write(&c.config, text).unwrap();
    let t = Instant::now();
    let r = c.run(&["release", "demo", "--yes"]).code_is(1);
    let out = format!("{}{}", r.stdout(), r.stderr());
    assert!(
        out.contains(&h1.addr) && out.contains("exceeds the limit"),
        "{out}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "runner waited for the host's program to end: {:?}",
        t.elapsed()
    );
    assert!(h1.sb.version("demo").contains("app=1.0.0"));
}

#[test]
fn install_agent_copies_runner_to_a_host_that_lacks_it() {
    let keys = Sandbox::new("fleetinstall-keys");
    let h1 = host(&keys.root, "fleetinstall-h1", "");
    let h2 = host(&keys.root, "fleetinstall-h2", "");
    // The static build when CI made one: what a real central box sends.
    let agent = agent_runner();
    let c = central(
        "fleetinstall-central",
        &keys.root,
        &[&h1.addr, &h2.addr],
        &format!("agent_binary = \"{agent}\""),
    );
    without_runner(&c);
    let r = c.run(&["--json", "release", "demo", "--install-agent", "--yes"]);
    eprintln!("{}\n{}", r.stdout(), r.stderr());
    let size = fs::metadata(&agent).unwrap().len();
    let last = r.success().stdout().lines().last().unwrap().to_string();
    let report = serde_json::from_str::<serde_json::Value>(&last).unwrap()["report"].clone();
    for (h, host) in [&h1, &h2].iter().zip(report["hosts"].as_array().unwrap()) {
        let installed =
            h.sb.root
                .join(format!(".runner/bin/runner-{}", env!("CARGO_PKG_VERSION")));
        assert_eq!(
            crate::util::sha(&installed),
            crate::util::sha(Path::new(&agent)),
            "the binary, checked"
        );
        assert!(h.sb.version("demo").contains("app=2.0.0"));
        let sent = &host["agent_install"];
        assert_eq!(sent["bytes"], size, "{host}");
        let on_wire = sent["bytes_sent"].as_u64().unwrap();
        assert!(on_wire > 0 && on_wire < size / 2, "gzipped: {host}");
    }
    // Again (nothing to release now), without --json: the operator is told what went over
    // the wire.
    for h in [&h1, &h2] {
        fs::remove_dir_all(h.sb.root.join(".runner")).unwrap();
    }
    let out = c
        .run(&["release", "demo", "--install-agent", "--yes"])
        .success()
        .stdout();
    assert!(
        out.contains("runner installed on 2 hosts") && out.contains("sent to each"),
        "{out}"
    );
}

/// `[fleet] agent_binary` naming another version of runner is refused before anything is
/// sent, and says why; so is one that is not there.
#[test]
fn install_agent_refuses_another_version() {
    let keys = Sandbox::new("fleetinstallv-keys");
    let h1 = host(&keys.root, "fleetinstallv-h1", "");
    let other = keys.root.join("runner-old");
    fs::write(&other, "#!/bin/sh\necho runner 0.0.1\n").unwrap();
    fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let c = central(
        "fleetinstallv-central",
        &keys.root,
        &[&h1.addr],
        &format!("agent_binary = \"{}\"", other.display()),
    );
    without_runner(&c);
    let r = c
        .run(&["release", "demo", "--install-agent", "--yes"])
        .code_is(1);
    let out = format!("{}{}", r.stdout(), r.stderr());
    assert!(
        out.contains("runner-old") && out.contains("runner 0.0.1"),
        "{out}"
    );
    assert!(!h1.sb.root.join(".runner/bin").exists(), "nothing sent");
    assert!(h1.sb.version("demo").contains("app=1.0.0"));
}

#[test]
fn a_second_operator_cannot_roll_the_same_app_at_once() {
    let keys = Sandbox::new("fleetlock-keys");
    let h1 = host(&keys.root, "fleetlock-h1", "");
    let c = central("fleetlock-central", &keys.root, &[&h1.addr], "");
    // Another fleet release of demo holds the fleet lock (flock, as runner takes it).
    let lock = c.state().join("locks/fleet/demo.lock");
    fs::create_dir_all(lock.parent().unwrap()).unwrap();
    fs::write(
        &lock,
        r#"{"pid":4242,"user":"alice","since":"2026-11-29 09:00:00","command":"fleet release"}"#,
    )
    .unwrap();
    let mut holder = hold(&c, &lock);
    let r = c.run(&["release", "demo"]).code_is(3);
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(
        r.stderr().contains("alice"),
        "names the holder: {}",
        r.stderr()
    );
    assert!(
        h1.sb.version("demo").contains("app=1.0.0"),
        "no host touched"
    );
}

#[test]
fn a_host_lost_mid_release_is_reported_and_its_release_still_finishes_there() {
    let keys = Sandbox::new("fleetlost-keys");
    // No JVM here: the restart kills the agent that runs this release (the host's end of the
    // ssh connection), as a host crash or a dropped connection would.
    let sb = Sandbox::new("fleetlost-h1")
        .app(
            "demo",
            r#"restart = ["sh", "-c", "kill -9 $(ps -o ppid= -p $PPID)"]"#,
        )
        .write_config();
    let port = free_port();
    let _sshd = Sshd::start_with(
        &keys.root,
        port,
        &format!(
            "SetEnv RUNNER_CONFIG={} HOME={}",
            sb.config.display(),
            sb.root.display()
        ),
    );
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let addr = format!("{user}@127.0.0.1:{port}");
    let c = central("fleetlost-central", &keys.root, &[&addr], "");
    let r = c.run(&["release", "demo"]).code_is(1);
    let out = format!("{}{}", r.stdout(), r.stderr());
    assert!(out.contains(&addr), "names the host: {out}");
    assert!(out.contains("connection lost"), "{out}");
    assert!(out.contains("runner history"), "says where to look: {out}");
    // The host's release went on without its watcher and is recorded there.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let h = sb
            .run(&["--json", "history", "demo"])
            .success()
            .doc("records");
        if let Some(last) = h.as_array().unwrap().last() {
            assert_eq!(last["outcome"], "success");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the host never recorded its release"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        sb.deploy("demo").join("app.jar").exists(),
        "installed there"
    );
}

#[test]
fn a_fleet_dry_run_plans_on_every_host_and_changes_no_app() {
    let keys = Sandbox::new("fleetdry-keys");
    let h1 = host(&keys.root, "fleetdry-h1", "");
    let c = central("fleetdry-central", &keys.root, &[&h1.addr], "");
    let r = c.run(&["--json", "release", "demo", "--dry-run"]).success();
    let last = r.stdout().lines().last().unwrap().to_string();
    let report: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(
        report["report"]["hosts"][0]["outcome"], "dry-run",
        "{report}"
    );
    assert!(h1.sb.version("demo").contains("app=1.0.0"));
    let local = h1
        .sb
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    assert!(local.as_array().unwrap().is_empty(), "no release ran there");
}

/// A dry run is a check of the whole fleet: it visits every host, an unreachable one included,
/// and, changing nothing, it is not refused by a roll holding the fleet lock.
#[test]
fn a_dry_run_visits_every_host_and_ignores_the_fleet_lock() {
    let keys = Sandbox::new("fleetdrycheck-keys");
    let h1 = host(&keys.root, "fleetdrycheck-h1", "");
    let dead = format!("root@127.0.0.1:{}", free_port());
    let c = central("fleetdrycheck-central", &keys.root, &[&dead, &h1.addr], "");
    let lock = c.state().join("locks/fleet/demo.lock");
    fs::create_dir_all(lock.parent().unwrap()).unwrap();
    fs::write(&lock, "").unwrap();
    let mut holder = hold(&c, &lock);
    let r = c.run(&["--json", "release", "demo", "--dry-run", "--batch", "1"]);
    let _ = holder.kill();
    let _ = holder.wait();
    let r = r.code_is(1);
    let last = r.stdout().lines().last().unwrap().to_string();
    let report: serde_json::Value = serde_json::from_str(&last).unwrap();
    let hosts = report["report"]["hosts"].as_array().unwrap();
    assert_eq!(hosts[0]["outcome"], "failed", "{report}");
    assert_eq!(
        hosts[1]["outcome"], "dry-run",
        "the next host is still visited: {report}"
    );
    assert!(h1.sb.version("demo").contains("app=1.0.0"));
}

/// A host whose new build fails but which puts its previous build back and verifies it is
/// healthy: it goes back in rotation (the upstream file ends byte-identical), not left drained.
#[test]
fn a_host_rolled_back_to_a_verified_build_goes_back_in_rotation() {
    let keys = Sandbox::new("fleetback-keys");
    let h1 = host(
        &keys.root,
        "fleetback-h1",
        "fail = 'Starting DemoApp v2\\.'\n",
    );
    let h2 = host(&keys.root, "fleetback-h2", "");
    let nginx = Nginx::start(&keys.root, &[h1.sb.port("demo"), h2.sb.port("demo")]);
    let upstream_before = fs::read(&nginx.upstream).unwrap();
    let drain = drain_plugin(&nginx, &[&h1, &h2], "200ms");
    let c = central(
        "fleetback-central",
        &keys.root,
        &[&h1.addr, &h2.addr],
        &drain,
    );
    let r = c.run(&["release", "demo", "--batch", "1"]).code_is(1);
    let out = format!("{}{}", r.stdout(), r.stderr());
    assert!(h1.sb.version("demo").contains("app=1.0.0"), "{out}");
    assert_eq!(
        fs::read(&nginx.upstream).unwrap(),
        upstream_before,
        "the healthy host is back in rotation: {out}"
    );
}

/// A host whose release and own rollback both failed stays drained, the roll says how to put
/// it back, and `runner fleet restore` does, through the same hooks.
#[test]
fn a_host_left_drained_is_put_back_by_fleet_restore() {
    let keys = Sandbox::new("fleetrestore-keys");
    // Every start "fails" here, the old build's too: the rollback fails as well. (The match is
    // on the last start-up line, so no line of the failed build can land after the rollback's
    // log mark.)
    let h1 = host(&keys.root, "fleetrestore-h1", "fail = 'Started DemoApp'\n");
    let h2 = host(&keys.root, "fleetrestore-h2", "");
    let nginx = Nginx::start(&keys.root, &[h1.sb.port("demo"), h2.sb.port("demo")]);
    let upstream_before = fs::read(&nginx.upstream).unwrap();
    let drain = drain_plugin(&nginx, &[&h1, &h2], "200ms");
    let c = central(
        "fleetrestore-central",
        &keys.root,
        &[&h1.addr, &h2.addr],
        &drain,
    );
    let r = c.run(&["release", "demo", "--batch", "1"]).code_is(1);
    assert!(
        r.stdout()
            .contains(&format!("runner fleet restore demo {}", h1.addr)),
        "{}",
        r.stdout()
    );
    assert_ne!(
        fs::read(&nginx.upstream).unwrap(),
        upstream_before,
        "an unverified host stays out of rotation"
    );
    c.run(&["fleet", "restore", "demo", &h1.addr]).success();
    assert_eq!(fs::read(&nginx.upstream).unwrap(), upstream_before);
    c.run(&["fleet", "restore", "demo", "nobody@127.0.0.1:1"])
        .code_is(2);
}

/// The lines a terminal of `cols` columns shows of `text`: split at newlines, carriage returns
/// and the escape sequences that move the cursor or erase (a redrawn live view), with colour
/// sequences dropped; a run longer than `cols` wraps onto the next line (the live view writes
/// each host's line padded to the full width and lets the terminal wrap).
fn shown_lines(text: &str, cols: usize) -> Vec<String> {
    let mut runs = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut last = ' ';
                for f in chars.by_ref() {
                    last = f;
                    if f.is_ascii_alphabetic() || f == '~' {
                        break;
                    }
                }
                if last != 'm' {
                    runs.push(String::new());
                }
            }
            '\n' | '\r' => runs.push(String::new()),
            c if !c.is_control() => runs.last_mut().unwrap().push(c),
            _ => {}
        }
    }
    runs.iter()
        .flat_map(|r| {
            let chars: Vec<char> = r.chars().collect();
            chars
                .chunks(cols)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// In a 60-column terminal, the live view (a line per host, redrawn) and the final table keep
/// within the width, also with an unreachable host's long error.
#[test]
fn the_live_view_and_the_table_fit_a_narrow_terminal() {
    let keys = Sandbox::new("fleettty-keys");
    let h1 = host(&keys.root, "fleettty-h1", "");
    let dead = format!("someone-with-a-long-name@127.0.0.1:{}", free_port());
    let c = central("fleettty-central", &keys.root, &[&dead, &h1.addr], "");
    let child = crate::util::in_a_terminal(
        &c,
        "stty cols 60 rows 40; ",
        "release demo --batch 1 --max-fail 1 --yes",
    );
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cannot connect"), "{text}");
    assert!(h1.sb.version("demo").contains("app=2.0.0"), "{text}");
    // A line that overflowed would wrap: its rest would start a shown line mid-text. Every
    // shown line starts as a live-view line (spinner or blank, then a host), a table line, or
    // text the roll prints.
    let hosts = [dead.as_str(), h1.addr.as_str()];
    for line in shown_lines(&text, 60) {
        let rest = line.chars().skip(2).collect::<String>();
        let view_line = hosts.iter().any(|h| rest.starts_with(h));
        let table_line = line.starts_with(['┌', '│', '╞', '└']);
        let printed = line.starts_with("fleet") || line.starts_with("  ") || line.is_empty();
        assert!(
            view_line || table_line || printed,
            "a line that does not fit: {line:?}\n{text}"
        );
    }
    assert!(
        text.contains("│ host"),
        "a boxed table in a UTF-8 terminal:\n{text}"
    );
}

/// `runner restart` of an app with hosts: a rolling restart, each host drained around it, no
/// request lost, recorded as kind `restart`.
#[test]
fn a_rolling_restart_drains_and_loses_no_request() {
    let keys = Sandbox::new("fleetrestart-keys");
    let h1 = host(&keys.root, "fleetrestart-h1", "");
    let h2 = host(&keys.root, "fleetrestart-h2", "");
    let nginx = Nginx::start(&keys.root, &[h1.sb.port("demo"), h2.sb.port("demo")]);
    let upstream_before = fs::read(&nginx.upstream).unwrap();
    let drain = drain_plugin(&nginx, &[&h1, &h2], "500ms");
    let c = central(
        "fleetrestart-central",
        &keys.root,
        &[&h1.addr, &h2.addr],
        &drain,
    );
    let pids = |h: &Host| fs::read_to_string(h.sb.deploy("demo").join("run/app.pid")).unwrap();
    let before = [pids(&h1), pids(&h2)];
    let load = Load::start(nginx.port);
    let r = c.run(&["restart", "demo", "--batch", "1", "--yes"]);
    let (ok, failed, _) = load.finish();
    let out = format!("{}{}", r.stdout(), r.stderr());
    assert_eq!(r.code(), Some(0), "{out}");
    assert_eq!(
        failed, 0,
        "requests failed during the rolling restart ({ok} ok): {out}"
    );
    assert!(ok > 20, "the load loop ran ({ok})");
    assert_ne!(pids(&h1), before[0], "h1 restarted");
    assert_ne!(pids(&h2), before[1], "h2 restarted");
    assert_eq!(fs::read(&nginx.upstream).unwrap(), upstream_before);
    let h = c
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    let rec = h.as_array().unwrap().last().unwrap();
    assert_eq!(rec["kind"], "restart", "{rec}");
    assert_eq!(rec["hooks"][0]["hook"], "before-batch", "{rec}");
    for h in [&h1, &h2] {
        let local =
            h.sb.run(&["--json", "history", "demo"])
                .success()
                .doc("records");
        assert_eq!(local.as_array().unwrap().last().unwrap()["kind"], "restart");
    }
}

/// `runner status` on the central box asks each host over its agent session, at once: a row
/// per host with what it runs and its health; an unreachable host is named and makes exit 1.
#[test]
fn status_of_a_fleet_app_asks_every_host() {
    let keys = Sandbox::new("fleetstatus-keys");
    let h1 = host(&keys.root, "fleetstatus-h1", "");
    let h2 = host(&keys.root, "fleetstatus-h2", "");
    let dead = format!("root@127.0.0.1:{}", free_port());
    let c = central(
        "fleetstatus-central",
        &keys.root,
        &[&h1.addr, &h2.addr, &dead],
        "",
    );
    c.run(&[
        "release",
        "demo",
        "--batch",
        "100%",
        "--max-fail",
        "1",
        "--yes",
    ])
    .code_is(1);
    let r = c.run(&["--json", "status", "demo"]).code_is(1);
    let doc = r.json();
    crate::json::conforms("StatusDoc", &doc, &crate::json::documented());
    let hosts = doc["apps"][0]["hosts"].as_array().unwrap().clone();
    assert_eq!(hosts.len(), 3, "{doc}");
    for (h, x) in [&h1, &h2].iter().zip(&hosts) {
        assert_eq!(x["host"], h.addr.as_str());
        let s = &x["status"];
        assert_eq!(s["health"]["up"], true, "{x}");
        assert_eq!(s["deployed"]["kind"], "release", "{x}");
        assert_eq!(s["drift"]["changed"].as_array().unwrap().len(), 0, "{x}");
    }
    assert!(
        hosts[2]["error"]
            .as_str()
            .unwrap()
            .contains("cannot connect"),
        "{}",
        hosts[2]
    );
    assert_eq!(doc["apps"][0]["last"]["outcome"], "failed", "{doc}");
    let text = c.run(&["status", "demo"]).code_is(1).stdout();
    assert!(text.contains("demo on its hosts:"), "{text}");
    assert!(text.contains("2 of 3 hosts up"), "{text}");
}

/// A glibc runner with no static build of its version beside it and none configured sends
/// itself, and says why that may not start on older hosts and how to get the static one.
#[test]
fn install_agent_without_a_static_build_says_how_to_get_one() {
    let keys = Sandbox::new("fleetinstalls-keys");
    let h1 = host(&keys.root, "fleetinstalls-h1", "");
    let c = central("fleetinstalls-central", &keys.root, &[&h1.addr], "");
    without_runner(&c);
    // This runner, alone in a dir of its own (a hard link: no static build beside it).
    let alone = c.root.join("bin/runner");
    fs::create_dir_all(alone.parent().unwrap()).unwrap();
    fs::hard_link(crate::util::RUNNER, &alone).unwrap();
    // A static build of another version beside it (an upgrade left it): passed over, said.
    let stale = alone.with_file_name("runner-static");
    fs::write(&stale, "#!/bin/sh\necho runner 0.0.1\n").unwrap();
    fs::set_permissions(&stale, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let cmd = c.cmd();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut cmd = std::process::Command::new(&alone);
    cmd.args(args)
        .args(["release", "demo", "--install-agent", "--yes"])
        .env("LANG", "C.UTF-8")
        .stdin(std::process::Stdio::null());
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("glibc build") && err.contains("x86_64-unknown-linux-musl"),
        "{err}"
    );
    assert!(
        err.contains("passed over") && err.contains("runner 0.0.1"),
        "{err}"
    );
    let installed = h1
        .sb
        .root
        .join(format!(".runner/bin/runner-{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(
        crate::util::sha(&installed),
        crate::util::sha(&alone),
        "itself, as a last resort"
    );
}

/// A host whose runner fails before it reports (its deploy dir is gone) is recorded with that
/// runner's own error, in English, though the central runner (and so the host's) speaks
/// Chinese: not with the last line of its Chinese stderr.
#[test]
fn a_host_failing_before_its_report_is_recorded_with_its_error_in_english() {
    let keys = Sandbox::new("fleetnoreport-keys");
    let h1 = host(&keys.root, "fleetnoreport-h1", "");
    let c = central("fleetnoreport-central", &keys.root, &[&h1.addr], "");
    fs::rename(h1.sb.deploy("demo"), h1.sb.root.join("moved-away")).unwrap();
    let r = c
        .run_env(
            &["--json", "release", "demo", "--yes"],
            &[("LANG", "zh_CN.UTF-8")],
        )
        .code_is(1);
    let last = r.stdout().lines().last().unwrap().to_string();
    let report: serde_json::Value = serde_json::from_str(&last).unwrap();
    let error = report["report"]["hosts"][0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("deploy dir") && error.contains("does not exist"),
        "{error}"
    );
    assert!(
        !error
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{error}"
    );
}
