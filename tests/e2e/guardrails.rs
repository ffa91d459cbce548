//! Guardrails: typos and half-set-up hosts are refused before anything is touched, with the
//! path and the fix named; nothing is lost and nothing reports `released` that was not.

use std::fs;

use crate::util::{Sandbox, jar, snapshot};

/// An app `svc` with one deployed jar and a new one staged.
fn svc(name: &str, body: &str) -> Sandbox {
    let sb = Sandbox::new(name).app("svc", body).write_config();
    fs::write(sb.deploy("svc").join("a.jar"), jar(&[("A", b"old")])).unwrap();
    sb.stage("svc", "a.jar", &jar(&[("A", b"new")]));
    sb
}

fn config_with(sb: &Sandbox, from: &str, to: &str) {
    let text = fs::read_to_string(&sb.config)
        .unwrap()
        .replacen(from, to, 1);
    fs::write(&sb.config, text).unwrap();
}

#[test]
fn a_deploy_root_typo_is_exit_2_and_creates_nothing() {
    let sb = svc("deploytypo", "restart = [\"true\"]");
    let typo = sb.root.join("deplyo");
    config_with(
        &sb,
        &format!("deploy_root = \"{}\"", sb.root.join("deploy").display()),
        &format!("deploy_root = \"{}\"", typo.display()),
    );
    for args in [
        &["release", "svc", "--yes"][..],
        &["plan", "svc"],
        &["common", "svc", "--yes"],
    ] {
        let r = sb.run(args).code_is(2);
        assert!(
            r.stderr().contains("deploy dir") && r.stderr().contains("deplyo/svc"),
            "{args:?}: {}",
            r.stderr()
        );
        assert!(
            r.stderr().contains("deploy_root"),
            "names the fix: {}",
            r.stderr()
        );
    }
    assert!(!typo.exists(), "a release never creates the deploy dir");
    let h = sb
        .run(&["--json", "history", "svc"])
        .success()
        .doc("records");
    assert!(
        h.as_array().unwrap().is_empty(),
        "nothing was released: {h}"
    );
}

#[test]
fn a_named_app_without_a_staging_dir_is_exit_2_and_all_says_nothing_staged() {
    let sb = Sandbox::new("nostaging")
        .app("svc", "restart = [\"true\"]")
        .app("other", "restart = [\"true\"]")
        .write_config();
    fs::write(sb.deploy("svc").join("a.jar"), jar(&[("A", b"old")])).unwrap();
    let r = sb.run(&["release", "svc", "--yes"]).code_is(2);
    assert!(
        r.stderr().contains("staging dir") && r.stderr().contains("staging/svc"),
        "{}",
        r.stderr()
    );
    sb.run(&["plan", "svc"]).code_is(2);
    sb.stage("other", "b.jar", &jar(&[("B", b"new")]));
    let r = sb.run(&["release", "--all", "--yes"]).success();
    assert!(r.stdout().contains("svc  nothing staged"), "{}", r.stdout());
    assert!(
        sb.deploy("other").join("b.jar").is_file(),
        "the others go on"
    );
}

#[test]
fn mirror_with_an_empty_staging_dir_removes_nothing() {
    let sb = svc("mirrorempty", "restart = [\"true\"]\nmirror = true");
    fs::remove_file(sb.staging("svc").join("a.jar")).unwrap();
    let before = snapshot(&sb.deploy("svc"));
    let r = sb.run(&["release", "svc", "--yes"]).code_is(2);
    assert!(r.stderr().contains("apps.svc.mirror"), "{}", r.stderr());
    assert_eq!(snapshot(&sb.deploy("svc")), before);
    fs::remove_dir(sb.staging("svc")).unwrap();
    sb.run(&["release", "svc", "--yes"]).code_is(2);
    assert_eq!(snapshot(&sb.deploy("svc")), before);
}

