//! `cargo bench --bench plugins`: what a plugin costs a release, per language.
//!
//! For the Rust (`hostile` in proceed mode, `nginx-drain`'s size class), Python (`audit-log-py`,
//! appending a line to its audit file each call, fsync included) and JS (`freeze-gate-js`, built
//! with each of jco's engines) components: the first-ever compile, a load from the compiled cache
//! (as a new process would; median of five), and the latency of a hook call on a fresh instance with an event of
//! 100 file changes (p50, p99; `BENCH_CHANGES`, `BENCH_CALLS`). runner makes each plugin's next
//! instance on its prep thread while a call runs: "in a release" times calls whose instance is
//! ready (the bench waits for it between calls, untimed, as a release's step would); "back to
//! back" times calls issued one right after another, so a call may wait for its instance; "made
//! at the call" makes every instance at its call. Then the overshoot of a 100 ms timeout on a
//! busy-looping plugin, and whether a second load compiles.
//! The plugins are built first if missing (cargo for Rust, `plugins/*/build.sh` for Python/JS).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use runner::config::{Allow, Plugin};
use runner::hook::Hook;
use runner::plan::{Action, Change};
use runner::plugin::{HookEvent, PluginHost};
use runner::report::Ui;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn sh(cmd: &mut Command) {
    let st = cmd.status().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(st.success(), "{cmd:?} failed");
}

