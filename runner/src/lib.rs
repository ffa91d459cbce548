//! `runner` releases Java services that ship as jar files onto plain Linux hosts.
//!
//! # Layout
//! In the order data flows:
//! - [`cli`]: command-line arguments; [`config`]: `runner.toml` → a validated [`config::Config`].
//! - [`watch`] → [`sync`] → [`agent`]: settled staging files pushed to targets; the agent is the far end.
//! - [`inventory`]: walking trees and hashing files with a persistent cache; [`jar`]: zip checks and entry diffs.
//! - [`plan`]: staged vs deployed → added / modified / removed / unchanged.
//! - [`lock`] → [`journal`] → [`backup`] → [`install`] → [`restart`] → [`verify`]: one step each.
//! - [`release`]: the release top to bottom with its hook points, and rollback beside it.
//! - [`fleet`]: on the central box, a release rolled over an app's hosts, each through an
//!   [`agent`] session (sync, then the host's own [`release`]) in batches.
//! - [`plugin`] beside it all: the WASM plugin host the hook points call.
//! - [`history`]: release records; [`report`]: tables, progress, summaries; [`error`]: errors and exit codes.
//! - [`fault`]: crash injection for tests.

pub mod agent;
pub mod backup;
pub mod cli;
pub mod config;
pub mod error;
pub mod fault;
pub mod fleet;
pub mod history;
pub mod install;
pub mod inventory;
pub mod jar;
pub mod journal;
pub mod lock;
pub mod plan;
pub mod plugin;
pub mod release;
pub mod report;
pub mod restart;
pub mod sync;
pub mod verify;
pub mod watch;

use std::io::IsTerminal;

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};

use crate::cli::{Cli, Command, ConfigCommand, PluginCommand, ReleaseFlags};
use crate::config::{App, Config};
use crate::error::{Error, Result};
use crate::plan::PlanOptions;
use crate::release::{Ctx, Options, Report};
use crate::report::Ui;

