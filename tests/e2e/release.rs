//! Release, rollback, common libs, locking, bad input: the release engine on one host.

use std::fs;
use std::io::Read;
use std::process::Stdio;

use crate::util::{Build, Sandbox, build, jar, sha, snapshot};

fn demo() -> Sandbox {
    let sb = Sandbox::new("demo")
        .jvm_app("demo", Build::V1)
        .write_config();
    sb.start("demo");
    assert_eq!(sb.version("demo"), "app=1.0.0 lib=1.0.0");
    sb
}

#[test]
fn release_serves_the_new_build_and_keeps_a_backup() {
    let sb = demo();
    let old = snapshot(&sb.deploy("demo"));
    sb.stage_build("demo", Build::V2);

    let plan = sb.run(&["--json", "plan", "demo"]).success().doc("plans");
    let changes = plan[0]["changes"].as_array().unwrap();
    let modified: Vec<&str> = changes
        .iter()
        .filter(|c| c["action"] == "modified")
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(modified, ["app.jar", "lib/demo-greeting.jar"]);

    let out = sb.run(&["release", "demo", "--yes"]).success();
    assert!(
        out.stdout().contains("Started DemoApp in"),
        "log lines are shown live:\n{}",
        out.stdout()
    );
    assert_eq!(sb.version("demo"), "app=2.0.0 lib=2.0.0");
    assert_eq!(
        sha(&sb.deploy("demo").join("app.jar")),
        sha(&build(Build::V2).join("app.jar"))
    );

    // The backup holds exactly the replaced files, as they were.
    let backups: Vec<_> = fs::read_dir(sb.backups("demo")).unwrap().collect();
    assert_eq!(backups.len(), 1);
    let bdir = backups[0].as_ref().unwrap().path();
    assert_eq!(sha(&bdir.join("files/app.jar")), old["app.jar"]);
    assert_eq!(
        sha(&bdir.join("files/lib/demo-greeting.jar")),
        old["lib/demo-greeting.jar"]
    );
    assert!(bdir.join("manifest.json").is_file());

    let h = sb
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    assert_eq!(h[0]["outcome"], "success");
    assert_eq!(h[0]["files"].as_array().unwrap().len(), 2);

    // Nothing left to do: a second release is a no-op.
    let again = sb
        .run(&["--json", "release", "demo", "--yes"])
        .success()
        .doc("reports");
    assert_eq!(again[0]["outcome"], "no-change");
}

#[test]
fn a_build_that_fails_to_start_is_rolled_back() {
    let sb = demo();
    let before = snapshot(&sb.deploy("demo"));
    sb.stage_build("demo", Build::Broken);

    let out = sb.run(&["release", "demo", "--yes"]).code_is(1);
    assert!(
        out.stdout().contains("APPLICATION FAILED TO START"),
        "{}",
        out.stdout()
    );
    assert!(out.stdout().contains("rolled back"), "{}", out.stdout());
    assert_eq!(sb.version("demo"), "app=1.0.0 lib=1.0.0");
    let after = snapshot(&sb.deploy("demo"));
    for f in ["app.jar", "lib/demo-greeting.jar"] {
        assert_eq!(after[f], before[f], "{f} is the old build again");
    }
    let h = sb
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    assert_eq!(h[0]["outcome"], "rolled-back");
    assert!(
        h[0]["error"]
            .as_str()
            .unwrap()
            .contains("APPLICATION FAILED TO START")
    );
}

#[test]
fn rollback_puts_back_the_previous_build() {
    let sb = demo();
    let v1 = snapshot(&sb.deploy("demo"));
    sb.stage_build("demo", Build::V2);
    sb.run(&["release", "demo", "--yes"]).success();
    assert_eq!(sb.version("demo"), "app=2.0.0 lib=2.0.0");

    sb.run(&["rollback", "demo", "--yes"]).success();
    assert_eq!(sb.version("demo"), "app=1.0.0 lib=1.0.0");
    let now = snapshot(&sb.deploy("demo"));
    for f in ["app.jar", "lib/demo-greeting.jar"] {
        assert_eq!(now[f], v1[f]);
    }
    let h = sb
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    assert_eq!(h[1]["kind"], "rollback");
    assert_eq!(h[1]["reverts"], h[0]["id"]);

    // The release is reverted: there is nothing more to roll back.
    let out = sb.run(&["rollback", "demo", "--yes"]).code_is(1);
    assert!(
        out.stderr().contains("no successful release to roll back"),
        "{}",
        out.stderr()
    );
}

