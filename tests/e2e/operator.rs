//! The day-to-day commands: `runner status` (what is deployed, drift since, staged changes
//! waiting, a release running or interrupted, health), `restart` and `init`, against real parts.

use std::fs;
use std::process::Command;

use crate::util::{Build, RUNNER, Sandbox, free_port, jar};

#[test]
fn status_tells_what_is_deployed_drift_pending_and_health() {
    let sb = Sandbox::new("status")
        .jvm_app("demo", Build::V1)
        .app(
            "quiet",
            &format!(
                "restart = [\"true\"]\nhealth = \"http://127.0.0.1:{}/health\"",
                free_port()
            ),
        )
        .write_config();
    sb.start("demo");
    sb.stage_build("demo", Build::V2);
    let r = sb.run(&["--json", "release", "demo", "--yes"]).success();
    let id = r.doc("reports")[0]["id"].as_str().unwrap().to_string();

    // Released, nothing touched since, nothing staged anew: demo is fine, `quiet` is down
    // (nothing listens on its health port), so the exit is 1.
    let s = sb.run(&["--json", "status"]).code_is(1).json();
    assert_eq!(s["schema"], 1);
    let app = |name: &str| {
        s["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["app"] == name)
            .unwrap()
            .clone()
    };
    let demo = app("demo");
    assert_eq!(demo["deployed"]["id"], id.as_str(), "{demo}");
    assert_eq!(demo["deployed"]["outcome"], "success");
    assert_eq!(
        demo["drift"]["changed"].as_array().unwrap().len(),
        0,
        "{demo}"
    );
    assert_eq!(demo["pending"], 0, "{demo}");
    assert_eq!(demo["health"]["up"], true, "{demo}");
    let quiet = app("quiet");
    assert_eq!(quiet["health"]["up"], false, "{quiet}");
    assert!(quiet["deployed"].is_null());
    assert!(quiet["drift"].is_null(), "no release recorded it: {quiet}");
    sb.run(&["status", "demo"]).success();

    // A jar copied in by hand and one overwritten: drift, named with -v; staged changes wait.
    let lib = sb.deploy("demo").join("lib");
    fs::write(lib.join("hand-copied.jar"), jar(&[("X", b"1")])).unwrap();
    let some_jar = fs::read_dir(&lib)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap() != "hand-copied.jar")
        .unwrap();
    fs::write(&some_jar, jar(&[("Y", b"2")])).unwrap();
    sb.stage("demo", "lib/extra.jar", &jar(&[("E", b"1")]));
    let s = sb.run(&["--json", "status", "demo"]).code_is(1).json();
    let demo = &s["apps"][0];
    assert_eq!(
        demo["drift"]["added"],
        serde_json::json!(["lib/hand-copied.jar"]),
        "{demo}"
    );
    assert_eq!(demo["drift"]["changed"].as_array().unwrap().len(), 1);
    // The staged jar, and the overwritten one: staging still holds the build it replaced.
    assert_eq!(demo["pending"], 2, "{demo}");
    let text = sb.run(&["status", "demo"]).code_is(1).stdout();
    assert!(text.contains("2 files"), "{text}");
    assert!(text.contains("runner status -v demo"), "{text}");
    let named = sb.run(&["-v", "status", "demo"]).code_is(1).stdout();
    assert!(named.contains("+ lib/hand-copied.jar"), "{named}");
    // Piped, the table is plain columns: no box drawing, no escape codes.
    assert!(!named.contains('│') && !named.contains('\u{1b}'), "{named}");
}

/// A release stopped half-way (runner killed) shows as interrupted, with what finishes it.
#[test]
fn status_shows_an_interrupted_release() {
    let sb = Sandbox::new("statuscrash")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    fs::write(sb.deploy("svc").join("a.jar"), jar(&[("A", b"1")])).unwrap();
    sb.stage("svc", "a.jar", &jar(&[("A", b"2")]));
    let st = Command::new(RUNNER)
        .args(["-c", sb.config.to_str().unwrap(), "release", "svc", "--yes"])
        .env("RUNNER_FAULT", "journal-planned")
        .status()
        .unwrap();
    assert!(!st.success(), "the fault point stops the release");
    let s = sb.run(&["--json", "status", "svc"]).code_is(1).json();
    assert_eq!(s["apps"][0]["busy"]["state"], "interrupted", "{s}");
    let text = sb.run(&["status", "svc"]).code_is(1).stdout();
    assert!(text.contains("`runner release svc` finishes it"), "{text}");
}