/// Runs one command; the returned code is the process exit code.
pub fn run(cli: Cli) -> Result<u8> {
    let events = match &cli.command {
        Command::Release { flags, .. }
        | Command::Common { flags, .. }
        | Command::Rollback { flags, .. } => flags.events,
        _ => false,
    };
    let ui = Ui {
        json: cli.json,
        quiet: cli.quiet,
        verbose: cli.verbose > 0,
        events,
    };
    if let Command::Agent { root, app, .. } = &cli.command {
        let served = match (root, app) {
            (Some(root), _) => Ok((root.clone(), None)),
            (None, Some(app)) => {
                // A fleet host: the root is the app's staging dir in this host's config.
                config::locate(cli.config.as_deref())
                    .and_then(|path| Ok((config::load(&path)?, path)))
                    .and_then(|(cfg, path)| {
                        let a = cfg.app(app)?;
                        Ok((
                            a.staging.clone(),
                            Some(agent::AppAgent {
                                app: app.clone(),
                                config: std::path::absolute(&path).unwrap_or(path),
                            }),
                        ))
                    })
            }
            (None, None) => Err(Error::Usage("agent needs --root or --app".into())),
        };
        let (root, app) = match served {
            Ok(s) => s,
            Err(e) => {
                // Tell the client in the protocol, so it can show why.
                let mut out = std::io::stdout().lock();
                let _ = agent::protocol::write_msg(
                    &mut out,
                    &agent::protocol::Msg::Error {
                        message: e.to_string(),
                    },
                );
                let _ = std::io::Write::flush(&mut out);
                eprintln!("runner agent: {e}");
                return Ok(e.exit_code());
            }
        };
        let stdin = std::io::stdin().lock();
        let stdout = std::io::stdout().lock();
        return match agent::serve(&root, stdin, stdout, app.as_ref()) {
            Ok(()) => Ok(0),
            Err(e) => {
                eprintln!("runner agent: {e}");
                Ok(error::EXIT_FAILED)
            }
        };
    }
    if let Command::Plugin {
        command: PluginCommand::Check { wasm },
    } = &cli.command
    {
        return plugin_check(cli.config.as_deref(), wasm, ui);
    }
    let path = config::locate(cli.config.as_deref())?;
    let cfg = config::load(&path)?;
    let needs_plugins = matches!(
        cli.command,
        Command::Release { .. }
            | Command::Common { .. }
            | Command::Rollback { .. }
            | Command::Sync { .. }
            | Command::Watch { .. }
    );
    let plugins = if needs_plugins && !cfg.plugins.is_empty() {
        // A fleet release calls the central hooks from one thread per host in flight.
        let has_fleet = cfg.apps.values().any(|a| !a.hosts.is_empty());
        let host = plugin::PluginHost::load(&cfg, if has_fleet { fleet::PARALLEL } else { 1 })?;
        host.prepare_all();
        Some(host)
    } else {
        None
    };
    let ctx = Ctx {
        cfg: &cfg,
        ui,
        plugins: plugins.as_ref(),
    };
    // `before-sync`/`after-sync` around each batch of `runner sync` and `runner watch`.
    let hook =
        |name: &str, app: &str, target: &str, changes: &[plan::Change], error: Option<&str>| {
            sync_hook(plugins.as_ref(), ui, name, app, target, changes, error)
        };
    match cli.command {
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            if ui.json {
                print_json(&cfg);
            } else {
                let text = toml::to_string_pretty(&cfg).unwrap_or_default();
                println!("# {} is valid; resolved view:\n{text}", path.display());
            }
            Ok(0)
        }
        Command::Plan { apps, entries } => {
            let apps = select(&cfg, &apps, apps.is_empty())?;
            let mut plans = Vec::new();
            for app in apps {
                if let Some(j) = journal::load(&cfg.state_dir, &app.name)? {
                    ui.warn(
                        Error::Interrupted {
                            app: app.name.clone(),
                            release: j.id,
                        }
                        .to_string(),
                    );
                }
                let p = plan::plan_release(&cfg, app, PlanOptions { entries })?;
                ui.plan(&p);
                plans.push(p);
            }
            if ui.json {
                print_json(&plans);
            }
            Ok(if plans.iter().any(|p| !p.problems.is_empty()) {
                1
            } else {
                0
            })
        }
        Command::Release {
            apps,
            all,
            flags,
            entries,
            fleet,
        } => {
            let apps = if apps.is_empty() && !all {
                pick(&cfg, ui)?
            } else {
                select(&cfg, &apps, all)?
            };
            let opts = options(flags, entries);
            // Apps with `hosts` roll over them from here (unless --local: on a host itself).
            let (remote, local): (Vec<&App>, Vec<&App>) = apps
                .iter()
                .partition(|a| !a.hosts.is_empty() && !flags.local);
            let mut code = 0;
            if !local.is_empty() {
                code = each(&ctx, &local, flags, |app| release::release(&ctx, app, opts))?;
            }
            for app in remote {
                let r = fleet::release(&ctx, app, &fleet, opts)?;
                if ui.json {
                    println!("{}", serde_json::json!({"event": "fleet", "report": r}));
                } else if !ui.quiet {
                    fleet::print_table(&r);
                }
                if r.failed() {
                    code = code.max(error::EXIT_FAILED);
                }
            }
            Ok(code)
        }
        Command::Common { apps, flags } => {
            let chosen = select(&cfg, &apps, apps.is_empty())?;
            let opts = options(flags, false);
            each(&ctx, &chosen, flags, |app| release::common(&ctx, app, opts))
        }
        Command::Rollback { app, to, flags } => {
            let app = cfg.app(&app)?;
            let opts = options(flags, false);
            each(&ctx, &[app], flags, |app| {
                release::rollback(&ctx, app, to.as_deref(), opts)
            })
        }
        Command::Sync { targets, jobs } => sync_command(&cfg, &targets, jobs.into(), ui, &hook),
        Command::Watch {
            settle,
            reconcile_every,
            ..
        } => {
            let control = std::sync::Arc::new(watch::Control::default());
            // SIGTERM/SIGINT stop the service; SIGHUP reconciles every target now.
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
                .map_err(|e| Error::Usage(format!("cannot handle signals: {e}")))?;
            let c = control.clone();
            std::thread::spawn(move || {
                for sig in signals.forever() {
                    if sig == SIGHUP {
                        c.reconcile_now();
                    } else {
                        c.stop();
                    }
                }
            });
            let opts = watch::WatchOptions {
                settle,
                reconcile_every,
                ..watch::WatchOptions::default()
            };
            // An auto release is `runner release <app> --yes` without a terminal, on this host.
            let ropts = Options {
                dry_run: false,
                no_restart: false,
                no_rollback: false,
                confirm: false,
                entries: false,
            };
            let release = |app: &App| release::release(&ctx, app, ropts);
            watch::run(&cfg, opts, control, Some(&hook), &release)?;
            Ok(0)
        }
        Command::Agent { .. } => unreachable!("handled before the config is loaded"),
        Command::Plugin {
            command: PluginCommand::List,
        } => plugin_list(&cfg, ui),
        Command::Plugin {
            command: PluginCommand::Check { .. },
        } => unreachable!("handled before the config is loaded"),
        Command::History { app, limit } => {
            if let Some(a) = &app {
                cfg.app(a)?;
            }
            let records = history::load(&cfg.state_dir, app.as_deref())?;
            let shown = &records[records.len().saturating_sub(limit)..];
            if ui.json {
                print_json(&shown);
            } else {
                print_history(shown);
            }
            Ok(0)
        }
    }
}