#[test]
fn overlapping_dirs_are_exit_2_naming_both() {
    // The staging dir is the deploy dir (staging = deploy_root).
    let sb = svc("overlap", "restart = [\"true\"]");
    let deploy_root = sb.root.join("deploy");
    config_with(
        &sb,
        &format!("staging = \"{}\"", sb.root.join("staging").display()),
        &format!("staging = \"{}\"", deploy_root.display()),
    );
    let before = snapshot(&deploy_root);
    for args in [
        &["config", "check"][..],
        &["release", "svc", "--yes"],
        &["plan"],
    ] {
        let r = sb.run(args).code_is(2);
        assert!(
            r.stderr().contains("apps.svc.staging") && r.stderr().contains("is apps.svc.deploy"),
            "{args:?}: {}",
            r.stderr()
        );
    }
    assert_eq!(snapshot(&deploy_root), before);

    // Backups kept inside the app's deploy dir.
    let sb = svc("overlap2", "restart = [\"true\"]");
    let inside = sb.deploy("svc").join("backup");
    config_with(
        &sb,
        &format!("backup_root = \"{}\"", sb.root.join("backup").display()),
        &format!("backup_root = \"{}\"", inside.display()),
    );
    let r = sb.run(&["release", "svc", "--yes"]).code_is(2);
    assert!(
        r.stderr().contains("backup_root") && r.stderr().contains("is inside apps.svc.deploy"),
        "{}",
        r.stderr()
    );
    assert!(!inside.exists());
}

#[test]
fn a_restart_program_typo_is_caught_before_the_backup() {
    let sb = svc(
        "restarttypo",
        "restart = [\"/opt/platfrom/service_local.sh\", \"svc\"]",
    );
    let before = snapshot(&sb.deploy("svc"));
    let r = sb.run(&["release", "svc", "--yes"]).code_is(2);
    assert!(
        r.stderr().contains("apps.svc.restart")
            && r.stderr().contains("/opt/platfrom/service_local.sh"),
        "{}",
        r.stderr()
    );
    assert_eq!(snapshot(&sb.deploy("svc")), before);
    assert!(
        fs::read_dir(sb.root.join("backup"))
            .unwrap()
            .next()
            .is_none(),
        "no backup was made"
    );
    // Installing without a restart needs no restart program.
    sb.run(&["release", "svc", "--yes", "--no-restart"])
        .success();
}

#[test]
fn a_log_whose_dir_does_not_exist_is_caught_before_the_backup() {
    let sb = Sandbox::new("logtypo");
    let log = sb.root.join("no/such/dir/app.log");
    let sb = sb
        .app(
            "svc",
            &format!("restart = [\"true\"]\nlog = \"{}\"", log.display()),
        )
        .write_config();
    fs::write(sb.deploy("svc").join("a.jar"), jar(&[("A", b"old")])).unwrap();
    sb.stage("svc", "a.jar", &jar(&[("A", b"new")]));
    let r = sb.run(&["release", "svc", "--yes"]).code_is(2);
    assert!(
        r.stderr().contains("apps.svc.log") && r.stderr().contains("no/such/dir"),
        "{}",
        r.stderr()
    );
}

fn hostile(sb: Sandbox, mode_on: &str) -> Sandbox {
    sb.plugin(&format!(
        "name = \"hostile\"\nwasm = \"{}\"\nconfig = {{ {mode_on} }}",
        crate::util::plugin_wasm("hostile").display()
    ))
}

/// An app whose restart appends a line to `restarts` (so a test can count them).
fn counted(name: &str, plugin: &str) -> (Sandbox, std::path::PathBuf) {
    let sb = Sandbox::new(name);
    let restarts = sb.root.join("restarts");
    let sb = sb.app(
        "svc",
        &format!(
            "restart = [\"sh\", \"-c\", \"echo restarted >> {}\"]",
            restarts.display()
        ),
    );
    let sb = hostile(sb, plugin).write_config();
    fs::write(sb.deploy("svc").join("a.jar"), jar(&[("A", b"old")])).unwrap();
    sb.stage("svc", "a.jar", &jar(&[("A", b"new")]));
    (sb, restarts)
}