#[test]
fn truncated_staged_jar_is_refused_and_nothing_is_touched() {
    let sb = Sandbox::new("truncated")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    fs::create_dir_all(sb.deploy("svc/lib")).unwrap();
    fs::write(sb.deploy("svc/lib/a.jar"), jar(&[("A.class", b"old")])).unwrap();
    fs::write(sb.deploy("svc/lib/b.jar"), jar(&[("B.class", b"old")])).unwrap();
    let good = jar(&[("A.class", b"new")]);
    let full = jar(&[("B.class", b"new"), ("C.class", &[7u8; 4000])]);
    sb.stage("svc", "lib/a.jar", &good);
    sb.stage("svc", "lib/b.jar", &full[..full.len() / 2]);
    let before = snapshot(&sb.deploy("svc"));

    let out = sb.run(&["release", "svc", "--yes"]).code_is(1);
    assert!(
        out.stderr().contains("is not a valid zip"),
        "{}",
        out.stderr()
    );
    assert!(out.stderr().contains("b.jar"), "{}", out.stderr());
    assert_eq!(
        snapshot(&sb.deploy("svc")),
        before,
        "deploy tree is byte-identical"
    );
    assert!(!sb.backups("svc").exists(), "no backup was started");

    let plan = sb.run(&["plan", "svc"]).code_is(1);
    assert!(plan.stdout().contains("invalid"), "{}", plan.stdout());
}

#[test]
fn two_releases_in_a_day_keep_both_backups() {
    let sb = Sandbox::new("twice")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    let v = |n: u8| jar(&[("A.class", &[n; 100])]);
    fs::create_dir_all(sb.deploy("svc")).unwrap();
    fs::write(sb.deploy("svc/a.jar"), v(1)).unwrap();
    sb.stage("svc", "a.jar", &v(2));
    sb.run(&["release", "svc", "--yes"]).success();
    sb.stage("svc", "a.jar", &v(3));
    sb.run(&["release", "svc", "--yes"]).success();

    let mut shas: Vec<String> = fs::read_dir(sb.backups("svc"))
        .unwrap()
        .map(|e| sha(&e.unwrap().path().join("files/a.jar")))
        .collect();
    shas.sort();
    let mut want = vec![crate::util::sha_bytes(&v(1)), crate::util::sha_bytes(&v(2))];
    want.sort();
    assert_eq!(shas, want, "each release kept the file it replaced");
}

#[test]
fn keep_releases_prunes_old_backups() {
    let sb = Sandbox::new("prune");
    let cfg = "restart = [\"true\"]";
    let sb = sb.app("svc", cfg).write_config();
    let text = fs::read_to_string(&sb.config).unwrap();
    fs::write(
        &sb.config,
        text.replace("state_dir", "keep_releases = 2\nstate_dir"),
    )
    .unwrap();
    fs::write(sb.deploy("svc/a.jar"), jar(&[("A", b"0")])).unwrap();
    for n in 1..=4u8 {
        sb.stage("svc", "a.jar", &jar(&[("A", &[n])]));
        sb.run(&["release", "svc", "--yes"]).success();
    }
    assert_eq!(fs::read_dir(sb.backups("svc")).unwrap().count(), 2);
    // The newest backup survives, so the last release can still be rolled back.
    sb.run(&["rollback", "svc", "--yes"]).success();
    assert_eq!(
        fs::read(sb.deploy("svc/a.jar")).unwrap(),
        jar(&[("A", &[3])])
    );
}