/// The app's pid, as its service script keeps it.
fn pid(sb: &Sandbox, app: &str) -> String {
    fs::read_to_string(sb.deploy(app).join("run/app.pid"))
        .unwrap()
        .trim()
        .to_string()
}

/// `runner restart`: a new process, verified, recorded as kind `restart`; what is deployed (and
/// what a rollback would undo) is still the release before it.
#[test]
fn restart_restarts_verifies_and_is_recorded() {
    let sb = Sandbox::new("restart")
        .jvm_app("demo", Build::V1)
        .app("broken", "restart = [\"false\"]")
        .write_config();
    sb.start("demo");
    sb.stage_build("demo", Build::V2);
    let rel = sb
        .run(&["--json", "release", "demo", "--yes"])
        .success()
        .doc("reports")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = pid(&sb, "demo");
    let r = sb.run(&["restart", "demo", "--yes"]).success();
    assert!(
        r.stderr().contains("restarted") || r.stdout().contains("restarted"),
        "{}{}",
        r.stdout(),
        r.stderr()
    );
    assert_ne!(pid(&sb, "demo"), before, "a new process");
    assert!(sb.version("demo").contains("app=2.0.0"));
    let h = sb
        .run(&["--json", "history", "demo"])
        .success()
        .doc("records");
    let last = h.as_array().unwrap().last().unwrap();
    assert_eq!(last["kind"], "restart", "{last}");
    assert_eq!(last["outcome"], "success", "{last}");
    let s = sb.run(&["--json", "status", "demo"]).success().json();
    assert_eq!(s["apps"][0]["deployed"]["id"], rel.as_str(), "{s}");
    // The rollback undoes the release, not the restart.
    sb.run(&["rollback", "demo", "--yes"]).success();
    assert!(sb.version("demo").contains("app=1.0.0"));

    // A restart that fails is `failed` (there is nothing to roll back); no name, no terminal:
    // a usage error.
    let r = sb.run(&["restart", "broken", "--yes"]).code_is(1);
    let out = format!("{}{}", r.stdout(), r.stderr());
    assert!(out.contains("broken  failed"), "{out}");
    sb.run(&["restart"]).code_is(2);
}