fn build() -> Vec<(&'static str, PathBuf)> {
    let target = repo().join("target/plugins");
    sh(Command::new("cargo")
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(repo().join("plugins/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target));
    let mut v = vec![("rust", target.join("wasm32-wasip2/release/hostile.wasm"))];
    for (lang, dir, out, engine) in [
        ("python", "audit-log-py", "audit-log-py.wasm", ""),
        (
            "js-quickjs",
            "freeze-gate-js",
            "freeze-gate-js.wasm",
            "quickjs",
        ),
        (
            "js-starlingmonkey",
            "freeze-gate-js",
            "freeze-gate-js-sm.wasm",
            "starlingmonkey",
        ),
    ] {
        let wasm = target.join(out);
        if !wasm.exists() {
            sh(Command::new("bash")
                .arg(repo().join("plugins").join(dir).join("build.sh"))
                .arg(&wasm)
                .env("ENGINE", engine));
        }
        v.push((lang, wasm));
    }
    v
}

fn spec(name: &str, wasm: &Path, hook: &str, config: &[(&str, &str)]) -> Plugin {
    Plugin {
        name: name.into(),
        wasm: wasm.to_path_buf(),
        hooks: vec![hook.into()],
        on_error: runner::config::OnError::Abort,
        timeout: Duration::from_secs(10),
        memory: 256 << 20,
        allow: Allow::default(),
        config: config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn changes(n: usize) -> Vec<Change> {
    (0..n)
        .map(|i| Change {
            action: Action::Modified,
            path: format!("lib/dependency-{i:03}-1.2.3.jar"),
            source: None,
            old: None,
            new: None,
            entries: None,
            upgrade_of: None,
        })
        .collect()
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p) as usize]
}

fn us(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

/// `calls` hook calls, each timed; `ready`: each waits (untimed) for its instance first.
fn hook_calls(
    host: &PluginHost,
    hook: &str,
    events: &[Change],
    calls: usize,
    lang: &str,
    ui: &Ui,
    ready: bool,
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        if ready {
            host.wait_prepared();
        }
        let ev = HookEvent {
            hook: Hook::parse(hook).expect("a known hook"),
            release_id: "20261128T2300-pdms-beef",
            app: "pdms",
            host: "bench",
            batch: None,
            changes: events,
            dry_run: false,
            error: None,
            outcome: None,
        };
        let t = Instant::now();
        let v = host.call(&ev, ui);
        times.push(t.elapsed());
        assert!(
            matches!(v, runner::plugin::Verdict::Proceed),
            "{lang}: {v:?}"
        );
    }
    times
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let plugins = build();
    let work = repo().join("target/bench-plugins");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let ui = Ui {
        quiet: true,
        ..Ui::default()
    };
    let n_changes: usize = std::env::var("BENCH_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let events = changes(n_changes);
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);

    println!(
        "| plugin | size | first compile | load from cache | hook call in a release p50 / p99 | back to back p50 / p99 | made at the call p50 | compiles on 2nd load |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    // Once per process, not per plugin: engine, instance pool, WASI + host imports linked.
    let mut startup = Vec::new();
    for (lang, wasm) in &plugins {
        let size = std::fs::metadata(wasm).map(|m| m.len()).unwrap_or(0);
        let state = work.join(lang);
        let audit = state.join("audit");
        std::fs::create_dir_all(&audit).unwrap();
        let audit_file = audit.join("audit.jsonl").display().to_string();
        let (hook, config): (&str, Vec<(&str, &str)>) = match *lang {
            "rust" => ("before-install", vec![("mode", "proceed")]),
            // The audit log appends a line per call: its time includes that file write.
            "python" => ("after-install", vec![("file", audit_file.as_str())]),
            // The freeze gate checks every window against the clock and logs its decision.
            _ => ("before-install", vec![("windows", "[]")]),
        };
        let grant = |mut p: Plugin| {
            p.allow.rw = vec![audit.clone()];
            p
        };
        let host = PluginHost::empty(&state).unwrap();
        let t = Instant::now();
        let first = host
            .load_one(grant(spec(lang, wasm, hook, &config)))
            .unwrap();
        let compile = t.elapsed();
        assert!(!first.cached);
        drop(host);
        // A new process would build a new host and load from the cache: that path, five times
        // (the median is reported); every one of them must come from the cache.
        let mut loads = Vec::new();
        let mut recompiled = 0;
        let (mut host, mut again) = (None, None);
        for _ in 0..5 {
            let t = Instant::now();
            let h = PluginHost::empty(&state).unwrap();
            startup.push(t.elapsed());
            let t = Instant::now();
            let p = h.load_one(grant(spec(lang, wasm, hook, &config))).unwrap();
            loads.push(t.elapsed());
            recompiled += usize::from(!p.cached);
            (host, again) = (Some(h), Some(p));
        }
        let load = pct(&mut loads, 0.5);
        let (mut host, again) = (host.unwrap(), again.unwrap());
        host.plugins.push(again);
        host.prepare_all();
        let mut spaced = hook_calls(&host, hook, &events, calls, lang, &ui, true);
        let mut tight = hook_calls(&host, hook, &events, calls, lang, &ui, false);
        host.make_at_call();
        let mut at_call = hook_calls(&host, hook, &events, calls, lang, &ui, false);
        println!(
            "| {lang} ({}) | {:.1} MB | {} | {} | {} / {} | {} / {} | {} | {recompiled} |",
            wasm.file_name().unwrap().to_string_lossy(),
            size as f64 / 1e6,
            us(compile),
            us(load),
            us(pct(&mut spaced, 0.5)),
            us(pct(&mut spaced, 0.99)),
            us(pct(&mut tight, 0.5)),
            us(pct(&mut tight, 0.99)),
            us(pct(&mut at_call, 0.5)),
        );
    }

    println!();
    println!(
        "plugin host start-up (engine, instance pool, linker; once per process): p50 {}",
        us(pct(&mut startup, 0.5))
    );

    // Timeout overshoot: a busy loop under a 100 ms budget.
    let rust = &plugins[0].1;
    let mut host = PluginHost::empty(&work.join("timeout")).unwrap();
    let mut s = spec("loop", rust, "before-install", &[("mode", "loop")]);
    s.timeout = Duration::from_millis(100);
    s.on_error = runner::config::OnError::Warn;
    let p = host.load_one(s).unwrap();
    host.plugins.push(p);
    let mut over = Vec::new();
    for i in 0..20 {
        let id = format!("t{i}");
        let ev = HookEvent {
            hook: Hook::BeforeInstall,
            release_id: &id,
            app: "pdms",
            host: "bench",
            batch: None,
            changes: &[],
            dry_run: false,
            error: None,
            outcome: None,
        };
        let t = Instant::now();
        let _ = host.call(&ev, &ui);
        over.push(t.elapsed().saturating_sub(Duration::from_millis(100)));
    }
    println!();
    println!(
        "timeout overshoot of a busy loop with timeout = 100ms: p50 {}, max {} (20 runs)",
        us(pct(&mut over, 0.5)),
        us(*over.iter().max().unwrap())
    );
}