#[test]
fn a_second_release_of_a_locked_app_exits_3() {
    let sb = Sandbox::new("locked");
    let fifo = sb.root.join("restart.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // The restart blocks reading the fifo, holding the release (and its lock) open.
    let sb = sb
        .app(
            "svc",
            &format!("restart = [\"cat\", \"{}\"]", fifo.display()),
        )
        .write_config();
    sb.stage("svc", "a.jar", &jar(&[("A", b"1")]));
    let mut first = sb
        .cmd()
        .args(["release", "svc", "--yes"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Opening the fifo for writing returns once the restart has opened it: the first release
    // holds the lock now.
    let mut w = fs::OpenOptions::new().write(true).open(&fifo).unwrap();

    let second = sb.run(&["release", "svc", "--yes"]).code_is(3);
    let pid = first.id().to_string();
    assert!(
        second.stderr().contains(&format!("locked by pid {pid}")),
        "{}",
        second.stderr()
    );

    use std::io::Write;
    w.write_all(b"done\n").unwrap();
    drop(w);
    assert!(first.wait().unwrap().success());
    let mut s = String::new();
    first.stdout.take().unwrap().read_to_string(&mut s).unwrap();
    assert!(s.contains("released"), "{s}");
}

#[test]
fn a_lock_left_by_a_dead_process_is_taken_over() {
    let sb = Sandbox::new("stale")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    fs::create_dir_all(sb.state().join("locks")).unwrap();
    fs::write(
        sb.state().join("locks/svc.lock"),
        r#"{"pid":999999,"user":"ghost","since":"2026-01-01 00:00:00","command":"release"}"#,
    )
    .unwrap();
    sb.stage("svc", "a.jar", &jar(&[("A", b"1")]));
    let out = sb.run(&["release", "svc", "--yes"]).success();
    assert!(
        out.stderr().contains("took over a lock left by pid 999999"),
        "{}",
        out.stderr()
    );
}

#[test]
fn common_libs_replace_where_present_and_are_never_added() {
    let sb = Sandbox::new("common")
        .jvm_app("demo", Build::V1)
        .app("other", "restart = [\"true\"]")
        .write_config();
    sb.start("demo");
    // `other` has a different lib; neither app has `extra.jar`.
    fs::create_dir_all(sb.deploy("other/lib")).unwrap();
    fs::write(sb.deploy("other/lib/unrelated.jar"), jar(&[("U", b"1")])).unwrap();
    let other_before = snapshot(&sb.deploy("other"));
    let common = sb.root.join("staging/common");
    fs::create_dir_all(&common).unwrap();
    fs::copy(
        build(Build::V2).join("lib/demo-greeting.jar"),
        common.join("demo-greeting.jar"),
    )
    .unwrap();
    fs::write(common.join("extra.jar"), jar(&[("X", b"1")])).unwrap();

    let out = sb.run(&["common", "--yes"]).success();
    assert_eq!(
        sb.version("demo"),
        "app=1.0.0 lib=2.0.0",
        "{}",
        out.stdout()
    );
    assert!(!sb.deploy("demo/lib/extra.jar").exists());
    assert!(!sb.deploy("demo/extra.jar").exists());
    assert_eq!(snapshot(&sb.deploy("other")), other_before);
    let h = sb
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    assert_eq!(h[0]["kind"], "common");
}

#[test]
fn bad_config_exits_2_naming_line_and_key() {
    let sb = Sandbox::new("badcfg")
        .app("svc", "ready_timeout = \"soon\"")
        .write_config();
    sb.stage("svc", "a.jar", &jar(&[("A", b"1")]));
    let out = sb.run(&["release", "svc", "--yes"]).code_is(2);
    let line = fs::read_to_string(&sb.config)
        .unwrap()
        .lines()
        .position(|l| l.contains("soon"))
        .unwrap()
        + 1;
    let want = format!(
        "{}:{line}:17: key `apps.svc.ready_timeout`",
        sb.config.display()
    );
    assert!(
        out.stderr().contains(&want),
        "want {want}\n{}",
        out.stderr()
    );
    assert!(!sb.state().join("locks").exists(), "nothing was touched");
    assert!(fs::read_dir(sb.deploy("svc")).unwrap().next().is_none());
}

#[test]
fn plan_lists_changed_jar_entries_and_dry_run_changes_nothing() {
    let sb = Sandbox::new("entries")
        .app("svc", "restart = [\"true\"]\nmirror = true")
        .write_config();
    fs::write(
        sb.deploy("svc/a.jar"),
        jar(&[("A.class", b"1"), ("B.class", b"1")]),
    )
    .unwrap();
    fs::write(sb.deploy("svc/gone.jar"), jar(&[("G", b"1")])).unwrap();
    sb.stage(
        "svc",
        "a.jar",
        &jar(&[("A.class", b"2"), ("C.class", b"1")]),
    );
    sb.stage("svc", "lib/new.jar", &jar(&[("N", b"1")]));
    let before = snapshot(&sb.deploy("svc"));

    let p = sb
        .run(&["--json", "plan", "svc", "--entries"])
        .success()
        .doc("plans");
    let by_path = |path: &str| {
        p[0]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["path"] == path)
            .cloned()
            .unwrap()
    };
    let a = by_path("a.jar");
    assert_eq!(a["action"], "modified");
    assert_eq!(a["entries"]["added"][0], "C.class");
    assert_eq!(a["entries"]["removed"][0], "B.class");
    assert_eq!(a["entries"]["changed"][0], "A.class");
    assert_eq!(by_path("gone.jar")["action"], "removed");
    assert_eq!(by_path("lib/new.jar")["action"], "added");

    let text = sb.run(&["plan", "svc", "--entries"]).success().stdout();
    assert!(
        text.contains("+ C.class") && text.contains("~ A.class"),
        "{text}"
    );

    sb.run(&["release", "svc", "--dry-run"]).success();
    assert_eq!(snapshot(&sb.deploy("svc")), before);
    assert!(!sb.backups("svc").exists());
}

#[test]
fn staged_jar_replaces_every_deployed_copy_of_that_name() {
    let sb = Sandbox::new("byname")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    fs::create_dir_all(sb.deploy("svc/lib")).unwrap();
    fs::create_dir_all(sb.deploy("svc/plugins/x")).unwrap();
    fs::write(sb.deploy("svc/lib/util.jar"), jar(&[("U", b"1")])).unwrap();
    fs::write(sb.deploy("svc/plugins/x/util.jar"), jar(&[("U", b"1")])).unwrap();
    fs::create_dir_all(sb.deploy("svc/logs")).unwrap();
    fs::write(sb.deploy("svc/logs/app.log"), "log").unwrap();
    let new = jar(&[("U", b"2")]);
    sb.stage("svc", "util.jar", &new);
    sb.run(&["release", "svc", "--yes"]).success();
    assert_eq!(fs::read(sb.deploy("svc/lib/util.jar")).unwrap(), new);
    assert_eq!(fs::read(sb.deploy("svc/plugins/x/util.jar")).unwrap(), new);
    assert!(
        !sb.deploy("svc/util.jar").exists(),
        "not added at the staged path"
    );
}

#[test]
fn without_app_names_a_terminal_gets_a_pick_list_of_pending_apps() {
    use std::io::Write;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    let sb = Sandbox::new("pick")
        .app("alpha", "restart = [\"true\"]")
        .app("beta", "restart = [\"true\"]")
        .app("idle", "restart = [\"true\"]")
        .write_config();
    sb.stage("alpha", "a.jar", &jar(&[("A", b"1")]));
    sb.stage("beta", "b.jar", &jar(&[("B", b"1")]));
    let mut child = crate::util::in_a_terminal(&sb, "", "release");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let mut expect = |what: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !seen.contains(what) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(b) => seen.push_str(&String::from_utf8_lossy(&b)),
                Err(_) => panic!("never saw {what:?} in:\n{seen}"),
            }
        }
        seen.clone()
    };
    expect("apps to release");
    let menu = expect("beta (1 changed files)");
    assert!(
        !menu.contains("idle"),
        "apps without changes are not offered:\n{menu}"
    );
    let mut stdin = child.stdin.take().unwrap();
    // Select the first entry (alpha) and confirm: the question defaults to no, so the answer
    // is typed.
    stdin.write_all(b" \r").unwrap();
    expect("[y/N]");
    stdin.write_all(b"y").unwrap();
    expect("released");
    assert!(child.wait().unwrap().success());
    assert!(sb.deploy("alpha/a.jar").exists());
    assert!(!sb.deploy("beta/b.jar").exists(), "beta was not picked");
}