#[test]
fn an_abort_before_the_restart_puts_the_files_back_and_restarts_nothing() {
    for on in ["after-install", "before-restart"] {
        let (sb, restarts) = counted(
            &format!("abortbefore-{on}"),
            &format!("mode = \"abort\", on = \"{on}\""),
        );
        let before = snapshot(&sb.deploy("svc"));
        let r = sb.run(&["release", "svc", "--yes"]).code_is(1);
        let out = format!("{}{}", r.stdout(), r.stderr());
        assert!(!out.contains("ROLLBACK FAILED"), "{on}: {out}");
        assert!(out.contains("was not restarted"), "{on}: {out}");
        assert_eq!(snapshot(&sb.deploy("svc")), before, "{on}: files put back");
        assert!(
            !restarts.exists(),
            "{on}: the old process was never stopped"
        );
        let h = sb
            .run(&["--json", "history", "svc"])
            .success()
            .doc("records");
        assert_eq!(h[0]["outcome"], "rolled-back", "{on}");
    }
}

#[test]
fn a_hook_that_aborts_again_during_the_rollback_does_not_stop_it() {
    // after-verify aborts the release, and again in the rollback's own verify.
    let (sb, restarts) = counted("abortagain", "mode = \"abort\", on = \"after-verify\"");
    let before = snapshot(&sb.deploy("svc"));
    let r = sb.run(&["release", "svc", "--yes"]).code_is(1);
    assert!(
        r.stderr().contains("ignored: the rollback goes on"),
        "{}",
        r.stderr()
    );
    assert_eq!(snapshot(&sb.deploy("svc")), before);
    let h = sb
        .run(&["--json", "history", "svc"])
        .success()
        .doc("records");
    assert_eq!(h[0]["outcome"], "rolled-back");
    assert_eq!(
        fs::read_to_string(&restarts).unwrap().lines().count(),
        2,
        "the new build, then the old one"
    );
}

#[test]
fn fleet_flags_on_an_app_without_hosts_and_a_zero_limit_are_exit_2() {
    let sb = svc("flags", "restart = [\"true\"]");
    let before = snapshot(&sb.deploy("svc"));
    for flag in [
        &["--batch", "abc"][..],
        &["--max-fail", "1"],
        &["--rollback-on-failure"],
    ] {
        let mut args = vec!["release", "svc", "--yes"];
        args.extend_from_slice(flag);
        let r = sb.run(&args).code_is(2);
        assert!(
            r.stderr().contains(flag[0]) && r.stderr().contains("fleet release"),
            "{}",
            r.stderr()
        );
    }
    assert_eq!(snapshot(&sb.deploy("svc")), before);
    sb.run(&["history", "--limit", "0"]).code_is(2);
    sb.run(&["history", "--limit", "-1"]).code_is(2);
}