/// `runner init` reads a platform dir the old way (service_local.sh, Spring Boot's config,
/// logs) and the old sync scripts, writes a config that passes `config check`, and never
/// overwrites one without --force.
#[test]
fn init_writes_a_checked_config_from_the_machine_and_the_old_scripts() {
    let sb = Sandbox::new("init");
    let platform = sb.root.join("platform");
    for (path, body) in [
        ("pdms/app.jar", &jar(&[("A", b"1")])[..]),
        ("pdms/lib/x.jar", &jar(&[("X", b"1")])),
        ("pdms/logs/pdms.log", b"Started PdmsApplication in 3.1 seconds\n"),
        (
            "pdms/config/application.yml",
            b"server:\n  port: 8080\nmanagement:\n  server:\n    port: 8081\n  endpoints:\n    web:\n      base-path: /manage\n",
        ),
        ("gis/gis.jar", &jar(&[("G", b"1")])),
        // A dotted name is one app; `common` is the common libs' dir, no app.
        ("pdms.v2/app.jar", &jar(&[("V", b"2")])),
        ("common/lib.jar", &jar(&[("C", b"1")])),
        ("gis/application.properties", b"server.port=9090\n"),
        ("docs/readme.txt", b"no jars here"),
        ("service_local.sh", b"#!/bin/sh\n"),
    ] {
        let p = platform.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, body).unwrap();
    }
    let legacy = crate::util::repo().join("tests/fixtures/inotify-rsync.sh");
    let start = sb.root.join("start-sync.sh");
    fs::write(
        &start,
        "bash inotify-rsync.sh /etc/rsync.password 873 \"/home/ops/update/pdms,127.0.0.1,pdms,rsync_backup\"\n",
    )
    .unwrap();
    let out = sb.root.join("generated.toml");
    let args = |extra: &[&str]| {
        let mut v: Vec<String> = vec![
            "init".into(),
            "-o".into(),
            out.display().to_string(),
            "--deploy-root".into(),
            platform.display().to_string(),
            "--staging".into(),
            sb.root.join("update").display().to_string(),
            "--backup-root".into(),
            sb.root.join("backup").display().to_string(),
            "--state-dir".into(),
            sb.root.join("state").display().to_string(),
            "--from-script".into(),
            legacy.display().to_string(),
            start.display().to_string(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        sb.run(&a)
    };
    run(args(&[])).success();
    let text = fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("[apps.\"pdms\"]")
            && text.contains("[apps.\"gis\"]")
            && text.contains("[apps.\"pdms.v2\"]"),
        "{text}"
    );
    assert!(!text.contains("[apps.\"common\"]"), "{text}");
    assert!(
        !text.contains("[apps.docs]"),
        "a dir without jars is no app:\n{text}"
    );
    assert!(
        text.contains(&format!(
            "restart = [\"{}\", \"pdms\"]  # guessed",
            platform.join("service_local.sh").display()
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "health = \"http://127.0.0.1:8081/manage/health\"  # guessed: management.server.port"
        ),
        "{text}"
    );
    assert!(
        text.contains("health = \"http://127.0.0.1:9090/actuator/health\""),
        "{text}"
    );
    assert!(text.contains("pdms/logs/pdms.log\"  # guessed"), "{text}");
    assert!(
        text.contains("target = \"rsync://rsync_backup@127.0.0.1/pdms/pdms\""),
        "{text}"
    );
    // What runner will read: it passes the check, with both apps and the sync row.
    let c = Command::new(RUNNER)
        .args(["-c", out.to_str().unwrap(), "--json", "config", "check"])
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&c.stdout).unwrap();
    assert_eq!(doc["config"]["apps"].as_object().unwrap().len(), 3);
    assert_eq!(doc["config"]["sync"].as_array().unwrap().len(), 1);

    // Never over an existing file, unless asked.
    fs::write(&out, "# mine\n").unwrap();
    let r = run(args(&[])).code_is(2);
    assert!(r.stderr().contains("--force"), "{}", r.stderr());
    assert_eq!(fs::read_to_string(&out).unwrap(), "# mine\n");
    run(args(&["--force"])).success();
    assert!(
        fs::read_to_string(&out)
            .unwrap()
            .contains("[apps.\"pdms\"]")
    );
}