#[test]
fn config_check_prints_the_resolved_view() {
    let sb = Sandbox::new("check")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    let out = sb.run(&["config", "check"]).success();
    assert!(out.stdout().contains("is valid"), "{}", out.stdout());
    let j = sb
        .run(&["--json", "config", "check"])
        .success()
        .doc("config");
    assert_eq!(
        j["apps"]["svc"]["deploy"],
        sb.deploy("svc").display().to_string()
    );
    assert_eq!(j["apps"]["svc"]["ready"], r"Started \w+ in [\d.]+ seconds");
    assert_eq!(j["keep_releases"], 10);
}

/// In a terminal, Enter alone at "release N file(s)?" answers no; the plan table fits an
/// 80-column terminal.
#[test]
fn in_a_terminal_enter_alone_does_not_release_and_tables_fit_the_width() {
    use std::io::Write;
    let sb = Sandbox::new("confirmno")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    let long = format!("lib/{}/deep.jar", "a-rather-long-directory-name".repeat(3));
    fs::create_dir_all(sb.deploy("svc").join(&long).parent().unwrap()).unwrap();
    fs::write(sb.deploy("svc").join(&long), jar(&[("A", b"1")])).unwrap();
    sb.stage("svc", &long, &jar(&[("A", b"2")]));
    let mut child = crate::util::in_a_terminal(&sb, "stty cols 80; ", "release svc");
    let mut stdin = child.stdin.take().unwrap();
    let mut out = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 4096];
    while !out.contains("[y/N]") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "never asked:\n{out}");
        out.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    stdin.write_all(b"\r").unwrap();
    stdout.read_to_string(&mut out).unwrap();
    assert!(child.wait().unwrap().success(), "{out}");
    assert!(sb.deploy("svc").join(&long).exists());
    assert_eq!(
        sha(&sb.deploy("svc").join(&long)),
        crate::util::sha_bytes(&jar(&[("A", b"1")])),
        "nothing was released:\n{out}"
    );
    let widest = out
        .lines()
        .filter(|l| l.contains('│') || l.contains('─'))
        .map(|l| l.trim_end().chars().count())
        .max()
        .unwrap_or(0);
    assert!(
        widest > 0 && widest <= 80,
        "a table {widest} columns wide:\n{out}"
    );
}