#[test]
fn plan_during_a_live_release_says_in_progress_not_interrupted() {
    let sb = Sandbox::new("liveplan");
    let (started, go) = (sb.root.join("started"), sb.root.join("go"));
    let sb = sb
        .app(
            "svc",
            &format!(
                "restart = [\"sh\", \"-c\", \"touch {}; while [ ! -e {} ]; do sleep 0.02; done\"]",
                started.display(),
                go.display()
            ),
        )
        .write_config();
    fs::write(sb.deploy("svc").join("a.jar"), jar(&[("A", b"old")])).unwrap();
    sb.stage("svc", "a.jar", &jar(&[("A", b"new")]));
    let mut release = sb
        .cmd()
        .args(["release", "svc", "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !started.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the restart never began"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let r = sb.run(&["plan", "svc"]).success();
    fs::write(&go, "").unwrap();
    assert!(release.wait().unwrap().success());
    assert!(
        r.stderr().contains("is in progress (pid") && !r.stderr().contains("interrupted"),
        "{}",
        r.stderr()
    );
}

/// An app whose restart waits for a `go` file (touching `started` first), and a release of it
/// running in the background with its stderr in a file.
struct Held {
    sb: Sandbox,
    started: std::path::PathBuf,
    go: std::path::PathBuf,
    stderr: std::path::PathBuf,
    child: std::process::Child,
    /// The deploy dir before the release.
    before: std::collections::BTreeMap<String, String>,
}

impl Held {
    fn start(name: &str, plugin: Option<&str>) -> Held {
        let sb = Sandbox::new(name);
        let (started, go) = (sb.root.join("started"), sb.root.join("go"));
        let mut sb = sb.app(
            "svc",
            &format!(
                "restart = [\"sh\", \"-c\", \"touch {}; while [ ! -e {} ]; do sleep 0.02; done\"]",
                started.display(),
                go.display()
            ),
        );
        if let Some(p) = plugin {
            sb = sb.plugin(&format!(
                "name = \"hostile\"\nwasm = \"{}\"\n{p}",
                crate::util::plugin_wasm("hostile").display()
            ));
        }
        let sb = sb.write_config();
        fs::write(sb.deploy("svc").join("a.jar"), jar(&[("A", b"old")])).unwrap();
        fs::write(sb.deploy("svc").join("b.jar"), jar(&[("B", b"old")])).unwrap();
        sb.stage("svc", "a.jar", &jar(&[("A", b"new")]));
        sb.stage("svc", "b.jar", &jar(&[("B", b"new")]));
        let stderr = sb.root.join("release.err");
        let before = snapshot(&sb.deploy("svc"));
        let child = sb
            .cmd()
            .args(["release", "svc", "--yes"])
            .stdout(std::process::Stdio::null())
            .stderr(fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Held {
            sb,
            started,
            go,
            stderr,
            child,
            before,
        }
    }

    fn wait_for(&self, what: &str, cond: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !cond() {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.id().to_string();
        assert!(
            std::process::Command::new("kill")
                .args([sig, &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

#[test]
fn ctrl_c_after_the_commit_puts_the_old_build_back_and_exits_130() {
    let mut h = Held::start("sigint", None);
    let before = {
        let mut s = snapshot(&h.sb.deploy("svc"));
        s.insert(
            "a.jar".into(),
            crate::util::sha_bytes(&jar(&[("A", b"old")])),
        );
        s
    };
    h.wait_for("the restart", || h.started.exists());
    h.signal("-INT");
    h.wait_for("the signal to be seen", || {
        h.stderr().contains("next safe point")
    });
    fs::write(&h.go, "").unwrap();
    let status = h.child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{}", h.stderr());
    assert_eq!(
        snapshot(&h.sb.deploy("svc")),
        before,
        "the old build is back"
    );
    let hist =
        h.sb.run(&["--json", "history", "svc"])
            .success()
            .doc("records");
    assert_eq!(hist[0]["outcome"], "interrupted", "{hist}");
    assert!(!h.sb.state().join("journal/svc.json").exists());
}

#[test]
fn sigterm_before_the_commit_touches_nothing_and_exits_143() {
    // The before-install hook sleeps (until its 2 s timeout, then only warns): the signal
    // lands there, and the install never starts.
    let mut h = Held::start(
        "sigterm",
        Some(
            "on_error = \"warn\"\ntimeout = \"2s\"\nconfig = { mode = \"sleep\", on = \"before-install\" }",
        ),
    );
    h.wait_for("the release to begin", || {
        h.sb.state().join("journal/svc.json").exists()
    });
    h.signal("-TERM");
    let status = h.child.wait().unwrap();
    assert_eq!(status.code(), Some(143), "{}", h.stderr());
    assert_eq!(snapshot(&h.sb.deploy("svc")), h.before);
    assert!(!h.started.exists(), "nothing was restarted");
    let hist =
        h.sb.run(&["--json", "history", "svc"])
            .success()
            .doc("records");
    assert_eq!(hist[0]["outcome"], "interrupted", "{hist}");
    assert!(
        hist[0]["error"]
            .as_str()
            .unwrap()
            .contains("nothing was touched"),
        "{hist}"
    );
}

#[test]
fn a_second_ctrl_c_stops_at_once_and_says_how_to_finish_or_undo() {
    let mut h = Held::start("sigint2", None);
    h.wait_for("the restart", || h.started.exists());
    h.signal("-INT");
    h.wait_for("the first signal to be seen", || {
        h.stderr().contains("next safe point")
    });
    h.signal("-INT");
    let status = h.child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let err = h.stderr();
    assert!(
        err.contains("`runner release svc` finishes it")
            && err.contains("`runner rollback svc` undoes it"),
        "{err}"
    );
    assert!(
        h.sb.state().join("journal/svc.json").exists(),
        "the journal stays"
    );
    fs::write(&h.go, "").unwrap();
    h.sb.run(&["rollback", "svc", "--yes"]).success();
    assert!(!h.sb.state().join("journal/svc.json").exists());
}

/// A deploy dir whose `lib/` is a symlink to a shared dir, or whose jar is a symlink: runner
/// neither writes through nor over it, and says so before anything is touched.
#[test]
fn a_symlink_in_the_deploy_tree_is_refused_naming_it() {
    let sb = Sandbox::new("symlinks")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    let shared = sb.root.join("shared");
    fs::create_dir_all(&shared).unwrap();
    fs::write(shared.join("x.jar"), jar(&[("X", b"shared")])).unwrap();
    fs::write(shared.join("app.jar"), jar(&[("A", b"shared")])).unwrap();
    std::os::unix::fs::symlink(&shared, sb.deploy("svc").join("lib")).unwrap();
    let shared_before = snapshot(&shared);

    sb.stage("svc", "lib/x.jar", &jar(&[("X", b"new")]));
    let r = sb.run(&["release", "svc", "--yes"]).code_is(2);
    assert!(
        r.stderr().contains("goes through the symlink") && r.stderr().contains("svc/lib → "),
        "{}",
        r.stderr()
    );
    assert_eq!(
        snapshot(&shared),
        shared_before,
        "nothing behind the link changed"
    );
    assert!(!sb.state().join("journal/svc.json").exists());
    assert!(!sb.backups("svc").exists(), "no backup was made");

    // A deployed jar that is itself a link to a shared file.
    fs::remove_file(sb.staging("svc").join("lib/x.jar")).unwrap();
    std::os::unix::fs::symlink(shared.join("app.jar"), sb.deploy("svc").join("app.jar")).unwrap();
    sb.stage("svc", "app.jar", &jar(&[("A", b"new")]));
    let r = sb.run(&["release", "svc", "--yes"]).code_is(2);
    assert!(r.stderr().contains("svc/app.jar → "), "{}", r.stderr());
    assert!(
        fs::symlink_metadata(sb.deploy("svc").join("app.jar"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    assert_eq!(snapshot(&shared), shared_before);
}

/// `rollback --to <id>` returns the app to the state right after `<id>`: every later release
/// is reverted, not only `<id>`'s own files put back.
#[test]
fn rollback_to_returns_to_the_state_right_after_that_release() {
    let sb = svc("rollbackto", "restart = [\"true\"]");
    let v = |tag: &[u8]| jar(&[("A", tag)]);
    let id = |sb: &Sandbox| -> String {
        let h = sb
            .run(&["--json", "history", "svc"])
            .success()
            .doc("records");
        h.as_array().unwrap().last().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // R1: a.jar old → new (staged by `svc`), b.jar added.
    sb.stage("svc", "b.jar", &jar(&[("B", b"1")]));
    sb.run(&["release", "svc", "--yes"]).success();
    let r1 = id(&sb);
    let after_r1 = snapshot(&sb.deploy("svc"));
    // R2: a.jar → v3. R3: b.jar → 2, c.jar added.
    fs::remove_dir_all(sb.staging("svc")).unwrap();
    sb.stage("svc", "a.jar", &v(b"v3"));
    sb.run(&["release", "svc", "--yes"]).success();
    fs::remove_dir_all(sb.staging("svc")).unwrap();
    sb.stage("svc", "b.jar", &jar(&[("B", b"2")]));
    sb.stage("svc", "c.jar", &jar(&[("C", b"1")]));
    sb.run(&["release", "svc", "--yes"]).success();

    let r = sb.run(&["rollback", "svc", "--to", &r1, "--yes"]).success();
    assert!(
        r.stdout().contains(&format!("back to right after {r1}")),
        "{}",
        r.stdout()
    );
    assert_eq!(
        snapshot(&sb.deploy("svc")),
        after_r1,
        "the state right after R1"
    );
    let h = sb
        .run(&["--json", "history", "svc"])
        .success()
        .doc("records");
    let last = h.as_array().unwrap().last().unwrap();
    assert_eq!(last["back_to"], r1.as_str());
    assert!(
        sb.run(&["history", "svc"])
            .success()
            .stdout()
            .contains("rollback to after")
    );
    // A plain rollback now undoes R1 itself: R2 and R3 are already reverted.
    sb.run(&["rollback", "svc", "--yes"]).success();
    let deployed = snapshot(&sb.deploy("svc"));
    assert_eq!(deployed.len(), 1, "{deployed:?}");
    assert_eq!(
        deployed["a.jar"],
        crate::util::sha_bytes(&fs::read(sb.backups("svc").join(&r1).join("files/a.jar")).unwrap())
    );
}

/// `fastjson-1.2.83.jar` staged flat while `lib/fastjson-1.2.60.jar` is deployed: an upgrade in
/// `lib/`, not a second version at the app root; a rollback puts the old one back.
#[test]
fn a_new_version_of_a_deployed_jar_replaces_it_in_its_dir() {
    let sb = Sandbox::new("versioned")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    fs::create_dir_all(sb.deploy("svc").join("lib")).unwrap();
    fs::write(sb.deploy("svc").join("app.jar"), jar(&[("A", b"1")])).unwrap();
    fs::write(
        sb.deploy("svc").join("lib/fastjson-1.2.60.jar"),
        jar(&[("F", b"60")]),
    )
    .unwrap();
    let before = snapshot(&sb.deploy("svc"));
    sb.stage("svc", "fastjson-1.2.83.jar", &jar(&[("F", b"83")]));
    let plan = sb.run(&["--json", "plan", "svc"]).success().doc("plans");
    let changes = plan[0]["changes"].as_array().unwrap();
    let added = changes.iter().find(|c| c["action"] == "added").unwrap();
    assert_eq!(added["path"], "lib/fastjson-1.2.83.jar", "{plan}");
    assert_eq!(added["upgrade_of"], "lib/fastjson-1.2.60.jar");
    assert!(
        changes
            .iter()
            .any(|c| c["action"] == "removed" && c["path"] == "lib/fastjson-1.2.60.jar")
    );
    let shown = sb.run(&["plan", "svc"]).success().stdout();
    assert!(
        shown.contains("lib/fastjson-1.2.60.jar → lib/fastjson-1.2.83.jar"),
        "{shown}"
    );
    sb.run(&["release", "svc", "--yes"]).success();
    let after = snapshot(&sb.deploy("svc"));
    assert!(after.contains_key("lib/fastjson-1.2.83.jar"), "{after:?}");
    assert!(
        !after.contains_key("lib/fastjson-1.2.60.jar"),
        "one version on the classpath"
    );
    assert!(
        !after.contains_key("fastjson-1.2.83.jar"),
        "not at the app root"
    );
    sb.run(&["rollback", "svc", "--yes"]).success();
    assert_eq!(snapshot(&sb.deploy("svc")), before);

    // Deployed in two dirs: which one to replace is not guessed.
    fs::create_dir_all(sb.deploy("svc").join("ext")).unwrap();
    fs::write(
        sb.deploy("svc").join("ext/fastjson-1.2.70.jar"),
        jar(&[("F", b"70")]),
    )
    .unwrap();
    let r = sb.run(&["release", "svc", "--yes"]).code_is(1);
    assert!(
        r.stderr().contains("deployed in several dirs"),
        "{}",
        r.stderr()
    );
}

/// What the operator must see: a staged file that matches nothing deployed (added where it is
/// staged), a staged symlink (left out), an app with no restart (nothing restarted), a common
/// lib no app has.
#[test]
fn warnings_name_what_would_surprise_an_operator() {
    let sb = Sandbox::new("warnings").app("svc", "").write_config();
    fs::write(sb.deploy("svc").join("app.jar"), jar(&[("A", b"1")])).unwrap();
    sb.stage("svc", "ap.jar", &jar(&[("A", b"2")]));
    std::os::unix::fs::symlink("/etc/hostname", sb.staging("svc").join("link.jar")).unwrap();
    let plan = sb.run(&["--json", "plan", "svc"]).success();
    let json = plan.doc("plans");
    let warnings = json[0]["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("ap.jar matches no deployed file")),
        "{json}"
    );
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("link.jar in the staging dir is a symlink")),
        "{json}"
    );
    assert!(
        plan.stderr().contains("ap.jar matches no deployed file"),
        "{}",
        plan.stderr()
    );
    let r = sb.run(&["release", "svc", "--yes"]).success();
    assert!(
        r.stderr().contains("no `restart` is configured"),
        "{}",
        r.stderr()
    );
    assert!(
        !sb.deploy("svc").join("link.jar").exists(),
        "a staged link is not followed"
    );

    fs::create_dir_all(sb.root.join("staging/common")).unwrap();
    fs::write(
        sb.root.join("staging/common/nobody-1.0.jar"),
        jar(&[("N", b"1")]),
    )
    .unwrap();
    let r = sb.run(&["common", "--yes"]).success();
    assert!(
        r.stderr()
            .contains("common lib nobody-1.0.jar matches no jar"),
        "{}",
        r.stderr()
    );
}

/// After a failed verify the failed build may still be starting up while the rollback's
/// before-restart hooks run (a drain waits seconds): its late "Started …" line must not count
/// as the restored build being up. Here the restored build really fails to start, and a
/// hook takes a second, during which the failed build logs "Started".
#[test]
fn a_late_start_up_line_of_the_failed_build_does_not_verify_the_rollback() {
    let sb = Sandbox::new("lateline");
    let deploy = sb.deploy("svc");
    let log = deploy.join("logs/app.log");
    let script = format!(
        "if grep -q new {d}/a.txt; then echo 'Starting v2' >> {l}; (sleep 0.3; echo 'Started App in 1.0 seconds' >> {l}) & else echo 'APPLICATION FAILED TO START' >> {l}; fi",
        d = deploy.display(),
        l = log.display()
    );
    let sb = hostile(
        sb.app(
            "svc",
            &format!(
                "restart = [\"sh\", \"-c\", \"{script}\"]\nlog = \"{}\"\nfail = 'Starting v2|APPLICATION FAILED TO START'\nready_timeout = \"10s\"",
                log.display()
            ),
        ),
        "mode = \"sleep\", on = \"before-restart\"",
    );
    let sb = sb
        .with_extra("on_error = \"warn\"\ntimeout = \"1s\"\n")
        .write_config();
    fs::create_dir_all(deploy.join("logs")).unwrap();
    fs::write(deploy.join("a.txt"), "old").unwrap();
    sb.stage("svc", "a.txt", b"new");
    let r = sb.run(&["release", "svc", "--yes"]).code_is(1);
    let h = sb
        .run(&["--json", "history", "svc"])
        .success()
        .doc("records");
    assert_eq!(
        h[0]["outcome"],
        "rollback-failed",
        "the restored build logged APPLICATION FAILED TO START:\n{}",
        r.stdout()
    );
}