/// A sync hook call: `app` is the source dir's name, `host` the target URL.
fn sync_hook(
    plugins: Option<&plugin::PluginHost>,
    ui: Ui,
    name: &str,
    app: &str,
    target: &str,
    changes: &[plan::Change],
    error: Option<&str>,
) -> Option<String> {
    let plugins = plugins?;
    let ev = plugin::HookEvent {
        hook: name,
        release_id: "",
        app,
        host: target,
        changes,
        dry_run: false,
        error,
        outcome: None,
    };
    match plugins.call(&ev, &ui) {
        plugin::Verdict::Abort { reason, .. } => Some(reason),
        _ => None,
    }
}

fn sync_command(
    cfg: &Config,
    names: &[String],
    jobs: usize,
    ui: Ui,
    hook: sync::Hook,
) -> Result<u8> {
    let rows: Vec<&config::SyncTarget> = cfg
        .sync
        .iter()
        .filter(|r| {
            names.is_empty()
                || names
                    .iter()
                    .any(|n| *n == r.target || std::path::Path::new(n) == r.source)
        })
        .collect();
    if rows.is_empty() {
        return Err(Error::Usage(if names.is_empty() {
            "no [[sync]] targets configured".into()
        } else {
            format!("no [[sync]] target matches {}", names.join(", "))
        }));
    }
    // Targets are independent (one agent session each): sync them `jobs` at a time, report
    // them in config order.
    let started = std::time::Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<sync::SyncReport>>>> =
        rows.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.min(rows.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(row) = rows.get(i) else { break };
                    let r = sync::run(cfg, row, Some(hook));
                    *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                }
            });
        }
    });
    let mut reports = Vec::new();
    let mut failed = 0;
    for (row, r) in rows.iter().zip(results) {
        match r.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(Ok(r)) => {
                for (path, why) in &r.skipped {
                    ui.warn(format!("{}: not pushed: {path}: {why}", row.target));
                }
                reports.push(r);
            }
            Some(Err(e)) => {
                eprintln!("{} {e}", console::style("runner:").red().bold());
                failed += 1;
            }
            None => unreachable!("every row is synced"),
        }
    }
    if ui.json {
        print_json(&reports);
    } else if !ui.quiet {
        let mut t = Table::new();
        t.load_style(UTF8_BORDERS_ONLY);
        t.set_header(vec![
            "source",
            "target",
            "sent",
            "bytes",
            "deleted",
            "unchanged",
            "skipped",
            "time",
        ]);
        for r in &reports {
            t.add_row(vec![
                r.source.display().to_string(),
                r.target.clone(),
                r.sent.to_string(),
                report::size(r.bytes),
                r.deleted.to_string(),
                r.unchanged.to_string(),
                r.skipped.len().to_string(),
                report::secs(std::time::Duration::from_millis(r.ms)),
            ]);
        }
        if reports.len() > 1 {
            let sum = |f: fn(&sync::SyncReport) -> u64| reports.iter().map(f).sum::<u64>();
            t.add_row(vec![
                format!("{} targets", reports.len()),
                String::new(),
                sum(|r| r.sent as u64).to_string(),
                report::size(sum(|r| r.bytes)),
                sum(|r| r.deleted as u64).to_string(),
                sum(|r| r.unchanged as u64).to_string(),
                sum(|r| r.skipped.len() as u64).to_string(),
                report::secs(started.elapsed()),
            ]);
        }
        println!("{t}");
    }
    Ok(if failed > 0 { error::EXIT_FAILED } else { 0 })
}

