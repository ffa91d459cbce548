//! Crash safety: a release killed at any instant leaves every deployed file wholly old or
//! wholly new, and the next `release` finishes it while `rollback` undoes it.

use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::util::{Sandbox, jar, snapshot};

/// A deploy tree and a staging tree with modified, added, removed (mirror) and unchanged files.
struct World {
    sb: Sandbox,
    old: BTreeMap<String, String>,
    new: BTreeMap<String, String>,
}

fn world(name: &str, file_size: usize, restart: &str) -> World {
    let sb = Sandbox::new(name)
        .app("svc", &format!("restart = {restart}\nmirror = true"))
        .write_config();
    let body = |tag: &str, i: usize| {
        jar(&[
            ("Main.class", tag.as_bytes()),
            ("blob", &noise(i, file_size)),
        ])
    };
    let put = |root: std::path::PathBuf, rel: &str, b: Vec<u8>| {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, b).unwrap();
    };
    put(sb.deploy("svc"), "lib/keep.jar", body("keep", 0));
    put(sb.staging("svc"), "lib/keep.jar", body("keep", 0));
    put(sb.deploy("svc"), "gone.jar", body("gone", 1));
    for i in 1..=6 {
        put(sb.deploy("svc"), &format!("lib/mod{i}.jar"), body("old", i));
        put(
            sb.staging("svc"),
            &format!("lib/mod{i}.jar"),
            body("new", i),
        );
    }
    for i in 1..=3 {
        put(
            sb.staging("svc"),
            &format!("ext/add{i}.jar"),
            body("add", i),
        );
    }
    let old = snapshot(&sb.deploy("svc"));
    let new = snapshot(&sb.staging("svc"));
    World { sb, old, new }
}

/// Incompressible bytes, so a jar is as big on disk as asked.
fn noise(seed: usize, n: usize) -> Vec<u8> {
    let mut r = Rng((seed as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    (0..n).map(|_| r.next() as u8).collect()
}

impl World {
    /// Every deployed file is wholly old or wholly new; a temp file is the only other thing.
    fn assert_each_file_old_or_new(&self, context: &str) {
        let now = snapshot(&self.sb.deploy("svc"));
        for (path, sha) in &now {
            let name = path.rsplit('/').next().unwrap();
            if name.starts_with('.') && name.ends_with(".runner-tmp") {
                continue;
            }
            assert!(
                self.old.get(path) == Some(sha) || self.new.get(path) == Some(sha),
                "{context}: {path} is neither the old nor the new content"
            );
        }
        for path in self.old.keys().filter(|p| self.new.contains_key(*p)) {
            assert!(now.contains_key(path), "{context}: {path} vanished");
        }
    }

    fn assert_state(&self, want: &BTreeMap<String, String>, context: &str) {
        assert_eq!(&snapshot(&self.sb.deploy("svc")), want, "{context}");
    }
}

const POINTS: &[&str] = &[
    "journal-planned",
    "backup-file:1",
    "backup-file:4",
    "journal-backed-up",
    "prepare-file:1",
    "prepare-file:5",
    "journal-prepared",
    "commit-file:1",
    "commit-file:6",
    "journal-committed",
    "journal-restarted",
];

#[test]
fn killed_at_every_step_then_resumed_or_undone() {
    for point in POINTS {
        for undo in [false, true] {
            let w = world("fault", 2000, "[\"true\"]");
            let r =
                w.sb.run_env(&["release", "svc", "--yes"], &[("RUNNER_FAULT", point)]);
            assert_eq!(
                r.code(),
                None,
                "{point}: the release was aborted by the fault\n{}",
                r.stderr()
            );
            w.assert_each_file_old_or_new(point);

            // The interrupted release is reported, not silently re-planned.
            let p = w.sb.run(&["plan", "svc"]).success();
            assert!(
                p.stderr().contains("was interrupted"),
                "{point}: {}",
                p.stderr()
            );

            if undo {
                w.sb.run(&["rollback", "svc", "--yes"]).success();
                w.assert_state(&w.old, &format!("{point}: undone"));
                let h =
                    w.sb.run(&["--json", "history", "svc"])
                        .success()
                        .doc("records");
                assert_eq!(h[0]["outcome"], "undone", "{point}");
            } else {
                let out = w.sb.run(&["release", "svc", "--yes"]).success();
                assert!(
                    out.stdout().contains("resuming interrupted release"),
                    "{point}"
                );
                w.assert_state(&w.new, &format!("{point}: resumed"));
                let h =
                    w.sb.run(&["--json", "history", "svc"])
                        .success()
                        .doc("records");
                assert_eq!(h[0]["outcome"], "success", "{point}");
                assert_eq!(h[0]["resumed"], true, "{point}");
                // And the finished release can itself be rolled back to the old tree.
                w.sb.run(&["rollback", "svc", "--yes"]).success();
                w.assert_state(&w.old, &format!("{point}: rolled back after resume"));
            }
        }
    }
}

#[test]
fn killed_while_rolling_back_a_failed_restart() {
    for undo in [false, true] {
        let w = world("rbfault", 2000, "[\"false\"]");
        let r = w.sb.run_env(
            &["release", "svc", "--yes"],
            &[("RUNNER_FAULT", "restore-file:3")],
        );
        assert_eq!(r.code(), None, "{}", r.stderr());
        w.assert_each_file_old_or_new("restore-file:3");
        // Either way the old files go back; the restart (`false`) still fails, so both exit 1.
        let cmd = if undo { "rollback" } else { "release" };
        w.sb.run(&[cmd, "svc", "--yes"]).code_is(1);
        w.assert_state(&w.old, &format!("undo={undo}"));
    }
}

/// A tiny xorshift, seeded from the clock and printed, so a failure can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn kill_9_at_random_instants() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("kill_9_at_random_instants: CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    // Time an uninterrupted release of the same world to spread the kills over it.
    let w = world("timing", 400_000, "[\"true\"]");
    let t = std::time::Instant::now();
    w.sb.run(&["release", "svc", "--yes"]).success();
    let span = t.elapsed().as_micros() as u64;
    for i in 0..12 {
        let w = world("kill9", 400_000, "[\"true\"]");
        let mut child =
            w.sb.cmd()
                .args(["release", "svc", "--yes"])
                .spawn()
                .unwrap();
        std::thread::sleep(Duration::from_micros(rng.next() % (span + 1)));
        let _ = child.kill();
        let status = child.wait().unwrap();
        let ctx = format!("kill {i} (seed {seed}, status {status:?})");
        w.assert_each_file_old_or_new(&ctx);
        if i % 2 == 0 {
            w.sb.run(&["release", "svc", "--yes"]).success();
            w.assert_state(&w.new, &ctx);
        } else {
            // Interrupted or finished, rollback leaves the old tree; killed before the journal
            // existed, there is nothing to roll back and the tree was never touched.
            let r = w.sb.run(&["rollback", "svc", "--yes"]);
            if r.code() != Some(0) {
                assert!(
                    r.stderr().contains("no successful release"),
                    "{ctx}: {}",
                    r.stderr()
                );
            }
            w.assert_state(&w.old, &ctx);
        }
    }
}
