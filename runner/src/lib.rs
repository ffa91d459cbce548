//! `runner` releases Java services that ship as jar files onto plain Linux hosts.
//!
//! # Layout
//! In the order data flows:
//! - [`cli`]: command-line arguments; [`config`]: `runner.toml` → a validated [`config::Config`].
//! - [`inventory`]: walking trees and hashing files with a persistent cache; [`jar`]: zip checks and entry diffs.
//! - [`plan`]: staged vs deployed → added / modified / removed / unchanged.
//! - [`lock`] → [`journal`] → [`backup`] → [`install`] → [`restart`] → [`verify`]: one step each.
//! - [`release`]: the release top to bottom with its hook points, and rollback beside it.
//! - [`history`]: release records; [`report`]: tables, progress, summaries; [`error`]: errors and exit codes.
//! - [`fault`]: crash injection for tests.

pub mod backup;
pub mod cli;
pub mod config;
pub mod error;
pub mod fault;
pub mod history;
pub mod install;
pub mod inventory;
pub mod jar;
pub mod journal;
pub mod lock;
pub mod plan;
pub mod release;
pub mod report;
pub mod restart;
pub mod verify;

use std::io::IsTerminal;

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};

use crate::cli::{Cli, Command, ConfigCommand, ReleaseFlags};
use crate::config::{App, Config};
use crate::error::{Error, Result};
use crate::plan::PlanOptions;
use crate::release::{Ctx, Options, Report};
use crate::report::Ui;

/// Runs one command; the returned code is the process exit code.
pub fn run(cli: Cli) -> Result<u8> {
    let ui = Ui {
        json: cli.json,
        quiet: cli.quiet,
        verbose: cli.verbose > 0,
    };
    let path = config::locate(cli.config.as_deref())?;
    let cfg = config::load(&path)?;
    let ctx = Ctx { cfg: &cfg, ui };
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
        } => {
            let apps = if apps.is_empty() && !all {
                pick(&cfg, ui)?
            } else {
                select(&cfg, &apps, all)?
            };
            let opts = options(flags, entries);
            each(&ctx, &apps, flags, |app| release::release(&ctx, app, opts))
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
                "{} lists hosts ({}); fleet releases over ssh are not built yet — run with --local on each host",
                app.name,
                app.hosts.join(", ")
            )));
        }
    }
    let mut reports = Vec::new();
    let mut first_err = None;
    for app in apps {
        match f(app) {
            Ok(r) => reports.push(r),
            Err(e) if apps.len() == 1 => return Err(e),
            Err(e) => {
                eprintln!("runner: {e}");
                first_err.get_or_insert(e.exit_code());
            }
        }
    }
    if ctx.ui.json {
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
        let outcome = serde_json::to_value(r.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        t.add_row(vec![
            r.id.clone(),
            time,
            r.user.clone(),
            kind,
            r.files.len().to_string(),
            if r.resumed {
                format!("{outcome} (resumed)")
            } else {
                outcome
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

/// This machine's name, for history.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "local".into())
}