/// What a plugin declares it needs but the operator has not granted.
fn missing_grants(p: &plugin::Loaded) -> Vec<String> {
    let a = &p.spec.allow;
    let mut out = Vec::new();
    for e in &p.info.needs.exec {
        if !a.exec.contains(e) {
            out.push(format!("exec {e}"));
        }
    }
    for d in &p.info.needs.dirs {
        let d = std::path::Path::new(d);
        if !a.dirs.iter().chain(&a.rw).any(|g| g == d) {
            out.push(format!("dir {}", d.display()));
        }
    }
    for h in &p.info.needs.http {
        if !a.http.contains(h) {
            out.push(format!("http {h}"));
        }
    }
    out
}

fn plugin_list(cfg: &Config, ui: Ui) -> Result<u8> {
    let host = plugin::PluginHost::load(cfg, 1)?;
    let rows: Vec<serde_json::Value> = host
        .plugins
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.spec.name,
                "wasm": p.spec.wasm,
                "sha256": p.sha256,
                "version": p.info.version,
                "wit": format!("runner:plugin@{}", p.wit),
                "hooks": p.hooks,
                "on_error": p.spec.on_error,
                "timeout": humantime::format_duration(p.spec.timeout).to_string(),
                "memory": p.spec.memory,
                "allow": p.spec.allow,
                "needs": {
                    "exec": p.info.needs.exec,
                    "dirs": p.info.needs.dirs,
                    "http": p.info.needs.http,
                },
                "not_granted": missing_grants(p),
            })
        })
        .collect();
    if ui.json {
        print_json(&rows);
        return Ok(0);
    }
    if host.plugins.is_empty() {
        println!("no plugins configured");
        return Ok(0);
    }
    let mut t = Table::new();
    t.load_style(UTF8_BORDERS_ONLY);
    t.set_header(vec![
        "plugin",
        "version",
        "hooks",
        "granted",
        "needs, not granted",
    ]);
    for p in &host.plugins {
        let a = &p.spec.allow;
        let mut granted = Vec::new();
        granted.extend(a.exec.iter().map(|e| format!("exec {e}")));
        granted.extend(a.dirs.iter().map(|d| format!("dir {} (ro)", d.display())));
        granted.extend(a.rw.iter().map(|d| format!("dir {} (rw)", d.display())));
        granted.extend(a.http.iter().map(|h| format!("http {h}")));
        let missing = missing_grants(p);
        t.add_row(vec![
            comfy_table::Cell::new(format!(
                "{}\n{}\non_error = {}",
                p.spec.name,
                p.spec.wasm.display(),
                p.spec.on_error
            )),
            comfy_table::Cell::new(format!("{}\nWIT {}", p.info.version, p.wit)),
            comfy_table::Cell::new(p.hooks.join("\n")),
            comfy_table::Cell::new(if granted.is_empty() {
                "nothing".to_string()
            } else {
                granted.join("\n")
            }),
            if missing.is_empty() {
                comfy_table::Cell::new("—")
            } else {
                comfy_table::Cell::new(missing.join("\n")).fg(comfy_table::Color::Red)
            },
        ]);
    }
    println!("{t}");
    Ok(0)
}

