//! The plugin host: real WASM components (built from `plugins/`) called around every step,
//! sandboxed, limited, and unable to take the runner down.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use crate::util::{Run, Sandbox, jar, plugin_wasm, snapshot};

/// An app `svc` with one jar to release and the `hostile` plugin configured by `body`.
fn with_hostile(name: &str, body: &str) -> Sandbox {
    let sb = Sandbox::new(name)
        .app("svc", "restart = [\"true\"]")
        .plugin(&format!(
            "name = \"hostile\"\nwasm = \"{}\"\n{body}",
            plugin_wasm("hostile").display()
        ))
        .write_config();
    fs::write(sb.deploy("svc/a.jar"), jar(&[("A", b"old")])).unwrap();
    sb.stage("svc", "a.jar", &jar(&[("A", b"new")]));
    sb
}

/// The `hostile` plugin on `hook`, for tests that drive the plugin host directly.
fn hostile_spec(
    hook: &str,
    allow: runner::config::Allow,
    config: &[(&str, &str)],
) -> runner::config::Plugin {
    runner::config::Plugin {
        name: "hostile".into(),
        wasm: plugin_wasm("hostile"),
        hooks: vec![hook.into()],
        on_error: runner::config::OnError::Abort,
        timeout: Duration::from_secs(30),
        memory: 64 << 20,
        allow,
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn history(sb: &Sandbox) -> serde_json::Value {
    sb.run(&["--json", "history", "svc"])
        .success()
        .doc("records")
}

fn all_output(r: &Run) -> String {
    format!("{}{}", r.stdout(), r.stderr())
}

#[test]
fn an_infinite_loop_is_stopped_by_the_timeout() {
    let sb = with_hostile(
        "loop",
        "timeout = \"300ms\"\nconfig = { mode = \"loop\", on = \"before-backup\" }",
    );
    let before = snapshot(&sb.deploy("svc"));
    let r = sb.run(&["release", "svc", "--yes"]).code_is(1);
    let out = all_output(&r);
    assert!(
        out.contains("plugin `hostile` failed in before-backup: timed out after 300ms"),
        "{out}"
    );
    assert_eq!(snapshot(&sb.deploy("svc")), before, "nothing was installed");
    assert_eq!(history(&sb)[0]["outcome"], "failed");
}

#[test]
fn a_sleeping_plugin_is_stopped_by_the_timeout() {
    let sb = with_hostile(
        "sleep",
        "timeout = \"300ms\"\nconfig = { mode = \"sleep\", on = \"release-start\" }",
    );
    let r = sb.run(&["release", "svc", "--yes"]).code_is(1);
    assert!(
        all_output(&r).contains("timed out after 300ms"),
        "{}",
        all_output(&r)
    );
}

#[test]
fn a_memory_bomb_is_stopped_by_the_limit() {
    let sb = with_hostile(
        "membomb",
        "memory = \"32MiB\"\nconfig = { mode = \"memory\", on = \"before-install\" }",
    );
    let r = sb.run(&["release", "svc", "--yes"]).code_is(1);
    let out = all_output(&r);
    assert!(
        out.contains(
            "plugin `hostile` failed in before-install: exceeded its memory limit of 32 MiB"
        ),
        "{out}"
    );
}

#[test]
fn a_panic_fails_the_hook_with_the_panic_message() {
    let sb = with_hostile(
        "panic",
        "config = { mode = \"panic\", on = \"release-start\" }",
    );
    let r = sb.run(&["release", "svc", "--yes"]).code_is(1);
    let out = all_output(&r);
    assert!(
        out.contains("plugin `hostile` failed in release-start: trapped"),
        "{out}"
    );
    assert!(
        out.contains("hostile panic"),
        "the plugin's stderr is attached:\n{out}"
    );
}

#[test]
fn a_trap_in_one_hook_does_not_poison_the_next() {
    // on_error = warn: the failed hook is reported and the release goes on; every later hook
    // of the same plugin runs in a fresh instance and proceeds.
    let sb = with_hostile(
        "poison",
        "on_error = \"warn\"\nconfig = { mode = \"panic\", on = \"before-backup\" }",
    );
    let r = sb.run(&["release", "svc", "--yes"]).success();
    assert!(r.stderr().contains("on_error = warn"), "{}", r.stderr());
    let h = history(&sb);
    assert_eq!(h[0]["outcome"], "success");
    let hooks = h[0]["hooks"].as_array().unwrap();
    let decision = |hook: &str| {
        hooks
            .iter()
            .find(|c| c["hook"] == hook)
            .map(|c| c["decision"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{hook} not called: {hooks:?}"))
    };
    assert_eq!(decision("before-backup"), "failed");
    for later in [
        "after-backup",
        "before-install",
        "after-install",
        "before-restart",
        "release-end",
    ] {
        assert_eq!(decision(later), "proceed", "{later}");
    }
}

#[test]
fn reading_outside_the_grants_is_denied() {
    // The plugin aborts if it manages to read the file; denied, it proceeds.
    let sb = with_hostile(
        "readout",
        "config = { mode = \"read-outside\", path = \"/etc/hostname\", on = \"release-start\" }",
    );
    sb.run(&["release", "svc", "--yes"]).success();
}

#[test]
fn a_granted_dir_is_readable() {
    // The same plugin, granted /etc read-only, can read the file — and so aborts.
    let sb = with_hostile(
        "readin",
        "allow = { dirs = [\"/etc\"] }\nconfig = { mode = \"read-outside\", path = \"/etc/hostname\", on = \"release-start\" }",
    );
    let r = sb.run(&["release", "svc", "--yes"]).code_is(1);
    assert!(
        all_output(&r).contains("read succeeded"),
        "{}",
        all_output(&r)
    );
}

#[test]
fn exec_of_a_program_not_granted_is_denied() {
    let sb = with_hostile(
        "exec",
        "allow = { exec = [\"true\"] }\nconfig = { mode = \"exec-ungranted\", on = \"release-start\" }",
    );
    let r = sb.run(&["release", "svc", "--yes"]).success();
    assert!(
        r.stderr()
            .contains("plugin hostile (release-start): denied exec of `sh`"),
        "{}",
        r.stderr()
    );
}

#[test]
fn http_to_a_host_not_granted_is_denied() {
    let sb = with_hostile(
        "http",
        "allow = { http = [\"127.0.0.1\"] }\nconfig = { mode = \"http-ungranted\", on = \"release-start\" }",
    );
    let r = sb.run(&["release", "svc", "--yes"]).success();
    assert!(
        r.stderr().contains("denied http to `example.com`"),
        "{}",
        r.stderr()
    );
}

#[test]
fn abort_before_install_touches_nothing() {
    let sb = with_hostile(
        "abort",
        "config = { mode = \"abort\", on = \"before-install\" }",
    );
    let before = snapshot(&sb.deploy("svc"));
    let r = sb.run(&["release", "svc", "--yes"]).code_is(1);
    assert!(
        all_output(&r).contains("plugin `hostile` aborted in before-install: hostile says no"),
        "{}",
        all_output(&r)
    );
    assert_eq!(snapshot(&sb.deploy("svc")), before);
    assert_eq!(history(&sb)[0]["outcome"], "failed");
}

#[test]
fn abort_after_install_rolls_back() {
    let sb = with_hostile(
        "abort2",
        "config = { mode = \"abort\", on = \"after-install\" }",
    );
    let before = snapshot(&sb.deploy("svc"));
    sb.run(&["release", "svc", "--yes"]).code_is(1);
    assert_eq!(
        snapshot(&sb.deploy("svc")),
        before,
        "the install was undone"
    );
    assert_eq!(history(&sb)[0]["outcome"], "rolled-back");
}

#[test]
fn state_set_in_a_before_hook_is_read_in_its_after_hook() {
    let sb = with_hostile("state", "config = { mode = \"state\" }");
    let r = sb.run(&["release", "svc", "--yes"]);
    assert_eq!(r.code(), Some(0), "{}", all_output(&r));
    let calls = history(&sb)[0]["hooks"].as_array().unwrap().len();
    assert!(calls >= 10, "every hook was called ({calls})");
}

#[test]
fn a_component_of_another_world_is_refused() {
    let sb = Sandbox::new("wrongworld")
        .app("svc", "restart = [\"true\"]")
        .plugin(&format!(
            "name = \"odd\"\nwasm = \"{}\"",
            plugin_wasm("wrong-world").display()
        ))
        .write_config();
    sb.stage("svc", "a.jar", &jar(&[("A", b"1")]));
    let r = sb.run(&["release", "svc", "--yes"]).code_is(2);
    assert!(
        r.stderr()
            .contains("does not export the runner:plugin@0.2.0 or 0.1.0 world"),
        "{}",
        r.stderr()
    );
    assert!(!sb.deploy("svc/a.jar").exists());
    let c = sb
        .run(&[
            "plugin",
            "check",
            plugin_wasm("wrong-world").to_str().unwrap(),
        ])
        .code_is(2);
    assert!(
        c.stderr().contains("no export `describe`"),
        "{}",
        c.stderr()
    );
}

#[test]
fn plugin_list_flags_needs_the_operator_did_not_grant() {
    let sb = with_hostile("list", "allow = { exec = [\"sh\"] }");
    let l = sb
        .run(&["--json", "plugin", "list"])
        .success()
        .doc("plugins");
    assert_eq!(l[0]["name"], "hostile");
    assert_eq!(l[0]["wit"], "runner:plugin@0.1.0");
    let missing: Vec<&str> = l[0]["not_granted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(missing, ["dir /etc", "http example.com"]);
    let text = sb.run(&["plugin", "list"]).success().stdout();
    assert!(text.contains("http example.com"), "{text}");

    let check = sb
        .run(&[
            "--json",
            "plugin",
            "check",
            plugin_wasm("hostile").to_str().unwrap(),
        ])
        .success()
        .doc("plugin");
    assert_eq!(check["wit"], "runner:plugin@0.1.0");
    assert_eq!(check["needs"]["exec"][0], "sh");
}

#[test]
fn skip_from_restart_command_replaces_the_restart() {
    let sb = Sandbox::new("restartcmd");
    let marker = sb.root.join("restarted-by-plugin");
    // The built-in restart would fail: only the plugin's restart can make this release pass.
    let sb = sb
        .app("svc", "restart = [\"false\"]")
        .plugin(&format!(
            "name = \"restart\"\nwasm = \"{}\"\nallow = {{ exec = [\"touch\"] }}\nconfig = {{ command = [\"touch\", \"{}\"] }}",
            plugin_wasm("restart-command").display(),
            marker.display()
        ))
        .write_config();
    sb.stage("svc", "a.jar", &jar(&[("A", b"1")]));
    let r = sb.run(&["release", "svc", "--yes"]).success();
    assert!(
        r.stdout().contains("done by plugin restart"),
        "{}",
        r.stdout()
    );
    assert!(marker.exists());
}

#[test]
fn webhook_notify_posts_the_release_summary() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut len = 0;
        let mut head = String::new();
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            head.push_str(&line);
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .unwrap();
        (head, String::from_utf8(body).unwrap())
    });
    let sb = Sandbox::new("webhook")
        .app("svc", "restart = [\"true\"]")
        .plugin(&format!(
            "name = \"notify\"\nwasm = \"{}\"\nallow = {{ http = [\"127.0.0.1\"] }}\nconfig = {{ url = \"http://127.0.0.1:{port}/hook\", format = \"dingtalk\" }}",
            plugin_wasm("webhook-notify").display()
        ))
        .write_config();
    sb.stage("svc", "lib/a.jar", &jar(&[("A", b"1")]));
    sb.run(&["release", "svc", "--yes"]).success();
    let (head, body) = server.join().unwrap();
    assert!(head.starts_with("POST /hook"), "{head}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["msgtype"], "markdown", "{body}");
    let text = v["markdown"]["text"].as_str().unwrap();
    assert!(
        text.contains("svc") && text.contains("success") && text.contains("lib/a.jar"),
        "{text}"
    );
}

/// A component built by a plugin's own build script (Python/JS toolchains), once per run.
pub fn built_by_script(dir: &str, out: &str) -> std::path::PathBuf {
    built_by_script_with(dir, out, &[])
}

/// Like [`built_by_script`], with `env` for the build script (e.g. `ENGINE` of freeze-gate-js).
pub fn built_by_script_with(dir: &str, out: &str, env: &[(&str, &str)]) -> std::path::PathBuf {
    use std::sync::{Mutex, OnceLock};
    static LOCK: OnceLock<Mutex<()>> = OnceLock::new();
    let _guard = LOCK.get_or_init(|| Mutex::new(())).lock().unwrap();
    let wasm = crate::util::repo().join("target/plugins").join(out);
    if !wasm.exists() {
        let st = std::process::Command::new("bash")
            .arg(
                crate::util::repo()
                    .join("plugins")
                    .join(dir)
                    .join("build.sh"),
            )
            .arg(&wasm)
            .envs(env.iter().copied())
            .status()
            .unwrap();
        assert!(st.success(), "building {dir} failed");
    }
    wasm
}

#[test]
fn python_audit_log_writes_a_line_per_hook_into_its_granted_dir() {
    let wasm = built_by_script("audit-log-py", "audit-log-py.wasm");
    let sb = Sandbox::new("auditpy");
    let dir = sb.root.join("audit");
    fs::create_dir_all(&dir).unwrap();
    let sb = sb
        .app("svc", "restart = [\"true\"]")
        .plugin(&format!(
            "name = \"audit\"\nwasm = \"{}\"\ntimeout = \"30s\"\nallow = {{ rw = [\"{}\"] }}\nconfig = {{ file = \"{}/audit.jsonl\" }}",
            wasm.display(),
            dir.display(),
            dir.display()
        ))
        .write_config();
    sb.stage("svc", "a.jar", &jar(&[("A", b"1")]));
    sb.run(&["release", "svc", "--yes"]).success();
    let id = history(&sb)[0]["id"].as_str().unwrap().to_string();
    let text = fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let hooks: Vec<&str> = lines.iter().map(|l| l["hook"].as_str().unwrap()).collect();
    assert_eq!(
        hooks,
        ["release-start", "after-install", "release-end"],
        "{text}"
    );
    assert!(
        lines.iter().all(|l| l["release_id"] == id.as_str()),
        "{text}"
    );
    assert_eq!(lines[2]["outcome"], "success");
}

/// The same JS source, built with each of jco's engines: QuickJS (what build.sh makes by
/// default) and StarlingMonkey.
#[test]
fn js_freeze_gate_aborts_inside_a_window_and_not_outside() {
    for (engine, out) in [
        ("quickjs", "freeze-gate-js.wasm"),
        ("starlingmonkey", "freeze-gate-js-sm.wasm"),
    ] {
        let wasm = built_by_script_with("freeze-gate-js", out, &[("ENGINE", engine)]);
        freeze_gate(engine, &wasm);
    }
}

fn freeze_gate(engine: &str, wasm: &std::path::Path) {
    let windows = r#"[{ start = "2026-12-24T00:00:00Z", end = "2026-12-27T00:00:00Z", reason = "holidays" }]"#;
    let gate = |name: &str, now: &str| {
        let sb = Sandbox::new(&format!("{name}{engine}"))
            .app("svc", "restart = [\"true\"]")
            .plugin(&format!(
                "name = \"freeze\"\nwasm = \"{}\"\ntimeout = \"30s\"\nconfig = {{ now = \"{now}\", windows = {windows} }}",
                wasm.display()
            ))
            .write_config();
        fs::write(sb.deploy("svc/a.jar"), jar(&[("A", b"old")])).unwrap();
        sb.stage("svc", "a.jar", &jar(&[("A", b"new")]));
        sb
    };
    let frozen = gate("freezein", "2026-12-25T12:00:00Z");
    let before = snapshot(&frozen.deploy("svc"));
    let r = frozen.run(&["release", "svc", "--yes"]).code_is(1);
    assert!(
        all_output(&r)
            .contains("plugin `freeze` aborted in release-start: change freeze: holidays"),
        "{engine}: {}",
        all_output(&r)
    );
    assert_eq!(snapshot(&frozen.deploy("svc")), before, "{engine}");

    let open = gate("freezeout", "2026-12-28T09:00:00Z");
    open.run(&["release", "svc", "--yes"]).success();
}

#[test]
fn after_hooks_of_a_failed_step_are_told_its_error() {
    let wasm = built_by_script("audit-log-py", "audit-log-py.wasm");
    let sb = Sandbox::new("afterr");
    let dir = sb.root.join("audit");
    fs::create_dir_all(&dir).unwrap();
    let log = sb.root.join("svc.log");
    // The app never logs a ready line: verify times out, and so does the rollback's verify.
    let sb = sb
        .app(
            "svc",
            &format!(
                "restart = [\"true\"]\nlog = \"{}\"\nready_timeout = \"300ms\"",
                log.display()
            ),
        )
        .plugin(&format!(
            "name = \"audit\"\nwasm = \"{}\"\ntimeout = \"30s\"\nhooks = [\"after-verify\", \"release-end\"]\nallow = {{ rw = [\"{}\"] }}\nconfig = {{ file = \"{}/audit.jsonl\" }}",
            wasm.display(),
            dir.display(),
            dir.display()
        ))
        .write_config();
    sb.stage("svc", "a.jar", &jar(&[("A", b"1")]));
    sb.run(&["release", "svc", "--yes"]).code_is(1);
    let text = fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["hook"], "after-verify", "{text}");
    assert!(
        lines[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no line matching"),
        "{text}"
    );
    let end = lines.last().unwrap();
    assert_eq!(end["hook"], "release-end", "{text}");
    assert_eq!(end["outcome"], "rollback-failed", "{text}");
}

#[test]
fn a_plugin_restart_that_waits_for_start_up_is_still_verified() {
    // Regression: the log mark was taken after `before-restart`, so a plugin restart that
    // returned only once the app was up had its `Started` line land before the mark.
    let sb = Sandbox::new("waitrestart").jvm_app("demo", crate::util::Build::V1);
    let (dir, port) = (sb.deploy("demo"), sb.port("demo"));
    let service = crate::util::repo().join("examples/demo-app/service.sh");
    let script = format!(
        "{} restart {} && until curl -sf http://127.0.0.1:{port}/actuator/health; do sleep 0.05; done",
        service.display(),
        dir.display()
    );
    let sb = sb
        .plugin(&format!(
            "name = \"restart\"\nwasm = \"{}\"\ntimeout = \"60s\"\nhooks = [\"before-restart\"]\nallow = {{ exec = [\"sh\"] }}\nconfig = {{ command = [\"sh\", \"-c\", \"{script}\"] }}",
            plugin_wasm("restart-command").display()
        ))
        .write_config();
    sb.start("demo");
    sb.stage_build("demo", crate::util::Build::V2);
    let r = sb.run(&["release", "demo", "--yes"]);
    assert_eq!(r.code(), Some(0), "{}", all_output(&r));
    assert!(
        r.stdout().contains("done by plugin restart"),
        "{}",
        r.stdout()
    );
    assert_eq!(sb.version("demo"), "app=2.0.0 lib=2.0.0");
}

/// Instances are made ahead of their calls, with the granted dirs opened then. A granted path
/// swapped in between (a `current` symlink moved by an install) must not leave the call looking
/// at the old directory: the call gets an instance that sees the new one.
#[test]
fn an_instance_made_ahead_sees_a_granted_dir_swapped_since() {
    use runner::plugin::{HookEvent, PluginHost, Verdict};
    let sb = Sandbox::new("swapdir");
    let (a, b, link) = (
        sb.root.join("a"),
        sb.root.join("b"),
        sb.root.join("current"),
    );
    for (dir, text) in [(&a, "first"), (&b, "second")] {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join("marker"), text).unwrap();
    }
    std::os::unix::fs::symlink(&a, &link).unwrap();
    let marker = link.join("marker").display().to_string();
    let spec = hostile_spec(
        "before-install",
        runner::config::Allow {
            dirs: vec![link.clone()],
            ..Default::default()
        },
        &[("mode", "read-outside"), ("path", marker.as_str())],
    );
    let mut host = PluginHost::empty(&sb.state()).unwrap();
    let loaded = host.load_one(spec).unwrap();
    host.plugins.push(loaded);
    let ui = runner::report::Ui {
        quiet: true,
        ..Default::default()
    };
    // The plugin answers abort("read succeeded: <path>: <text>") when it can read the file.
    let read = |host: &PluginHost| {
        let ev = HookEvent {
            hook: runner::hook::Hook::BeforeInstall,
            release_id: "r1",
            app: "svc",
            host: "local",
            batch: None,
            changes: &[],
            dry_run: false,
            error: None,
            outcome: None,
        };
        match host.call(&ev, &ui) {
            Verdict::Abort { reason, .. } => reason,
            other => panic!("expected the plugin to read {marker}: {other:?}"),
        }
    };
    host.prepare_all();
    host.wait_prepared();
    let swapped = sb.root.join("current.new");
    std::os::unix::fs::symlink(&b, &swapped).unwrap();
    fs::rename(&swapped, &link).unwrap();
    let seen = read(&host);
    assert!(seen.ends_with(": second"), "{seen}");
    // Nothing moved since: the instance made during that call serves the next one.
    host.wait_prepared();
    let seen = read(&host);
    assert!(seen.ends_with(": second"), "{seen}");
}

/// What a plugin can put in front of the operator, or into the history, is bounded.
#[test]
fn a_flood_of_log_lines_denials_or_a_huge_abort_is_bounded() {
    let sb = with_hostile(
        "logflood",
        "on_error = \"warn\"\ntimeout = \"20s\"\nconfig = { mode = \"log-flood\", on = \"before-backup\" }",
    );
    let r = sb.run(&["release", "svc", "--yes"]).success();
    let out = all_output(&r);
    assert!(out.len() < 100_000, "{} bytes of output", out.len());
    assert!(
        out.contains("more log lines dropped"),
        "{}",
        &out[out.len().saturating_sub(2000)..]
    );

    let sb = with_hostile(
        "denyflood",
        "timeout = \"20s\"\nconfig = { mode = \"deny-flood\", on = \"before-backup\" }",
    );
    let r = sb.run(&["release", "svc", "--yes"]).success();
    let err = r.stderr();
    assert!(err.len() < 20_000, "{} bytes on stderr", err.len());
    assert_eq!(err.matches("denied exec of `sh`").count(), 10, "{err}");
    assert!(err.contains("9990 more denials not shown"), "{err}");

    let sb = with_hostile(
        "hugeabort",
        "timeout = \"20s\"\nconfig = { mode = \"huge-abort\", on = \"before-backup\" }",
    );
    let r = sb.run(&["release", "svc", "--yes"]).code_is(1);
    let out = all_output(&r);
    assert!(out.len() < 40_000, "{} bytes of output", out.len());
    assert!(
        out.contains("more bytes cut]"),
        "{}",
        &out[..out.len().min(2000)]
    );
    let records = sb.state().join("history/svc");
    let record = fs::read_dir(&records)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let size = fs::metadata(&record).unwrap().len();
    assert!(size < 64 << 10, "the history record is {size} bytes");
}

/// Plugin state is capped per (plugin, release), written once per call, and gone when the
/// release ends.
#[test]
fn plugin_state_is_capped_and_removed_when_the_release_ends() {
    let sb = with_hostile(
        "stateflood",
        "timeout = \"20s\"\nconfig = { mode = \"state-flood\", on = \"before-backup\" }",
    );
    let r = sb.run(&["release", "svc", "--yes"]).success();
    assert!(
        r.stderr()
            .contains("state-set calls refused (a plugin keeps at most 256 keys"),
        "{}",
        r.stderr()
    );
    let dir = sb.state().join("plugin-state");
    let left: Vec<_> = fs::read_dir(&dir).map(|d| d.collect()).unwrap_or_default();
    assert!(
        left.is_empty(),
        "the release's plugin state is removed: {left:?}"
    );
}

/// A plugin that opens a FIFO in a granted dir blocks in the kernel: the hook times out, and
/// runner still exits.
#[test]
fn a_plugin_blocked_on_a_fifo_does_not_keep_runner_from_exiting() {
    let sb = Sandbox::new("fifo");
    let granted = sb.root.join("granted");
    fs::create_dir_all(&granted).unwrap();
    let fifo = granted.join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let sb = sb
        .app("svc", "restart = [\"true\"]")
        .plugin(&format!(
            "name = \"hostile\"\nwasm = \"{}\"\ntimeout = \"1s\"\nallow = {{ dirs = [\"{}\"] }}\nconfig = {{ mode = \"read-outside\", path = \"{}\", on = \"before-backup\" }}",
            plugin_wasm("hostile").display(),
            granted.display(),
            fifo.display()
        ))
        .write_config();
    fs::write(sb.deploy("svc/a.jar"), jar(&[("A", b"old")])).unwrap();
    sb.stage("svc", "a.jar", &jar(&[("A", b"new")]));
    let out = sb.root.join("release.out");
    let mut child = sb
        .cmd()
        .args(["release", "svc", "--yes"])
        .stdout(fs::File::create(&out).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("runner did not exit with a plugin blocked on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = fs::read_to_string(&out).unwrap();
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(out.contains("timed out after 1s"), "{out}");
}

#[test]
fn plugin_check_names_a_core_module_as_such() {
    let sb = Sandbox::new("coremodule");
    let core = sb.root.join("core.wasm");
    fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let r = sb
        .run(&["plugin", "check", core.to_str().unwrap()])
        .code_is(2);
    assert!(
        r.stderr().contains("a core WASM module, not a component"),
        "{}",
        r.stderr()
    );
}

/// A fleet calls its central hooks from a thread per host: calls of one plugin never overlap
/// (nginx-drain edits one upstream file per call). The plugin holds a marker file for 300 ms
/// and aborts if it finds one: two calls at once from two threads both proceed.
#[test]
fn calls_of_one_plugin_from_two_threads_never_overlap() {
    use runner::plugin::{HookEvent, PluginHost, Verdict};
    let sb = Sandbox::new("exclusive");
    let dir = sb.root.join("shared");
    fs::create_dir_all(&dir).unwrap();
    let d = dir.display().to_string();
    let spec = hostile_spec(
        "before-host",
        runner::config::Allow {
            rw: vec![dir.clone()],
            ..Default::default()
        },
        &[("mode", "exclusive"), ("dir", d.as_str())],
    );
    let mut host = PluginHost::with_room(&sb.state(), 1, 4).unwrap();
    let loaded = host.load_one(spec).unwrap();
    host.plugins.push(loaded);
    let ui = runner::report::Ui {
        quiet: true,
        ..Default::default()
    };
    let verdicts: Vec<Verdict> = std::thread::scope(|s| {
        let calls: Vec<_> = ["h1", "h2"]
            .into_iter()
            .map(|h| {
                let (host, ui) = (&host, &ui);
                s.spawn(move || {
                    let ev = HookEvent {
                        hook: runner::hook::Hook::BeforeHost,
                        release_id: "r1",
                        app: "svc",
                        host: h,
                        batch: None,
                        changes: &[],
                        dry_run: false,
                        error: None,
                        outcome: None,
                    };
                    host.call(&ev, ui)
                })
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert!(
        verdicts.iter().all(|v| *v == Verdict::Proceed),
        "{verdicts:?}"
    );
}

/// A plugin built against 0.1.0 cannot be called at a hook 0.2.0 brought: its event has no
/// batch. The release is refused before anything is touched, naming the hook and the version.
#[test]
fn a_plugin_built_against_0_1_0_is_not_subscribed_to_a_batch_hook() {
    let sb = with_hostile("oldbatch", "hooks = [\"before-batch\"]");
    let r = sb.run(&["release", "svc", "--yes"]).code_is(2);
    assert!(
        r.stderr().contains(
            "`before-batch` is a hook of runner:plugin@0.2.0, and it is built against 0.1.0"
        ),
        "{}",
        r.stderr()
    );
    assert_eq!(
        fs::read(sb.deploy("svc/a.jar")).unwrap(),
        jar(&[("A", b"old")])
    );
}

/// `runner plugin wit` writes the WIT packages built into this runner, byte for byte what
/// `wit/` holds (and the Rust SDK's copies): every version in its own dir, or one version
/// straight into the dir given.
#[test]
fn plugin_wit_writes_the_packages_runner_speaks() {
    let sb = Sandbox::new("pluginwit");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let all = sb.root.join("all");
    sb.run(&["plugin", "wit", "-o", all.to_str().unwrap()])
        .success();
    for v in ["0.1.0", "0.2.0"] {
        let wit = fs::read(repo.join("wit").join(v).join("plugin.wit")).unwrap();
        assert_eq!(
            fs::read(all.join(v).join("plugin.wit")).unwrap(),
            wit,
            "{v}"
        );
        // The Rust SDK's own copy (it embeds the WIT: no path into this repo).
        let sdk = repo
            .join("plugins/runner-plugin/wit")
            .join(v)
            .join("plugin.wit");
        assert_eq!(fs::read(&sdk).unwrap(), wit, "{}", sdk.display());
    }
    let one = sb.root.join("one");
    sb.run(&[
        "plugin",
        "wit",
        "--version",
        "0.1.0",
        "-o",
        one.to_str().unwrap(),
    ])
    .success();
    assert_eq!(
        fs::read(one.join("plugin.wit")).unwrap(),
        fs::read(repo.join("wit/0.1.0/plugin.wit")).unwrap()
    );
    let r = sb.run(&[
        "plugin",
        "wit",
        "--version",
        "9.9.9",
        "-o",
        one.to_str().unwrap(),
    ]);
    assert_eq!(r.out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.out.stderr);
    assert!(
        err.contains("9.9.9") && err.contains("0.2.0, 0.1.0"),
        "{err}"
    );
}

/// `runner plugin call <wasm> <args…>` in `sb` (`--json` may come anywhere in `args`).
fn plugin_call(sb: &Sandbox, wasm: &str, args: &[&str]) -> Run {
    sb.run(&[&["plugin", "call", wasm][..], args].concat())
}

/// `runner plugin call`: one hook in the release's sandbox, outside any release. Here the
/// plugin is denied an exec: the call proceeds, and the denial is listed with the plugin's log
/// line; the JSON says the same. Granted, the same exec runs (and the plugin aborts, as it
/// does when an exec it should not have gets through).
#[test]
fn plugin_call_lists_the_host_calls_made_or_denied() {
    let sb = Sandbox::new("plugincall")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    let wasm = plugin_wasm("hostile");
    let wasm = wasm.to_str().unwrap();
    let r = plugin_call(
        &sb,
        wasm,
        &["before-restart", "--set", "mode=exec-ungranted"],
    );
    let out = r.success().stdout();
    assert!(out.contains("hostile before-restart: proceed"), "{out}");
    assert!(out.contains("info  exec sh denied"), "{out}");
    assert!(
        out.contains("exec      sh -c echo pwned → denied: exec of `sh` is not granted"),
        "{out}"
    );
    assert!(out.contains("peak memory"), "{out}");
    let doc = plugin_call(
        &sb,
        wasm,
        &["--json", "before-restart", "--set", "mode=exec-ungranted"],
    )
    .success()
    .doc("call");
    assert_eq!(doc["decision"], "proceed");
    assert_eq!(doc["host_calls"][0]["call"], "exec");
    assert_eq!(doc["host_calls"][0]["what"], "sh -c echo pwned");
    assert_eq!(doc["host_calls"][0]["denied"], true);
    assert_eq!(doc["logs"][0]["level"], "info");
    assert!(doc["peak_memory"].as_u64().unwrap() > 0, "{doc}");
    // Granted, the exec runs: the plugin says so by aborting (exit 1).
    let r = plugin_call(
        &sb,
        wasm,
        &[
            "--json",
            "before-restart",
            "--set",
            "mode=exec-ungranted",
            "--allow-exec",
            "sh",
        ],
    );
    assert_eq!(r.out.status.code(), Some(1), "{}", all_output(&r));
    let doc = r.doc("call");
    assert_eq!(doc["decision"], "abort");
    assert_eq!(doc["reason"], "exec succeeded");
    assert_eq!(doc["host_calls"][0]["denied"], false);
    assert_eq!(doc["host_calls"][0]["result"], "exit 0");
}

/// An abort exits 1 with its reason shown; a call that fails (here: the timeout) exits 2,
/// stopped at the timeout; plugin state a call sets is listed and never written to the state
/// dir (an event may name a real release).
#[test]
fn plugin_call_exits_by_the_decision() {
    let sb = Sandbox::new("plugincallexit")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    let wasm = plugin_wasm("hostile");
    let wasm = wasm.to_str().unwrap();
    let r = plugin_call(&sb, wasm, &["before-install", "--set", "mode=abort"]);
    assert_eq!(r.out.status.code(), Some(1), "{}", all_output(&r));
    assert!(
        r.stdout()
            .contains("hostile before-install: abort: hostile says no"),
        "{}",
        r.stdout()
    );
    let r = plugin_call(
        &sb,
        wasm,
        &[
            "--json",
            "before-install",
            "--set",
            "mode=loop",
            "--timeout",
            "1s",
        ],
    );
    assert_eq!(r.out.status.code(), Some(2), "{}", all_output(&r));
    let doc = r.doc("call");
    assert_eq!(doc["decision"], "failed");
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .contains("timed out after 1s"),
        "{doc}"
    );
    let took = doc["micros"].as_u64().unwrap();
    assert!(
        (1_000_000..3_000_000).contains(&took),
        "stopped after {took} µs"
    );
    let doc = plugin_call(
        &sb,
        wasm,
        &["--json", "before-restart", "--set", "mode=state"],
    )
    .success()
    .doc("call");
    let calls: Vec<&str> = doc["host_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call"].as_str().unwrap())
        .collect();
    assert_eq!(calls, ["state-set", "state-set"], "{doc}");
    let state = sb.state().join("plugin-state");
    assert!(
        fs::read_dir(&state).map(|d| d.count()).unwrap_or(0) == 0,
        "plugin call wrote plugin state into {}",
        state.display()
    );
}

/// The event can come from `runner history --json` (the newest record); bad input is refused
/// with what was wrong: an unknown hook, a `--set` without `=`, an event file that is not JSON.
#[test]
fn plugin_call_takes_an_event_from_the_history_and_refuses_bad_input() {
    let sb = with_hostile("plugincallevent", "hooks = [\"release-end\"]");
    sb.run(&["release", "svc", "--yes"]).success();
    let hist = sb.root.join("history.json");
    let r = sb.run(&["--json", "history", "svc"]).success();
    fs::write(&hist, r.stdout()).unwrap();
    let id = r.doc("records")[0]["id"].as_str().unwrap().to_string();
    let wasm = plugin_wasm("hostile");
    let wasm = wasm.to_str().unwrap();
    let doc = plugin_call(
        &sb,
        wasm,
        &["--json", "release-end", "--event", hist.to_str().unwrap()],
    )
    .success()
    .doc("call");
    assert_eq!(doc["release_id"], id.as_str());
    let r = plugin_call(&sb, wasm, &["before-restrat"]);
    assert_eq!(r.out.status.code(), Some(2));
    assert!(
        r.stderr().contains("before-restrat") && r.stderr().contains("before-restart"),
        "{}",
        r.stderr()
    );
    let r = plugin_call(&sb, wasm, &["before-restart", "--set", "mode"]);
    assert_eq!(r.out.status.code(), Some(2));
    assert!(r.stderr().contains("KEY=VALUE"), "{}", r.stderr());
    let bad = sb.root.join("bad.json");
    fs::write(&bad, "{ not json").unwrap();
    let r = plugin_call(
        &sb,
        wasm,
        &["release-end", "--event", bad.to_str().unwrap()],
    );
    assert_eq!(r.out.status.code(), Some(2));
    assert!(r.stderr().contains("bad.json"), "{}", r.stderr());
    fs::write(&bad, "[1, 2]").unwrap();
    let r = plugin_call(
        &sb,
        wasm,
        &["release-end", "--event", bad.to_str().unwrap()],
    );
    assert_eq!(r.out.status.code(), Some(2));
    assert!(
        r.stderr().contains("expected a JSON object"),
        "{}",
        r.stderr()
    );
}

/// `runner plugin new` in `lang`, then its build.sh (with `env`), then `plugin check` and
/// `plugin call`: the plugin asks for the hooks it was given and proceeds with its log line.
fn a_new_plugin_builds_and_proceeds(lang: &str, env: &[(&str, std::path::PathBuf)]) {
    let sb = Sandbox::new(&format!("pluginnew{lang}"))
        .app("svc", "restart = [\"true\"]")
        .write_config();
    let name = format!("hello-{lang}");
    let out = sb
        .run(&[
            "plugin",
            "new",
            &name,
            "--language",
            lang,
            "--hooks",
            "before-restart,after-verify",
            "--dir",
            sb.root.to_str().unwrap(),
        ])
        .success()
        .stdout();
    let dir = sb.root.join(&name);
    let wasm = dir.join(format!("{name}.wasm"));
    assert!(
        out.contains(&format!("cd {} && ./build.sh", dir.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("wasm = \"{}\"", wasm.display())),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(dir.join("wit/plugin.wit")).unwrap(),
        fs::read_to_string(crate::util::repo().join("wit/0.2.0/plugin.wit")).unwrap()
    );
    let st = std::process::Command::new(dir.join("build.sh"))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .status()
        .unwrap();
    assert!(st.success(), "{lang}: build.sh failed");
    let check = sb
        .run(&["--json", "plugin", "check", wasm.to_str().unwrap()])
        .success()
        .doc("plugin");
    assert_eq!(check["name"], name.as_str());
    assert_eq!(check["wit"], "runner:plugin@0.2.0");
    assert_eq!(
        check["hooks"],
        serde_json::json!(["before-restart", "after-verify"])
    );
    let r = sb
        .run(&["plugin", "call", wasm.to_str().unwrap(), "before-restart"])
        .success();
    assert!(
        r.stdout()
            .contains(&format!("{name} before-restart: proceed")),
        "{}",
        r.stdout()
    );
    assert!(
        r.stdout()
            .contains("info  before-restart for demo: 0 files"),
        "{}",
        r.stdout()
    );
}

#[test]
fn plugin_new_rust_builds_and_proceeds() {
    let target = crate::util::repo().join("target/plugin-new");
    a_new_plugin_builds_and_proceeds("rust", &[("CARGO_TARGET_DIR", target)]);
}

#[test]
fn plugin_new_python_builds_and_proceeds() {
    // The venv audit-log-py builds with (componentize-py installed once per run).
    built_by_script("audit-log-py", "audit-log-py.wasm");
    let venv = crate::util::repo().join("target/py-venv");
    a_new_plugin_builds_and_proceeds("python", &[("VENV", venv)]);
}

#[test]
fn plugin_new_js_builds_and_proceeds() {
    a_new_plugin_builds_and_proceeds("js", &[]);
}

/// The C template's build.sh on a host without the toolchain: it names what is missing and the
/// package that brings it, before installing or writing anything.
#[test]
fn plugin_new_c_names_what_is_missing() {
    let sb = Sandbox::new("pluginnewcbare");
    sb.run(&[
        "plugin",
        "new",
        "bare",
        "--language",
        "c",
        "--dir",
        sb.root.to_str().unwrap(),
    ])
    .success();
    // A PATH with the shell and nothing else: no clang, no cargo.
    let bin = sb.root.join("bin");
    fs::create_dir_all(&bin).unwrap();
    for tool in ["bash", "dirname"] {
        std::os::unix::fs::symlink(format!("/usr/bin/{tool}"), bin.join(tool)).unwrap();
    }
    let dir = sb.root.join("bare");
    let out = std::process::Command::new(dir.join("build.sh"))
        .env("PATH", &bin)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("clang not found: apt-get install clang"),
        "{err}"
    );
    let left: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        !left.iter().any(|n| n == ".tools" || n == "build"),
        "{left:?}"
    );
}

#[test]
fn plugin_new_c_builds_and_proceeds() {
    // wit-bindgen-cli and wasm-tools, installed by cargo once per machine.
    let tools = crate::util::repo().join("target/c-tools");
    a_new_plugin_builds_and_proceeds("c", &[("TOOLS", tools)]);
}

/// `plugin new` writes a whole project or nothing: a dir already there with files in it is
/// left alone, and a bad name, an unknown hook or a hook newer than `--wit` write nothing.
#[test]
fn plugin_new_never_writes_into_what_is_there() {
    let sb = Sandbox::new("pluginnewbad");
    let root = sb.root.to_str().unwrap();
    let taken = sb.root.join("taken");
    fs::create_dir_all(&taken).unwrap();
    fs::write(taken.join("mine.txt"), "keep").unwrap();
    let r = sb.run(&[
        "plugin",
        "new",
        "taken",
        "--language",
        "rust",
        "--dir",
        root,
    ]);
    assert_eq!(r.code(), Some(2), "{}", r.stderr());
    assert!(
        r.stderr().contains("exists and is not empty"),
        "{}",
        r.stderr()
    );
    assert_eq!(fs::read_dir(&taken).unwrap().count(), 1);
    assert_eq!(fs::read_to_string(taken.join("mine.txt")).unwrap(), "keep");
    for (args, says) in [
        (
            &["plugin", "new", "My_Plugin", "--language", "js"][..],
            "cannot name a plugin",
        ),
        (
            &[
                "plugin",
                "new",
                "p",
                "--language",
                "js",
                "--hooks",
                "before-restrat",
            ][..],
            "no hook",
        ),
        (
            &[
                "plugin",
                "new",
                "p",
                "--language",
                "js",
                "--wit",
                "0.1.0",
                "--hooks",
                "before-batch",
            ][..],
            "--wit 0.2.0",
        ),
    ] {
        let mut args = args.to_vec();
        args.extend(["--dir", root]);
        let r = sb.run(&args);
        assert_eq!(r.code(), Some(2), "{args:?}: {}", r.stderr());
        assert!(r.stderr().contains(says), "{args:?}: {}", r.stderr());
    }
    let left: Vec<String> = fs::read_dir(&sb.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n == "p" || n == "My_Plugin" || n.contains(".runner-new-"))
        .collect();
    assert!(left.is_empty(), "written anyway: {left:?}");
}
