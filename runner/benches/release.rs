//! `cargo bench --bench release`: runner against the legacy `update.sh` loop, side by side in one
//! run, on the same generated fleet; prints the times and the ratios.
//!
//! 1. Release: `../shared/bench/make-fleet.py` generates 20 apps (scale 0.25: thin apps with an app
//!    jar + ~100 lib jars, Spring Boot fat-jar apps), deployed as generated; each app's staging dir
//!    holds all of its jars flat (as ops stage them for `update.sh`) with 10 of them rewritten
//!    (1 for fat-jar apps). `update.sh` runs once per app; `runner release --all --yes` once, with a
//!    no-op restart, its hash cache warm from an earlier plan (a box that released before) — and
//!    once more with an empty state dir (cold cache).
//! 2. No-change plan: a 1 GiB deploy tree with its staging mirroring it, warm cache, vs `update.sh`
//!    on the same tree (it `diff`s every staged jar against every deployed copy).
//!
//! Env: BENCH_APPS (20), BENCH_SCALE (0.25), BENCH_REPEATS (3), BENCH_GIB (1), BENCH_WORK
//! (target/bench-release). Needs python3; the fleet is generated once and reused.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNNER: &str = env!("CARGO_BIN_EXE_runner");

fn env_or<T: std::str::FromStr>(k: &str, d: T) -> T {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn shared_bench() -> PathBuf {
    let p = repo().join("../shared/bench");
    assert!(
        p.join("make-fleet.py").is_file(),
        "{} not found: the benchmark needs ../shared/bench beside the repo",
        p.display()
    );
    p
}

fn sh(cmd: &mut Command) {
    let st = cmd.status().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(st.success(), "{cmd:?} failed: {st}");
}

fn timed(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let d = t.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

fn copy_tree(from: &Path, to: &Path) {
    let _ = fs::remove_dir_all(to);
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    sh(Command::new("cp").arg("-a").arg(from).arg(to));
}

fn jars_under(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walk(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jar"))
        .collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn config(work: &Path, staging: &Path, deploy: &Path, state: &Path, apps: &[String]) -> PathBuf {
    let mut text = format!(
        "staging = \"{}\"\ndeploy_root = \"{}\"\nbackup_root = \"{}\"\nstate_dir = \"{}\"\n",
        staging.display(),
        deploy.display(),
        work.join("backup-runner").display(),
        state.display()
    );
    for a in apps {
        text.push_str(&format!("[apps.{a}]\nrestart = [\"true\"]\n"));
    }
    let p = work.join("runner.toml");
    fs::write(&p, text).unwrap();
    p
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let apps_n: usize = env_or("BENCH_APPS", 20);
    let scale: f64 = env_or("BENCH_SCALE", 0.25);
    let repeats: usize = env_or("BENCH_REPEATS", 3);
    let gib: f64 = env_or("BENCH_GIB", 1.0);
    let work = PathBuf::from(env_or(
        "BENCH_WORK",
        repo().join("target/bench-release").display().to_string(),
    ));
    let bench = shared_bench();
    let update_sh = bench.join("legacy/update.sh");
    fs::create_dir_all(&work).unwrap();

    // The fleet, generated once.
    let fleet = work.join("fleet");
    let stamp = work.join(format!("fleet-{apps_n}-{scale}.done"));
    if !stamp.exists() {
        eprintln!("[bench] generating the fleet ({apps_n} apps, scale {scale})");
        let _ = fs::remove_dir_all(&fleet);
        sh(Command::new("python3")
            .arg(bench.join("make-fleet.py"))
            .args([
                "gen",
                "--apps",
                &apps_n.to_string(),
                "--scale",
                &scale.to_string(),
                "--root",
            ])
            .arg(&fleet)
            .arg("--manifest")
            .arg(work.join("fleet.json"))
            .stdout(Stdio::null()));
        fs::write(&stamp, "").unwrap();
    }
    let mut apps: Vec<String> = fs::read_dir(&fleet)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    apps.sort();

    // Flat staging: every jar of the app at the top of its staging dir; the rewritten ones
    // come from `mutate --out` so that both contestants see identical bytes.
    let staging_base = work.join("staging-base");
    let mutated = work.join("mutated");
    if !mutated.exists() {
        let _ = fs::remove_dir_all(&staging_base);
        for a in &apps {
            let dir = staging_base.join(a);
            fs::create_dir_all(&dir).unwrap();
            for j in jars_under(&fleet.join(a)) {
                fs::copy(&j, dir.join(j.file_name().unwrap())).unwrap();
            }
            sh(Command::new("python3")
                .arg(bench.join("make-fleet.py"))
                .args([
                    "mutate", "--count", "10", "--app", a, "--seed", "7", "--root",
                ])
                .arg(&staging_base)
                .arg("--out")
                .arg(&mutated)
                .stdout(Stdio::null()));
        }
    }
    let changed = jars_under(&mutated).len();
    let total_jars = jars_under(&staging_base).len();

    let mut legacy = Vec::new();
    // This runner, and in the same rounds the others named: RUNNER_BENCH_STATIC (the static
    // musl build) and RUNNER_BENCH_BEFORE (an earlier build, for before/after).
    let mut contestants: Vec<(&str, String)> = vec![("", RUNNER.to_string())];
    for (label, var) in [
        ("static musl build", "RUNNER_BENCH_STATIC"),
        ("before", "RUNNER_BENCH_BEFORE"),
    ] {
        if let Some(bin) = std::env::var(var).ok().filter(|p| !p.is_empty()) {
            contestants.push((label, bin));
        }
    }
    let mut rounds: Vec<[Vec<Duration>; 3]> =
        contestants.iter().map(|_| Default::default()).collect();
    let mut legacy_wrong = 0;
    let mut scoped = Vec::new();
    for r in 0..repeats {
        eprintln!("[bench] release round {}/{repeats}", r + 1);
        let staging = work.join("staging");
        let stage = |staging: &Path| {
            copy_tree(&staging_base, staging);
            sh(Command::new("cp")
                .arg("-a")
                .arg(format!("{}/.", mutated.display()))
                .arg(staging));
        };

        for ((_, bin), times) in contestants.iter().zip(&mut rounds) {
            let round = runner_round(bin, &work, &fleet, &staging_base, &mutated, &apps);
            for (t, d) in times.iter_mut().zip(round) {
                t.push(d);
            }
        }

        // update.sh, once per app, as update_all.sh ran it.
        let platform = work.join("platform");
        copy_tree(&fleet, &platform);
        stage(&staging);
        let backup = work.join("backup-legacy");
        let _ = fs::remove_dir_all(&backup);
        let t = Instant::now();
        for a in &apps {
            sh(Command::new("bash")
                .arg(&update_sh)
                .arg(&staging)
                .arg(&platform)
                .arg(&backup)
                .arg(a)
                .stdout(Stdio::null()));
        }
        legacy.push(t.elapsed());
        legacy_wrong = check(&platform, &mutated);

        // update.sh with its `find` scoped to the app's own dir: a tuned baseline.
        copy_tree(&fleet, &platform);
        let _ = fs::remove_dir_all(&backup);
        let t = Instant::now();
        for a in &apps {
            sh(Command::new("bash")
                .arg(&update_sh)
                .arg(&staging)
                .arg(platform.join(a))
                .arg(&backup)
                .arg(a)
                .stdout(Stdio::null()));
        }
        scoped.push(t.elapsed());
        assert_eq!(
            check(&platform, &mutated),
            0,
            "scoped update.sh left jars not updated"
        );
    }
    let (l, sc) = (median(legacy), median(scoped));
    println!();
    println!(
        "release: {} apps, {total_jars} staged jars, {changed} rewritten, no-op restart (median of {repeats})",
        apps.len()
    );
    println!("| contestant | time | update.sh ÷ this |");
    println!("| --- | --- | --- |");
    println!(
        "| update.sh per app (legacy: `find` over the whole platform) | {} | 1.0× |",
        ms(l)
    );
    println!(
        "| update.sh per app, `find` scoped to the app (tuned baseline) | {} | {:.1}× |",
        ms(sc),
        l.as_secs_f64() / sc.as_secs_f64()
    );
    let medians: Vec<[Duration; 3]> = rounds.into_iter().map(|r| r.map(median)).collect();
    for (k, name) in ["warm hash cache", "cold hash cache", "right after a sync"]
        .iter()
        .enumerate()
    {
        for ((label, _), m) in contestants.iter().zip(&medians) {
            let d = m[k];
            let this = if label.is_empty() {
                String::new()
            } else {
                format!(
                    ", {label} (÷ this build: {:.2})",
                    d.as_secs_f64() / medians[0][k].as_secs_f64()
                )
            };
            println!(
                "| runner release --all, {name}{this} | {} | {:.1}× (tuned baseline ÷ this: {:.1}×) |",
                ms(d),
                l.as_secs_f64() / d.as_secs_f64(),
                sc.as_secs_f64() / d.as_secs_f64()
            );
        }
    }
    if legacy_wrong > 0 {
        println!(
            "update.sh left {legacy_wrong} deployed jars not matching their app's staging (its `find` spans every app)"
        );
    }

    no_change_plan(&work, &update_sh, gib, repeats, &contestants);
}

/// One round of `runner` (the binary `bin`): warm hash cache (the unmutated tree planned
/// first, as a box that released before), then cold (an empty state dir), then right after a
/// sync (warm, and the rewritten jars arrive by `runner sync` from a central copy over
/// `file://`, as on an app server fed by `runner watch`). Their release times.
fn runner_round(
    bin: &str,
    work: &Path,
    fleet: &Path,
    staging_base: &Path,
    mutated: &Path,
    apps: &[String],
) -> [Duration; 3] {
    let staging = work.join("staging");
    let deploy = work.join("deploy");
    let state = work.join("state");
    let _ = fs::remove_dir_all(&state);
    let _ = fs::remove_dir_all(work.join("backup-runner"));
    copy_tree(fleet, &deploy);
    copy_tree(staging_base, &staging);
    let cfg = config(work, &staging, &deploy, &state, apps);
    timed(Command::new(bin).arg("-c").arg(&cfg).arg("plan"));
    sh(Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", mutated.display()))
        .arg(&staging));
    let release = || {
        timed(
            Command::new(bin)
                .arg("-c")
                .arg(&cfg)
                .args(["release", "--all", "--yes"]),
        )
    };
    let warm = release();
    assert_eq!(check(&deploy, mutated), 0, "runner left jars not updated");
    let _ = fs::remove_dir_all(&state);
    let _ = fs::remove_dir_all(work.join("backup-runner"));
    copy_tree(fleet, &deploy);
    let cold = release();
    assert_eq!(check(&deploy, mutated), 0, "runner left jars not updated");

    let _ = fs::remove_dir_all(&state);
    let _ = fs::remove_dir_all(work.join("backup-runner"));
    copy_tree(fleet, &deploy);
    copy_tree(staging_base, &staging);
    let central = work.join("central");
    copy_tree(staging_base, &central);
    sh(Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", mutated.display()))
        .arg(&central));
    let rows: String = apps
        .iter()
        .map(|a| {
            format!(
                "\n[[sync]]\nsource = \"{}\"\ntarget = \"file://{}\"\n",
                central.join(a).display(),
                staging.join(a).display()
            )
        })
        .collect();
    let synced = work.join("runner-sync.toml");
    fs::write(&synced, fs::read_to_string(&cfg).unwrap() + &rows).unwrap();
    timed(Command::new(bin).arg("-c").arg(&synced).arg("plan"));
    timed(
        Command::new(bin)
            .arg("-c")
            .arg(&synced)
            .args(["sync", "-j", "4"]),
    );
    let after_sync = timed(
        Command::new(bin)
            .arg("-c")
            .arg(&synced)
            .args(["release", "--all", "--yes"]),
    );
    assert_eq!(check(&deploy, mutated), 0, "runner left jars not updated");
    [warm, cold, after_sync]
}

/// How many same-named deployed paths of an app do not hold its rewritten jar.
fn check(deploy: &Path, mutated: &Path) -> usize {
    let mut bad = 0;
    for m in jars_under(mutated) {
        let rel = m.strip_prefix(mutated).unwrap();
        let app = rel.components().next().unwrap();
        let name = m.file_name().unwrap();
        let want = fs::read(&m).unwrap();
        let hits: Vec<PathBuf> = jars_under(&deploy.join(app))
            .into_iter()
            .filter(|p| p.file_name() == Some(name))
            .collect();
        bad += usize::from(hits.is_empty());
        bad += hits.iter().filter(|h| fs::read(h).unwrap() != want).count();
    }
    bad
}

/// A no-change plan of a big tree: staging mirrors deploy, every hash cached.
fn no_change_plan(
    work: &Path,
    update_sh: &Path,
    gib: f64,
    repeats: usize,
    contestants: &[(&str, String)],
) {
    let root = work.join("big");
    let total = (gib * (1u64 << 30) as f64) as u64;
    let per = 4u64 << 20;
    let n = total / per;
    let stamp = root.join(format!("{n}.done"));
    let (staging, deploy) = (root.join("staging"), root.join("deploy"));
    if !stamp.exists() {
        eprintln!("[bench] writing a {gib} GiB deploy tree ({n} jars) and its staging copy");
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(deploy.join("big/lib")).unwrap();
        fs::create_dir_all(staging.join("big")).unwrap();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for i in 0..n {
            let mut body = vec![0u8; per as usize];
            for chunk in body.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
            }
            let name = format!("lib-{i:04}.jar");
            fs::write(deploy.join("big/lib").join(&name), &body).unwrap();
            fs::write(staging.join("big").join(&name), &body).unwrap();
        }
        fs::write(&stamp, "").unwrap();
    }
    let state = root.join("state");
    let cfg = root.join("runner.toml");
    fs::write(
        &cfg,
        format!(
            "staging = \"{}\"\ndeploy_root = \"{}\"\nbackup_root = \"{}\"\nstate_dir = \"{}\"\n[apps.big]\nrestart = [\"true\"]\n",
            staging.display(),
            deploy.display(),
            root.join("backup").display(),
            state.display()
        ),
    )
    .unwrap();
    // First plans (nothing cached: the state dir removed before each), every contestant in
    // each round; the tree is in the page cache for all of them (written or read just before).
    let mut firsts: Vec<Vec<Duration>> = contestants.iter().map(|_| Vec::new()).collect();
    for _ in 0..repeats {
        for ((_, bin), times) in contestants.iter().zip(&mut firsts) {
            let _ = fs::remove_dir_all(&state);
            times.push(timed(
                Command::new(bin).arg("-c").arg(&cfg).args(["plan", "big"]),
            ));
        }
    }
    let firsts: Vec<Duration> = firsts.into_iter().map(median).collect();
    let plans: Vec<Duration> = (0..repeats.max(5))
        .map(|_| {
            timed(
                Command::new(RUNNER)
                    .arg("-c")
                    .arg(&cfg)
                    .args(["plan", "big"]),
            )
        })
        .collect();
    let legacy: Vec<Duration> = (0..repeats)
        .map(|_| {
            timed(
                Command::new("bash")
                    .arg(update_sh)
                    .arg(&staging)
                    .arg(&deploy)
                    .arg(root.join("backup-legacy"))
                    .arg("big"),
            )
        })
        .collect();
    let (p, l) = (median(plans), median(legacy));
    println!();
    println!(
        "no-change plan: {:.2} GiB deploy tree, {n} jars, staging mirrors it (median)",
        gib
    );
    println!("| contestant | time | update.sh ÷ this |");
    println!("| --- | --- | --- |");
    println!("| update.sh (diffs every jar) | {} | 1.0× |", ms(l));
    for ((label, _), first) in contestants.iter().zip(&firsts) {
        let label = if label.is_empty() {
            String::new()
        } else {
            format!(", {label}")
        };
        println!(
            "| runner plan, first run (hashes everything){label} | {} | {:.1}× |",
            ms(*first),
            l.as_secs_f64() / first.as_secs_f64()
        );
    }
    println!(
        "| runner plan, warm hash cache | {} | {:.0}× |",
        ms(p),
        l.as_secs_f64() / p.as_secs_f64()
    );
}