fn plugin_check(config: Option<&std::path::Path>, wasm: &std::path::Path, ui: Ui) -> Result<u8> {
    // The compile cache of the configured state dir is used when there is a config.
    let state_dir = config::locate(config)
        .and_then(|p| config::load(&p))
        .map(|c| c.state_dir)
        .unwrap_or_else(|_| std::env::temp_dir().join("runner-plugin-check"));
    let host = plugin::PluginHost::empty(&state_dir)?;
    let spec = config::Plugin {
        name: wasm
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plugin".into()),
        wasm: wasm.to_path_buf(),
        hooks: Vec::new(),
        on_error: "abort".into(),
        timeout: std::time::Duration::from_secs(10),
        memory: 64 << 20,
        allow: config::Allow::default(),
        config: Default::default(),
    };
    let t = std::time::Instant::now();
    let p = host.load_one(spec)?;
    let took = t.elapsed();
    let report = serde_json::json!({
        "wasm": wasm,
        "sha256": p.sha256,
        "name": p.info.name,
        "version": p.info.version,
        "wit": format!("runner:plugin@{}", p.wit),
        "hooks": p.info.hooks,
        "needs": { "exec": p.info.needs.exec, "dirs": p.info.needs.dirs, "http": p.info.needs.http },
        "load_ms": took.as_secs_f64() * 1000.0,
        "compiled_from_cache": p.cached,
    });
    if ui.json {
        print_json(&report);
    } else {
        let list = |v: &[String]| {
            if v.is_empty() {
                "—".to_string()
            } else {
                v.join(", ")
            }
        };
        println!(
            "{} {} {} {}: built against runner:plugin@{}",
            console::style("ok").green().bold(),
            wasm.display(),
            p.info.name,
            p.info.version,
            p.wit
        );
        println!("  hooks: {}", list(&p.info.hooks));
        println!(
            "  needs: exec {}; dirs {}; http {}",
            list(&p.info.needs.exec),
            list(&p.info.needs.dirs),
            list(&p.info.needs.http)
        );
        println!(
            "  loaded in {} ({})",
            report::secs(took),
            if p.cached {
                "compiled form from the cache"
            } else {
                "compiled now, cached for next time"
            }
        );
    }
    Ok(0)
}

fn options(flags: ReleaseFlags, entries: bool) -> Options {
    Options {
        dry_run: flags.dry_run,
        no_restart: flags.no_restart,
        no_rollback: flags.no_rollback,
        confirm: !flags.yes && std::io::stdin().is_terminal(),
        entries,
    }
}

