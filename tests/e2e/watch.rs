//! `runner watch`: files reach the target once settled, never half-written, in bursts, through
//! renames and new dirs, and after the target comes back.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::sync::Sshd;
use crate::util::{RUNNER, Sandbox, free_port, jar, tree};

/// A running `runner watch`, stopped with SIGTERM on drop.
struct Watch {
    child: Option<Child>,
    log: PathBuf,
}

impl Watch {
    fn start(sb: &Sandbox) -> Watch {
        let log = sb.root.join("watch.log");
        let child = Command::new(RUNNER)
            .arg("-c")
            .arg(&sb.config)
            .args(["watch", "--settle", "1s", "--log-format", "json"])
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Watch {
            child: Some(child),
            log,
        }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGHUP: every worker reconciles (or retries) now.
    fn hup(&self) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        assert!(
            Command::new("kill")
                .args(["-HUP", &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    /// SIGTERM; returns the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().unwrap()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits (polling the observable state) until `cond` holds.
fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn file_world(name: &str) -> (Sandbox, PathBuf, PathBuf) {
    let sb = Sandbox::new(name);
    let (src, dst) = (sb.staging("pdms"), sb.root.join("remote"));
    fs::create_dir_all(&src).unwrap();
    let sb = sb
        .with_extra(&format!(
            "\n[[sync]]\nsource = \"{}\"\ntarget = \"file://{}\"\n",
            src.display(),
            dst.display()
        ))
        .write_config();
    (sb, src, dst)
}

fn started(w: &Watch) {
    wait_until("the first reconcile", Duration::from_secs(20), || {
        w.log().contains("\"synced\"")
    });
}

#[test]
fn a_jar_uploaded_slowly_is_never_seen_half_written_at_the_target() {
    let (sb, src, dst) = file_world("wslow");
    let w = Watch::start(&sb);
    started(&w);
    let body = jar(&[
        (
            "Big.class",
            &(0..600_000u32)
                .map(|i| (i.wrapping_mul(7919) % 251) as u8)
                .collect::<Vec<_>>(),
        ),
        ("More.class", &[5u8; 10_000]),
    ]);
    let mut f = fs::File::create(src.join("app.jar")).unwrap();
    let mut seen_early = 0;
    for chunk in body.chunks(32 * 1024) {
        f.write_all(chunk).unwrap();
        f.flush().unwrap();
        // An upload at a modest pace; meanwhile the target must hold nothing or all of it.
        std::thread::sleep(Duration::from_millis(40));
        if let Ok(got) = fs::read(dst.join("app.jar")) {
            assert_eq!(got, body, "a partial jar reached the target");
            seen_early += 1;
        }
    }
    drop(f);
    wait_until("the finished jar", Duration::from_secs(20), || {
        fs::read(dst.join("app.jar")).is_ok_and(|b| b == body)
    });
    assert_eq!(seen_early, 0, "nothing arrived before the upload finished");
    let pushed = w.log().matches("\"synced\"").count();
    assert!(
        pushed <= 3,
        "one push for the jar, not one per chunk ({pushed} batches)"
    );
    assert!(w.stop().success(), "SIGTERM is a clean exit");
}

#[test]
fn renames_into_the_tree_and_new_dirs_are_pushed() {
    let (sb, src, dst) = file_world("wmv");
    let w = Watch::start(&sb);
    started(&w);
    // Delivered by mv from elsewhere.
    let outside = sb.root.join("upload.jar");
    fs::write(&outside, jar(&[("M", b"moved")])).unwrap();
    fs::rename(&outside, src.join("moved.jar")).unwrap();
    // Uploaded to a temp name, then renamed.
    fs::write(src.join(".incoming.jar.tmp"), jar(&[("R", b"renamed")])).unwrap();
    fs::rename(src.join(".incoming.jar.tmp"), src.join("renamed.jar")).unwrap();
    // A new tree, files written right after mkdir -p.
    fs::create_dir_all(src.join("a/b/c")).unwrap();
    fs::write(src.join("a/b/c/deep.jar"), jar(&[("D", b"deep")])).unwrap();
    fs::write(src.join("a/top.txt"), "top").unwrap();
    wait_until("every file", Duration::from_secs(20), || {
        tree(&dst) == tree(&src)
    });
    assert!(!dst.join(".incoming.jar.tmp").exists());
    // Deletion propagates.
    fs::remove_file(src.join("moved.jar")).unwrap();
    wait_until("the deletion", Duration::from_secs(20), || {
        !dst.join("moved.jar").exists()
    });
}

#[test]
fn a_burst_of_a_thousand_files_all_arrive() {
    let (sb, src, dst) = file_world("wburst");
    let w = Watch::start(&sb);
    started(&w);
    for i in 0..1000 {
        let d = src.join(format!("d{}", i % 10));
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join(format!("f{i}.txt")), format!("file {i}")).unwrap();
    }
    wait_until("1000 files", Duration::from_secs(60), || {
        tree(&dst).len() == 1000
    });
    assert_eq!(tree(&dst), tree(&src));
    drop(w);
}

#[test]
fn a_target_that_is_down_is_caught_up_when_it_returns() {
    let holder = Sandbox::new("wdownsshd");
    let port = free_port();
    let sb = Sandbox::new("wdown");
    let (src, dst) = (sb.staging("pdms"), sb.root.join("remote"));
    fs::create_dir_all(&src).unwrap();
    let client_config = holder.root.join("sshd/ssh_config");
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let sb = sb
        .with_extra(&format!(
            "\n[[sync]]\nsource = \"{}\"\ntarget = \"ssh://{user}@127.0.0.1:{port}{}\"\nssh_options = [\"-F\", \"{}\", \"-o\", \"ConnectTimeout=2\"]\nagent = \"{RUNNER}\"\n",
            src.display(),
            dst.display(),
            client_config.display()
        ))
        .write_config();
    fs::write(src.join("early.jar"), jar(&[("E", b"1")])).unwrap();
    let w = Watch::start(&sb);
    wait_until("a failed attempt", Duration::from_secs(20), || {
        w.log().contains("target unavailable")
    });
    fs::write(src.join("while-down.txt"), "queued").unwrap();
    let _sshd = Sshd::start_on(&holder.root, port);
    wait_until("the catch-up", Duration::from_secs(60), || {
        tree(&dst) == tree(&src)
    });
    assert!(w.stop().success());
}

#[test]
fn auto_release_runs_once_the_synced_batch_is_complete() {
    let sb = Sandbox::new("wauto")
        .app("svc", "restart = [\"true\"]\nauto_release = true")
        .write_config();
    fs::write(sb.deploy("svc/a.jar"), jar(&[("A", b"old")])).unwrap();
    let w = Watch::start(&sb);
    wait_until("the watcher", Duration::from_secs(20), || {
        w.log().contains("\"watching\"")
    });
    let full = jar(&[("A", b"new"), ("B.class", &[9u8; 20_000])]);
    // Half a jar lands first (an upload in progress): no release may start from it.
    fs::write(sb.staging("svc").join("a.jar"), &full[..full.len() / 2]).unwrap();
    wait_until("the refusal", Duration::from_secs(20), || {
        w.log().contains("release not started")
    });
    assert_eq!(
        fs::read(sb.deploy("svc/a.jar")).unwrap(),
        jar(&[("A", b"old")])
    );
    fs::write(sb.staging("svc").join("a.jar"), &full).unwrap();
    wait_until("the release", Duration::from_secs(30), || {
        fs::read(sb.deploy("svc/a.jar")).is_ok_and(|b| b == full)
    });
    wait_until("the history", Duration::from_secs(10), || {
        w.log().contains("auto release")
    });
    let h = sb
        .run(&["--json", "history", "svc"])
        .success()
        .doc("records");
    let records = h.as_array().unwrap();
    assert_eq!(records.len(), 1, "one release, of the complete jar: {h}");
    assert_eq!(records[0]["outcome"], "success");
    assert!(w.stop().success());
}

#[test]
fn sighup_repairs_drift_at_once() {
    let (sb, src, dst) = file_world("whup");
    fs::write(src.join("app.jar"), jar(&[("A", b"a")])).unwrap();
    let w = Watch::start(&sb);
    started(&w);
    wait_until("the first push", Duration::from_secs(20), || {
        dst.join("app.jar").exists()
    });
    // Someone edits the target behind runner's back: no event on the source side sees it.
    fs::remove_file(dst.join("app.jar")).unwrap();
    fs::write(dst.join("stray.txt"), "not in staging").unwrap();
    w.hup();
    // The periodic reconcile is 5 minutes away: only the signal can repair it in time.
    wait_until("the repair", Duration::from_secs(20), || {
        tree(&dst) == tree(&src)
    });
    assert!(w.stop().success(), "SIGHUP does not stop the service");
}

#[test]
fn a_touch_or_a_deletion_goes_out_without_waiting_for_the_settle_period() {
    // The settle period is long here: only a change that is seen as finished can beat it.
    let (sb, src, dst) = file_world("wtouch");
    fs::write(src.join("a.jar"), jar(&[("A", b"a")])).unwrap();
    // Another file stays: a deletion that would empty the target is held back (by design).
    fs::write(src.join("keep.txt"), "kept").unwrap();
    let log = sb.root.join("watch.log");
    let mut child = Command::new(RUNNER)
        .arg("-c")
        .arg(&sb.config)
        .args(["watch", "--settle", "60s", "--log-format", "json"])
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let synced = || {
        fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("\"synced\"")
            .count()
    };
    // The target holds the file before the service logs its push: wait for both.
    wait_until("the first push", Duration::from_secs(20), || {
        dst.join("a.jar").exists() && synced() > 0
    });
    let n = synced();
    let when = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    fs::File::options()
        .write(true)
        .open(src.join("a.jar"))
        .unwrap()
        .set_modified(when)
        .unwrap();
    wait_until("the touched mtime", Duration::from_secs(20), || {
        fs::metadata(dst.join("a.jar")).unwrap().modified().unwrap() == when
    });
    wait_until("the touch's push logged", Duration::from_secs(20), || {
        synced() > n
    });
    fs::remove_file(src.join("a.jar")).unwrap();
    wait_until("the deletion", Duration::from_secs(20), || {
        !dst.join("a.jar").exists()
    });
    let _ = child.kill();
    let _ = child.wait();
}

/// An unmounted share looks like a missing staging dir: the service waits for it (an error in
/// the log each try, with back-off), never creates it, and never empties the target.
#[test]
fn a_missing_source_is_waited_for_and_the_target_is_kept() {
    let (sb, src, dst) = file_world("wmissing");
    fs::remove_dir(&src).unwrap();
    fs::create_dir_all(&dst).unwrap();
    fs::write(dst.join("app.jar"), jar(&[("A", b"deployed")])).unwrap();
    let w = Watch::start(&sb);
    wait_until("the error", Duration::from_secs(20), || {
        w.log().contains("does not exist (an unmounted share?)")
    });
    assert!(!src.exists(), "the source is not created");
    assert!(dst.join("app.jar").exists(), "the target keeps its files");
    // The share is mounted: the next try syncs it.
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("app.jar"), jar(&[("A", b"new")])).unwrap();
    w.hup();
    wait_until("the sync", Duration::from_secs(20), || {
        tree(&dst) == tree(&src)
    });
    assert!(w.stop().success());
}

/// The service keeps a status file `runner status` shows: per target its last sync, a failing
/// target with since when and why. SIGHUP re-reads the config: an added row is synced, a
/// removed one leaves the status.
#[test]
fn the_service_status_and_a_reload_that_adds_and_removes_targets() {
    let (sb, src, dst) = file_world("wstatus");
    fs::write(src.join("a.jar"), jar(&[("A", b"a")])).unwrap();
    // A second row whose target cannot be reached (nothing listens on that port).
    let dead = format!("ssh://nobody@127.0.0.1:{}/x", free_port());
    let base = fs::read_to_string(&sb.config).unwrap();
    fs::write(
        &sb.config,
        format!(
            "{base}\n[[sync]]\nsource = \"{}\"\ntarget = \"{dead}\"\n",
            src.display()
        ),
    )
    .unwrap();
    let w = Watch::start(&sb);
    started(&w);
    let sync = || {
        let out = Command::new(RUNNER)
            .args([
                "-c",
                sb.config.to_str().unwrap(),
                "--json",
                "status",
                "--sync",
            ])
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["sync"].clone()
    };
    let target = |s: &serde_json::Value, t: &str| {
        s["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["target"] == t)
            .cloned()
    };
    let file_target = format!("file://{}", dst.display());
    wait_until(
        "the dead target failing in the status",
        Duration::from_secs(20),
        || {
            let s = sync();
            target(&s, &dead).is_some_and(|t| t["state"] == "failing")
                && target(&s, &file_target).is_some_and(|t| t["state"] == "ok")
        },
    );
    let s = sync();
    let failing = target(&s, &dead).unwrap();
    assert!(failing["failing_since"].is_string(), "{failing}");
    assert!(
        failing["last_error"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1"),
        "{failing}"
    );
    assert!(target(&s, &file_target).unwrap()["last_ok"].is_string());
    let types = crate::json::documented();
    crate::json::conforms("WatchStatus", &s, &types);
    let text = Command::new(RUNNER)
        .args(["-c", sb.config.to_str().unwrap(), "status", "--sync"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(
        text.contains("sync service (runner watch)") && text.contains("failing"),
        "{text}"
    );

    // Reload: the dead row goes, a new row comes.
    let dst2 = sb.root.join("remote2");
    fs::write(
        &sb.config,
        format!(
            "{base}\n[[sync]]\nsource = \"{}\"\ntarget = \"file://{}\"\n",
            src.display(),
            dst2.display()
        ),
    )
    .unwrap();
    w.hup();
    wait_until("the added target synced", Duration::from_secs(20), || {
        dst2.join("a.jar").exists()
    });
    wait_until(
        "the removed target gone from the status",
        Duration::from_secs(20),
        || {
            let s = sync();
            target(&s, &dead).is_none()
                && target(&s, &format!("file://{}", dst2.display())).is_some()
        },
    );
    assert!(w.log().contains("config re-read"), "{}", w.log());
    assert!(w.stop().success());
    // The service is gone: status says so, and exits 1.
    let out = Command::new(RUNNER)
        .args(["-c", sb.config.to_str().unwrap(), "status", "--sync"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not running"));
}

/// The command name and parent of a process.
fn comm_and_parent(pid: u32) -> Option<(String, u32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid ...
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let ppid = stat[close + 2..].split(' ').nth(1)?.parse().ok()?;
    Some((stat[open + 1..close].to_string(), ppid))
}

fn pids() -> impl Iterator<Item = u32> {
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse().ok())
}

/// The pids of `pid`'s children whose command is `comm`.
fn children(pid: u32, comm: &str) -> Vec<u32> {
    let mut out: Vec<u32> = pids()
        .filter(|p| comm_and_parent(*p).is_some_and(|(c, up)| c == comm && up == pid))
        .collect();
    out.sort();
    out
}

/// The pids of the processes whose command line has `arg` and that descend from `ancestor`.
fn descendants_with(ancestor: u32, arg: &str) -> Vec<u32> {
    pids()
        .filter(|pid| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            cmdline.split(|b| *b == 0).any(|a| a == arg.as_bytes())
        })
        .filter(|pid| {
            let mut p = *pid;
            while let Some((_, up)) = comm_and_parent(p).filter(|(_, up)| *up > 1) {
                if up == ancestor {
                    return true;
                }
                p = up;
            }
            false
        })
        .collect()
}

/// `n` rows to one private sshd that logs its logins, each its own source holding a jar, with
/// the operator's own `ControlMaster=no`; `runner watch` started and its first reconcile done.
struct OneHost {
    _holder: Sandbox,
    sshd: Sshd,
    log: PathBuf,
    _sb: Sandbox,
    pairs: Vec<(PathBuf, PathBuf)>,
    w: Watch,
}

impl OneHost {
    fn start(name: &str, n: usize) -> OneHost {
        let holder = Sandbox::new(&format!("{name}sshd"));
        let log = holder.root.join("sshd.log");
        let sshd = Sshd::start_logged(&holder.root, &log);
        let sb = Sandbox::new(name);
        let client_config = holder.root.join("sshd/ssh_config");
        let mut rows = String::new();
        let mut pairs = Vec::new();
        for i in 0..n {
            let (src, dst) = (
                sb.staging(&format!("app{i}")),
                sb.root.join(format!("remote{i}")),
            );
            fs::create_dir_all(src.join("lib")).unwrap();
            fs::write(
                src.join("lib/a.jar"),
                jar(&[("A", format!("{i}").as_bytes())]),
            )
            .unwrap();
            rows.push_str(&format!(
                "\n[[sync]]\nsource = \"{}\"\ntarget = \"{}\"\nssh_options = [\"-F\", \"{}\", \"-o\", \"ControlMaster=no\"]\nagent = \"{RUNNER}\"\n",
                src.display(),
                sshd.target(&dst),
                client_config.display()
            ));
            pairs.push((src, dst));
        }
        let sb = sb.with_extra(&rows).write_config();
        let w = Watch::start(&sb);
        let h = OneHost {
            _holder: holder,
            sshd,
            log,
            _sb: sb,
            pairs,
            w,
        };
        h.synced_at_least(n);
        for (src, dst) in &h.pairs {
            assert_eq!(tree(dst), tree(src));
        }
        h
    }

    fn synced_at_least(&self, n: usize) {
        wait_until("the rows' reconcile", Duration::from_secs(30), || {
            self.w.log().matches("\"synced\"").count() >= n
        });
    }

    fn pid(&self) -> u32 {
        self.w.child.as_ref().unwrap().id()
    }

    fn logins(&self) -> usize {
        Sshd::logins(&self.log)
    }
}

/// The rows to one host share one ssh session and one agent there, even with the operator's
/// own `ControlMaster=no`, and a reload (SIGHUP) keeps that session: three rows, one ssh, one
/// login, before and after.
#[test]
fn a_hosts_rows_share_one_ssh_and_a_reload_keeps_it() {
    let h = OneHost::start("wmux", 3);
    let ssh = children(h.pid(), "ssh");
    assert_eq!(ssh.len(), 1, "one ssh for the three rows: {ssh:?}");
    assert_eq!(descendants_with(h.sshd.pid(), "--mux").len(), 1);
    assert_eq!(h.logins(), 1);
    h.w.hup();
    h.synced_at_least(6);
    let (src, dst) = &h.pairs[1];
    fs::write(src.join("lib/new.jar"), jar(&[("N", b"new")])).unwrap();
    wait_until("the new jar", Duration::from_secs(30), || {
        tree(dst) == tree(src)
    });
    assert_eq!(
        children(h.pid(), "ssh"),
        ssh,
        "the same ssh after the reload"
    );
    assert_eq!(h.logins(), 1, "{}", fs::read_to_string(&h.log).unwrap());
    assert!(h.w.stop().success());
}

/// The host's agent dies (killed there): the rows to it fail, and the next try opens a new ssh
/// session and agent that carry them again.
#[test]
fn a_killed_host_agent_is_replaced() {
    let h = OneHost::start("wkill", 2);
    let ssh = children(h.pid(), "ssh");
    let agents = descendants_with(h.sshd.pid(), "--mux");
    assert_eq!(agents.len(), 1, "one agent for both rows: {agents:?}");
    assert!(
        Command::new("kill")
            .args(["-KILL", &agents[0].to_string()])
            .status()
            .unwrap()
            .success()
    );
    for (src, _) in &h.pairs {
        fs::write(src.join("b.jar"), jar(&[("B", b"b")])).unwrap();
    }
    wait_until("both rows carried again", Duration::from_secs(30), || {
        h.pairs.iter().all(|(s, d)| tree(d) == tree(s))
    });
    assert_ne!(children(h.pid(), "ssh"), ssh, "a new ssh session");
    assert_eq!(descendants_with(h.sshd.pid(), "--mux").len(), 1);
    assert_eq!(h.logins(), 2, "{}", fs::read_to_string(&h.log).unwrap());
    assert!(h.w.stop().success());
}

/// One inotify instance serves every row: rows that share a source, one through a symlink to
/// it, one whose source is a dir inside another's, and one elsewhere each get the changes under
/// their own source, over one watching thread.
#[test]
fn one_watcher_serves_shared_symlinked_and_nested_sources() {
    let sb = Sandbox::new("whub");
    let (src, other) = (sb.staging("pdms"), sb.staging("crm"));
    fs::create_dir_all(src.join("lib")).unwrap();
    fs::create_dir_all(&other).unwrap();
    let link = sb.root.join("pdms-link");
    std::os::unix::fs::symlink(&src, &link).unwrap();
    let rows = [
        (src.clone(), sb.root.join("real")),
        (link.clone(), sb.root.join("via-link")),
        (src.join("lib"), sb.root.join("lib-only")),
        (other.clone(), sb.root.join("other")),
    ];
    let mut extra = String::new();
    for (s, d) in &rows {
        extra.push_str(&format!(
            "\n[[sync]]\nsource = \"{}\"\ntarget = \"file://{}\"\n",
            s.display(),
            d.display()
        ));
    }
    let sb = sb.with_extra(&extra).write_config();
    let w = Watch::start(&sb);
    wait_until(
        "every row's first reconcile",
        Duration::from_secs(20),
        || w.log().matches("\"synced\"").count() >= rows.len(),
    );
    let pid = w.child.as_ref().unwrap().id();
    let watchers = fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .filter(|t| {
            fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.starts_with("notify"))
        })
        .count();
    assert_eq!(watchers, 1, "one watching thread for four rows");
    fs::write(src.join("lib/x.jar"), jar(&[("X", b"x")])).unwrap();
    fs::write(other.join("y.jar"), jar(&[("Y", b"y")])).unwrap();
    wait_until("every row's copy", Duration::from_secs(20), || {
        rows.iter().all(|(s, d)| tree(d) == tree(s))
    });
    assert!(sb.root.join("lib-only/x.jar").exists());
    assert!(sb.root.join("via-link/lib/x.jar").exists());
    assert!(!sb.root.join("real/y.jar").exists());
    assert!(w.stop().success());
}