/// A command over several apps ends with one row per app (a failed one does not scroll away);
/// the history table names each record's app; shells get completions.
#[test]
fn several_apps_end_with_a_summary_and_history_names_the_app() {
    let sb = Sandbox::new("summary")
        .app("good", "restart = [\"true\"]")
        .app("bad", "restart = [\"false\"]")
        .write_config();
    for app in ["good", "bad"] {
        fs::write(sb.deploy(app).join("a.jar"), jar(&[("A", b"1")])).unwrap();
        sb.stage(app, "a.jar", &jar(&[("A", b"2")]));
    }
    let r = sb.run(&["release", "--all", "--yes"]).code_is(1);
    let out = r.stdout();
    let table: Vec<&str> = out.lines().rev().take_while(|l| !l.is_empty()).collect();
    let row = |app: &str| {
        table
            .iter()
            .find(|l| l.contains(&format!(" {app} ")))
            .unwrap_or_else(|| panic!("no summary row for {app}:\n{out}"))
            .to_string()
    };
    assert!(row("good").contains("success"), "{out}");
    assert!(row("bad").contains("rollback-failed"), "{out}");
    let h = sb.run(&["history"]).success().stdout();
    assert!(
        h.contains(" app ") && h.contains(" good ") && h.contains(" bad "),
        "{h}"
    );
    let c = sb.run(&["completions", "bash"]).success().stdout();
    assert!(
        c.contains("_runner") && c.contains("rollback"),
        "{}",
        &c[..c.len().min(500)]
    );
}

/// `-h` is the summary, `--help` the long form with examples; flags are grouped (global, fleet);
/// `runner man` prints a man page.
#[test]
fn help_is_short_and_long_with_examples_and_a_man_page() {
    let sb = Sandbox::new("help");
    let short = sb.run(&["release", "-h"]).success().stdout();
    let long = sb.run(&["release", "--help"]).success().stdout();
    assert!(short.len() < long.len(), "-h is shorter");
    assert!(!short.contains("Examples:"), "{short}");
    assert!(long.contains("Examples:\n  runner release pdms"), "{long}");
    for heading in ["Global options:", "Fleet options", "On a fleet host"] {
        assert!(short.contains(heading), "{heading} in:\n{short}");
    }
    for cmd in [
        "plan", "status", "restart", "history", "rollback", "sync", "watch",
    ] {
        let long = sb.run(&[cmd, "--help"]).success().stdout();
        assert!(long.contains("Examples:"), "{cmd} --help:\n{long}");
    }
    let man = sb.run(&["man"]).success().stdout();
    assert!(
        man.starts_with(".ie") || man.contains(".TH runner 1"),
        "{man}"
    );
    for sub in ["release", "status", "restart"] {
        assert!(man.contains(sub), "the man page lists {sub}");
    }
}

