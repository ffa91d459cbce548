//! The commands, one file each under `cmd/`, each a `run(globals, args) -> Result<ExitCode>`.
//! This file dispatches the parsed command line to them and holds what several share: loading
//! the config and plugins, choosing apps, and running a step for each app.

pub mod agent;
pub mod common;
pub mod config;
pub mod fleet;
pub mod history;
pub mod init;
pub mod parallel;
pub mod plan;
pub mod plugin;
pub mod plugin_new;
pub mod release;
pub mod restart;
pub mod rollback;
pub mod status;
pub mod sync;
pub mod watch;

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{Cli, Command, ConfigCommand, FleetCommand, PluginCommand, ReleaseFlags};
use crate::config::{App, Config};
use crate::error::{Error, ExitCode, Result};
use crate::outcome::Report;
use crate::plugin::PluginHost;
use crate::release::{Ctx, Options};
use crate::report::{self, Event, Ui};
use crate::sync::Guard;

/// What every command gets: where the config is (if given) and how to print.
pub struct Globals {
    pub config: Option<PathBuf>,
    pub ui: Ui,
}

impl Globals {
    /// The config file and its validated contents.
    pub fn load(&self) -> Result<(PathBuf, Config)> {
        let path = crate::config::locate(self.config.as_deref())?;
        let cfg = crate::config::load(&path)?;
        crate::sync::share_connections(&cfg.state_dir);
        crate::sync::local_config(&path);
        Ok((path, cfg))
    }

    /// The config and its plugins, loaded and their first instances being made: what the
    /// commands that run hooks work with.
    pub fn load_with_plugins(&self) -> Result<Loaded> {
        let (_, cfg) = self.load()?;
        let plugins = if cfg.plugins.is_empty() {
            None
        } else {
            // A fleet release calls the central hooks from one thread per host in flight.
            let has_fleet = cfg.apps.values().any(|a| !a.hosts.is_empty());
            let concurrent = if has_fleet { crate::fleet::PARALLEL } else { 1 };
            let host = PluginHost::load(&cfg, concurrent)?;
            host.prepare_all();
            Some(host)
        };
        Ok(Loaded { cfg, plugins })
    }
}

/// A config with its plugins.
pub struct Loaded {
    pub cfg: Config,
    pub plugins: Option<PluginHost>,
}

impl Loaded {
    pub fn ctx(&self, ui: Ui) -> Ctx<'_> {
        Ctx {
            cfg: &self.cfg,
            ui,
            plugins: self.plugins.as_ref(),
        }
    }
}

/// Runs one command; the returned code is the process exit code.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let events = match &cli.command {
        Command::Release { flags, .. }
        | Command::Common { flags, .. }
        | Command::Restart { flags, .. }
        | Command::Rollback { flags, .. } => flags.events,
        _ => false,
    };
    let g = Globals {
        config: cli.config,
        ui: Ui {
            json: cli.json,
            quiet: cli.quiet,
            verbose: cli.verbose > 0,
            events,
        },
    };
    match cli.command {
        Command::Plan { apps, entries } => plan::run(&g, &apps, entries),
        Command::Release {
            apps,
            all,
            flags,
            entries,
            fleet,
            jobs,
        } => release::run(&g, &apps, all, flags, entries, &fleet, jobs.into()),
        Command::Common { apps, flags } => common::run(&g, &apps, flags),
        Command::Restart {
            apps,
            flags,
            fleet,
            jobs,
        } => restart::run(&g, &apps, flags, &fleet, jobs.into()),
        Command::Rollback { app, to, flags } => rollback::run(&g, &app, to.as_deref(), flags),
        Command::History { app, limit } => history::run(&g, app.as_deref(), limit as usize),
        Command::Status { apps, sync, local } => status::run(&g, &apps, sync, local),
        Command::Sync {
            targets,
            jobs,
            allow_delete_all,
        } => sync::run(&g, &targets, jobs.into(), Guard::from(allow_delete_all)),
        Command::Watch {
            settle,
            reconcile_every,
            allow_delete_all,
            ..
        } => watch::run(&g, settle, reconcile_every, Guard::from(allow_delete_all)),
        Command::Agent { root, app, mux, .. } => Ok(agent::run(&g, root, app, mux)),
        Command::Plugin {
            command: PluginCommand::List,
        } => plugin::list(&g),
        Command::Plugin {
            command: PluginCommand::Check { wasm },
        } => plugin::check(&g, &wasm),
        Command::Plugin {
            command: PluginCommand::Wit { wit_version, out },
        } => plugin::wit(&g, wit_version.as_deref(), &out),
        Command::Plugin {
            command:
                PluginCommand::New {
                    name,
                    language,
                    hooks,
                    wit_version,
                    dir,
                },
        } => plugin_new::new(
            &g,
            &plugin_new::NewArgs {
                name: &name,
                lang: language,
                hooks: &if hooks.is_empty() {
                    vec!["release-start".to_string(), "release-end".to_string()]
                } else {
                    hooks
                },
                wit: wit_version.as_deref(),
                dir: &dir,
            },
        ),
        Command::Plugin {
            command: PluginCommand::Call(c),
        } => plugin::call(
            &g,
            &plugin::CallArgs {
                wasm: &c.wasm,
                hook: &c.hook,
                app: &c.app,
                set: &c.set,
                event: c.event.as_deref(),
                allow: crate::config::Allow {
                    exec: c.allow_exec.clone(),
                    dirs: c.allow_dir.iter().map(crate::fsutil::absolute).collect(),
                    rw: c.allow_rw.iter().map(crate::fsutil::absolute).collect(),
                    http: c.allow_http.clone(),
                },
                timeout: c.timeout,
                memory: &c.memory,
            },
        ),
        Command::Config {
            command: ConfigCommand::Check,
        } => config::check(&g),
        Command::Fleet {
            command: FleetCommand::Restore { app, host },
        } => fleet::restore(&g, &app, &host),
        Command::Init {
            out,
            deploy_root,
            staging,
            backup_root,
            state_dir,
            from_script,
            force,
        } => init::run(
            &g,
            &init::InitArgs {
                out,
                deploy_root,
                staging,
                backup_root,
                state_dir,
                scripts: from_script,
                force,
            },
        ),
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map_err(|e| Error::Internal(crate::t!("cmd-man-page", error = e.to_string())))?;
            Ok(ExitCode::DONE)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "runner", &mut std::io::stdout());
            Ok(ExitCode::DONE)
        }
    }
}