/// In Chinese: with LANG=zh_CN.UTF-8 (or --lang zh-CN) the release summary, the tables and
/// `status` speak Chinese; LANG=C.UTF-8 English; JSON stays English either way.
#[test]
fn messages_follow_the_locale() {
    let sb = Sandbox::new("zh")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    fs::write(sb.deploy("svc").join("a.jar"), jar(&[("A", b"1")])).unwrap();
    sb.stage("svc", "a.jar", &jar(&[("A", b"2")]));
    let zh = [("LANG", "zh_CN.UTF-8")];
    let r = sb.run_env(&["release", "svc", "--yes"], &zh).success();
    assert!(r.stdout().contains("发布成功"), "{}", r.stdout());
    assert!(
        r.stdout().contains("备份"),
        "the step names: {}",
        r.stdout()
    );
    let h = sb.run_env(&["history", "svc"], &zh).success().stdout();
    assert!(h.contains("发布号") && h.contains("成功"), "{h}");
    let s = sb.run_env(&["status"], &zh).success().stdout();
    assert!(s.contains("应用") && s.contains("健康检查"), "{s}");
    // --lang wins over the locale; JSON keeps its English names and values.
    let en = sb
        .run_env(&["--lang", "en", "status"], &zh)
        .success()
        .stdout();
    assert!(en.contains("deployed") && !en.contains("应用"), "{en}");
    let j = sb.run_env(&["--json", "history", "svc"], &zh).success();
    assert_eq!(j.doc("records")[0]["outcome"], "success");
    // The verify step: its detail in Chinese on screen, in English in the record.
    assert!(r.stdout().contains("重启成功"), "{}", r.stdout());
    let verify = j.doc("records")[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "verify")
        .cloned()
        .unwrap();
    assert!(
        verify["detail"]
            .as_str()
            .unwrap()
            .starts_with("restart succeeded"),
        "{verify}"
    );
    let c = sb.run(&["history", "svc"]).success().stdout();
    assert!(c.contains("outcome") && !c.contains("结果"), "{c}");
    let forced = sb
        .run(&["--lang", "zh-CN", "history", "svc"])
        .success()
        .stdout();
    assert!(forced.contains("结果"), "{forced}");
}

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A failed release in Chinese: its steps, its rollback and its error read in Chinese, while
/// what it records (the history's error and step details) stays English for every reader.
#[test]
fn chinese_on_screen_english_on_record() {
    let sb = Sandbox::new("zh-record")
        .app("svc", "restart = [\"false\"]")
        .write_config();
    fs::write(sb.deploy("svc").join("a.jar"), jar(&[("A", b"1")])).unwrap();
    sb.stage("svc", "a.jar", &jar(&[("A", b"2")]));
    let zh = [("LANG", "zh_CN.UTF-8")];
    let r = sb.run_env(&["release", "svc", "--yes"], &zh).code_is(1);
    let shown = format!("{}{}", r.stdout(), r.stderr());
    assert!(shown.contains("个文件 →"), "the backup step: {shown}");
    assert!(shown.contains("回滚也失败了"), "the outcome: {shown}");
    let rec = sb
        .run(&["--json", "history", "svc"])
        .success()
        .doc("records")[0]
        .clone();
    let error = rec["error"].as_str().unwrap();
    assert!(
        error.contains("ROLLBACK FAILED") && !has_chinese(error),
        "{error}"
    );
    let steps = rec["steps"].as_array().unwrap();
    assert!(steps.len() >= 3, "{rec}");
    for s in steps {
        let d = s["detail"].as_str().unwrap();
        assert!(!has_chinese(d), "a step detail recorded in Chinese: {d}");
    }
    assert!(steps[0]["detail"].as_str().unwrap().contains("files →"));
}

/// An error in Chinese on stderr; with --json, the document's message is English.
#[test]
fn errors_in_chinese_json_in_english() {
    let sb = Sandbox::new("zh-error")
        .app("svc", "restart = [\"true\"]")
        .write_config();
    sb.stage("svc", "a.jar", &jar(&[("A", b"2")]));
    fs::remove_dir_all(sb.deploy("svc")).unwrap();
    let zh = [("LANG", "zh_CN.UTF-8")];
    let r = sb.run_env(&["plan", "svc"], &zh).code_is(2);
    assert!(r.stderr().contains("部署目录"), "{}", r.stderr());
    let j = sb.run_env(&["--json", "plan", "svc"], &zh).code_is(2);
    let error = j.doc("error");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("deploy dir") && !has_chinese(message),
        "{message}"
    );
    assert!(!has_chinese(error["help"].as_str().unwrap()), "{error}");
    assert!(j.stderr().contains("部署目录"), "{}", j.stderr());
}

/// `--help` in Chinese: about, arguments, headings and examples (help.ftl); -h too.
#[test]
fn help_in_chinese() {
    let sb = Sandbox::new("zh-help");
    let long = sb
        .run(&["--lang", "zh-CN", "release", "--help"])
        .success()
        .stdout();
    for want in ["发布应用", "示例：", "集群选项", "全局选项", "用法："] {
        assert!(long.contains(want), "{want} missing:\n{long}");
    }
    assert!(
        !long.contains("Examples:") && !long.contains("Release apps"),
        "{long}"
    );
    let short = sb
        .run_env(&["-h"], &[("LANG", "zh_CN.UTF-8")])
        .success()
        .stdout();
    assert!(
        short.contains("命令") && short.contains("发布应用"),
        "{short}"
    );
    let en = sb.run(&["release", "--help"]).success().stdout();
    assert!(en.contains("Examples:") && !has_chinese(&en), "{en}");
}