/// `release --all -j 3`: three apps at once (each restart waits until all three have started:
/// one at a time, the first would never see the others), lines prefixed by the app, a summary
/// table, a record each; one failing app makes the exit 1.
#[test]
fn several_apps_at_once_with_jobs() {
    let marks = Sandbox::new("jobs-marks");
    let dir = marks.root.clone();
    fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    let barrier = |app: &str| {
        format!(
            "restart = [\"sh\", \"-c\", \"touch {d}/started-{app}; for i in $(seq 100); do [ -e {d}/started-a ] && [ -e {d}/started-b ] && [ -e {d}/started-c ] && exit 0; sleep 0.1; done; exit 1\"]"
        )
    };
    let sb = Sandbox::new("jobs")
        .app("a", &barrier("a"))
        .app("b", &barrier("b"))
        .app("c", &barrier("c"))
        .app("d", "restart = [\"false\"]")
        .app("e", "restart = [\"true\"]")
        .write_config();
    for app in ["a", "b", "c"] {
        sb.stage(app, "x.jar", &jar(&[("X", app.as_bytes())]));
    }
    let r = sb
        .run(&["release", "a", "b", "c", "-j", "3", "--yes"])
        .success();
    let out = r.stdout();
    for app in ["a", "b", "c"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("{app} ✓ restart"))),
            "{app}'s lines are prefixed:\n{out}"
        );
        let h = sb.run(&["--json", "history", app]).success().doc("records");
        assert_eq!(h[0]["outcome"], "success", "{app}: {h}");
    }
    let table: Vec<&str> = out.lines().rev().take(3).collect();
    assert!(table.iter().all(|l| l.contains("success")), "{out}");

    // One that fails: the others go through, the exit is 1.
    for f in ["started-a", "started-b", "started-c"] {
        let _ = fs::remove_file(dir.join(f));
    }
    sb.stage("d", "y.jar", &jar(&[("Y", b"1")]));
    sb.stage("c", "x.jar", &jar(&[("X", b"2")]));
    let r = sb
        .run(&["--json", "release", "c", "d", "-j", "2", "--yes"])
        .code_is(1);
    let reports = r.doc("reports");
    let outcome = |app: &str| {
        reports
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["app"] == app)
            .map(|x| x["outcome"].as_str().unwrap().to_string())
    };
    assert_eq!(
        outcome("d").as_deref(),
        Some("rollback-failed"),
        "{reports}"
    );
    // c waits for a and b, which are not released this time: its restart fails after 10 s.
    assert!(outcome("c").is_some(), "{reports}");
}

/// A SIGTERM to `release -j` reaches every app's process (they run in process groups of their
/// own): each stops at its next safe point and puts its old build back; the exit is 143.
#[test]
fn a_signal_to_a_parallel_release_reaches_every_app() {
    let marks = Sandbox::new("jobsig-marks");
    fs::create_dir_all(&marks.root).unwrap();
    let d = marks.root.display();
    let slow =
        |app: &str| format!("restart = [\"sh\", \"-c\", \"touch {d}/started-{app}; sleep 2\"]");
    let sb = Sandbox::new("jobsig")
        .app("a", &slow("a"))
        .app("b", &slow("b"))
        .write_config();
    for app in ["a", "b"] {
        fs::write(sb.deploy(app).join("x.jar"), jar(&[("X", b"old")])).unwrap();
        sb.stage(app, "x.jar", &jar(&[("X", b"new")]));
    }
    let child = sb
        .cmd()
        .args(["release", "a", "b", "-j", "2", "--yes"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !(marks.root.join("started-a").exists() && marks.root.join("started-b").exists()) {
        assert!(
            std::time::Instant::now() < deadline,
            "both restarts never began"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // To this process alone, as `kill <pid>` or a CI timeout would send it.
    let st = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(143), "{text}");
    for app in ["a", "b"] {
        assert_eq!(
            fs::read(sb.deploy(app).join("x.jar")).unwrap(),
            jar(&[("X", b"old")]),
            "{app} is back on its old build:\n{text}"
        );
        let h = sb.run(&["--json", "history", app]).success().doc("records");
        assert_eq!(h[0]["outcome"], "interrupted", "{app}: {h}");
    }
}