/// The flags of `release`, `common` and `rollback` as the release sees them.
pub(crate) fn options(flags: ReleaseFlags, entries: bool) -> Options {
    Options {
        dry_run: flags.dry_run,
        no_restart: flags.no_restart,
        no_rollback: flags.no_rollback,
        confirm: !flags.yes && std::io::stdin().is_terminal(),
        entries,
    }
}

/// Runs `f` for each app, going on after a failed app; exit 1 if any failed.
pub(crate) fn each(
    ctx: &Ctx,
    apps: &[&App],
    flags: ReleaseFlags,
    mut f: impl FnMut(&App) -> Result<Report>,
) -> Result<ExitCode> {
    for app in apps {
        if !app.hosts.is_empty() && !flags.local {
            return Err(Error::Usage(crate::t!(
                "cmd-lists-hosts",
                app = &app.name,
                hosts = crate::address::names(&app.hosts).join(", ")
            )));
        }
    }
    let mut reports = Vec::new();
    let mut first_err = None;
    // (app, outcome, release, error) for the summary of several apps.
    let mut rows = Vec::new();
    for app in apps {
        // A stop asked for by a signal starts no further app.
        if crate::interrupt::received().is_some() {
            break;
        }
        match f(app) {
            Ok(r) => {
                ctx.ui.event(&Event::Report { report: r.clone() });
                rows.push((
                    r.app.clone(),
                    r.outcome.label(),
                    r.id.clone().unwrap_or_default(),
                    r.error
                        .as_deref()
                        .map(report::first_line)
                        .unwrap_or_default()
                        .to_string(),
                ));
                reports.push(r)
            }
            Err(e) => {
                // An --events line is read by a program (a fleet release): English.
                ctx.ui.event(&Event::Error {
                    message: crate::i18n::english(|| e.to_string()),
                    code: e.exit_code().0,
                });
                if apps.len() == 1 {
                    return Err(e);
                }
                report::print_error(&e);
                rows.push((
                    app.name.clone(),
                    crate::t!("cmd-not-started"),
                    String::new(),
                    report::first_line(&e.to_string()).to_string(),
                ));
                first_err.get_or_insert(e.exit_code());
            }
        }
    }
    if ctx.ui.json && !ctx.ui.events {
        report::print_json("reports", &reports);
    } else if rows.len() > 1 && !ctx.ui.quiet && !ctx.ui.events {
        report::apps_table(&rows);
    }
    if let Some(sig) = crate::interrupt::received() {
        return Ok(crate::interrupt::code(sig));
    }
    let failed = reports.iter().any(|r| r.failed());
    Ok(first_err.unwrap_or(ExitCode::failed_if(failed)))
}

/// The apps with something staged. Named apps (`all` false) must have their staging dir: a
/// missing one is an error naming it. Of all apps, those without one are said to have
/// nothing staged and left out.
pub(crate) fn staged(ui: Ui, apps: Vec<&App>, all: bool) -> Result<Vec<&App>> {
    let mut out = Vec::new();
    for app in apps {
        match crate::preflight::staging_dir(app) {
            Ok(()) => out.push(app),
            Err(Error::MissingDir { path, .. }) if all => ui.line(format!(
                "{}  {}",
                console::style(&app.name).bold(),
                crate::t!("cmd-nothing-staged", path = &path)
            )),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The named apps, or every app with `all`.
pub(crate) fn select<'c>(cfg: &'c Config, names: &[String], all: bool) -> Result<Vec<&'c App>> {
    if all {
        return Ok(cfg.apps.values().collect());
    }
    names.iter().map(|n| cfg.app(n)).collect()
}