/// Runs `f` for each app, going on after a failed app; exit 1 if any failed.
fn each(
    ctx: &Ctx,
    apps: &[&App],
    flags: ReleaseFlags,
    mut f: impl FnMut(&App) -> Result<Report>,
) -> Result<u8> {
    for app in apps {
        if !app.hosts.is_empty() && !flags.local {
            return Err(Error::Usage(format!(
                "{} lists hosts ({}): run this with --local on each host (only `runner release` rolls over the hosts from here)",
                app.name,
                app.hosts.join(", ")
            )));
        }
    }
    let mut reports = Vec::new();
    let mut first_err = None;
    for app in apps {
        match f(app) {
            Ok(r) => {
                ctx.ui
                    .event(&serde_json::json!({"event": "report", "report": &r}));
                reports.push(r)
            }
            Err(e) => {
                ctx.ui.event(&serde_json::json!({"event": "error",
                    "message": e.to_string(), "code": e.exit_code()}));
                if apps.len() == 1 {
                    return Err(e);
                }
                eprintln!("runner: {e}");
                first_err.get_or_insert(e.exit_code());
            }
        }
    }
    if ctx.ui.json && !ctx.ui.events {
        print_json(&reports);
    }
    let failed = reports.iter().filter(|r| r.failed()).count();
    Ok(match (first_err, failed) {
        (Some(code), _) => code,
        (None, 0) => 0,
        _ => error::EXIT_FAILED,
    })
}

fn select<'c>(cfg: &'c Config, names: &[String], all: bool) -> Result<Vec<&'c App>> {
    if all {
        return Ok(cfg.apps.values().collect());
    }
    names.iter().map(|n| cfg.app(n)).collect()
}

/// The old scripts asked which apps to release; in a terminal, so does runner.
fn pick(cfg: &Config, ui: Ui) -> Result<Vec<&App>> {
    if !std::io::stdin().is_terminal() || ui.json {
        return Err(Error::Usage(
            "name the apps to release, or pass --all".into(),
        ));
    }
    let mut pending = Vec::new();
    for app in cfg.apps.values() {
        let p = plan::plan_release(cfg, app, PlanOptions::default())?;
        let n = p.pending().len();
        if n > 0 {
            pending.push((app, format!("{} ({n} changed files)", app.name)));
        }
    }
    if pending.is_empty() {
        ui.line("nothing staged: every app matches its staging dir");
        return Ok(Vec::new());
    }
    let labels: Vec<&str> = pending.iter().map(|(_, l)| l.as_str()).collect();
    let chosen = dialoguer::MultiSelect::new()
        .with_prompt("apps to release (space to select, enter to go)")
        .items(&labels)
        .interact()
        .map_err(|e| Error::Usage(format!("prompt: {e}")))?;
    Ok(chosen.into_iter().map(|i| pending[i].0).collect())
}

fn print_json<T: serde::Serialize + ?Sized>(v: &T) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn print_history(records: &[history::Record]) {
    if records.is_empty() {
        println!("no releases yet");
        return;
    }
    let mut t = Table::new();
    t.load_style(UTF8_BORDERS_ONLY);
    t.set_header(vec![
        "id", "time", "user", "kind", "files", "outcome", "duration",
    ]);
    for r in records {
        let time = r
            .started
            .parse::<jiff::Timestamp>()
            .map(|ts| {
                ts.to_zoned_datetime(jiff::tz::TimeZone::system())
                    .strftime("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_else(|_| r.started.clone());
        let kind = match r.kind {
            journal::Kind::Release => "release".to_string(),
            journal::Kind::Common => "common".to_string(),
            journal::Kind::Rollback => {
                format!("rollback of {}", r.reverts.as_deref().unwrap_or("?"))
            }
        };
        let outcome = r.outcome.name();
        t.add_row(vec![
            r.id.clone(),
            time,
            r.user.clone(),
            kind,
            r.files.len().to_string(),
            if r.resumed {
                format!("{outcome} (resumed)")
            } else {
                outcome.to_string()
            },
            report::secs(std::time::Duration::from_millis(r.duration_ms)),
        ]);
    }
    println!("{t}");
}

/// The user behind this run, for locks and history.
pub fn user() -> String {
    for v in ["SUDO_USER", "USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(v)
            && !u.is_empty()
        {
            return u;
        }
    }
    let uid = rustix::process::getuid().as_raw();
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}

/// This machine's name, for history and hook events (read once per process).
pub fn hostname() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "local".into())
    })
    .clone()
}
