//! `runner release <app>…`: each app released on this host, or rolled over its hosts from here.

use std::io::IsTerminal;

use crate::agent::protocol::RunKind;
use crate::cli::{FleetFlags, ReleaseFlags};
use crate::config::{App, Config};
use crate::error::{Error, ExitCode, Result};
use crate::fleet;
use crate::outcome::{HostOutcome, Outcome};
use crate::plan::{self, PlanOptions};
use crate::release;
use crate::report::{self, Event, Ui};

use super::Globals;

pub fn run(
    g: &Globals,
    names: &[String],
    all: bool,
    flags: ReleaseFlags,
    entries: bool,
    fleet_flags: &FleetFlags,
    jobs: usize,
) -> Result<ExitCode> {
    let loaded = g.load_with_plugins()?;
    let ctx = loaded.ctx(g.ui);
    let cfg = &loaded.cfg;
    let apps = if names.is_empty() && !all {
        pick(cfg, g.ui)?
    } else {
        super::staged(g.ui, super::select(cfg, names, all)?, all)?
    };
    let opts = super::options(flags, entries);
    carry_out(
        g,
        &ctx,
        &apps,
        Work {
            task: RunKind::Release,
            flags,
            opts,
            fleet: fleet_flags,
            jobs,
        },
    )
}

/// What to do to the apps, and how.
pub(super) struct Work<'a> {
    pub task: RunKind,
    pub flags: ReleaseFlags,
    pub opts: release::Options,
    pub fleet: &'a FleetFlags,
    /// Local apps at once (`-j`).
    pub jobs: usize,
}

/// Releases (or restarts) `apps`: those with `hosts` roll over them from here (unless
/// `--local`: on a host itself), the others here.
pub(super) fn carry_out(
    g: &Globals,
    ctx: &release::Ctx,
    apps: &[&App],
    work: Work,
) -> Result<ExitCode> {
    let Work {
        task,
        flags,
        opts,
        fleet: fleet_flags,
        jobs,
    } = work;
    let (remote, local): (Vec<&App>, Vec<&App>) = apps
        .iter()
        .partition(|a| !a.hosts.is_empty() && !flags.local);
    let given = fleet_flags.given();
    if remote.is_empty() && !given.is_empty() {
        return Err(Error::Usage(crate::t!(
            "release-fleet-only-flags",
            flags = given.join(", "),
            apps = local
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let parallel = jobs > 1 && local.len() > 1;
    // A fleet roll keeps the default: its ssh sessions stop with it. Apps run at once get
    // the signals from `parallel`, which passes them on.
    if remote.is_empty() && !parallel {
        crate::interrupt::install()?;
    }
    let mut code = ExitCode::DONE;
    if parallel {
        // Asked once for them all; each app's process then runs without asking.
        let names: Vec<&str> = local.iter().map(|a| a.name.as_str()).collect();
        if opts.confirm
            && !release::confirm(&crate::t!(
                "release-confirm-parallel",
                kind = match task {
                    RunKind::Restart => crate::t!("kind-restart"),
                    _ => crate::t!("kind-release"),
                },
                n = local.len(),
                jobs = jobs,
                apps = names.join(", ")
            ))?
        {
            return Err(Error::Cancelled);
        }
        let config = crate::config::locate(g.config.as_deref())?;
        code = super::parallel::run(&config, &local, task, fleet::run_options(opts), jobs, g.ui)?;
    } else if !local.is_empty() {
        code = super::each(ctx, &local, flags, |app| match task {
            RunKind::Restart => release::restart(ctx, app, opts),
            _ => release::release(ctx, app, opts),
        })?;
    }
    for app in remote {
        let r = match task {
            RunKind::Restart => fleet::restart(ctx, app, fleet_flags, opts)?,
            _ => fleet::release(ctx, app, fleet_flags, opts)?,
        };
        if g.ui.json {
            report::emit(&Event::Fleet { report: r.clone() });
        } else if !g.ui.quiet {
            report::fleet_table(&r);
            let installed: Vec<_> = r.hosts.iter().filter_map(|h| h.agent_install).collect();
            if let Some(first) = installed.first() {
                println!(
                    "  {}",
                    crate::t!(
                        "release-agent-installed",
                        n = installed.len(),
                        sent = report::size(first.bytes_sent),
                        size = report::size(first.bytes)
                    )
                );
            }
            if let Some(e) = &r.error {
                println!("  {}", crate::t!("release-roll-stopped", error = e));
            }
            for h in r.hosts.iter().filter(|h| {
                h.drained
                    && matches!(h.outcome, HostOutcome::Failed | HostOutcome::RollbackFailed)
                    && h.release != Some(Outcome::RolledBack)
            }) {
                println!(
                    "  {}",
                    crate::t!("release-kept-out", host = &h.host, app = &app.name)
                );
            }
        }
        if r.failed() {
            code = code.max(ExitCode::FAILED);
        }
    }
    Ok(code)
}

/// The old scripts asked which apps to release; in a terminal, so does runner.
fn pick(cfg: &Config, ui: Ui) -> Result<Vec<&App>> {
    if !std::io::stdin().is_terminal() || ui.json {
        return Err(Error::Usage(crate::t!("release-name-apps")));
    }
    let mut pending = Vec::new();
    for app in cfg.apps.values() {
        let p = plan::plan_release(cfg, app, PlanOptions::default())?;
        let n = p.pending().len();
        if n > 0 {
            pending.push((app, crate::t!("release-pick-item", app = &app.name, n = n)));
        }
    }
    if pending.is_empty() {
        ui.line(crate::t!("release-nothing-staged"));
        return Ok(Vec::new());
    }
    choose(&pending, &crate::t!("release-pick"))
}

/// A terminal pick list of `(app, label)`: the apps chosen.
pub(super) fn choose<'c>(items: &[(&'c App, String)], what: &str) -> Result<Vec<&'c App>> {
    let labels: Vec<&str> = items.iter().map(|(_, l)| l.as_str()).collect();
    let chosen = dialoguer::MultiSelect::new()
        .with_prompt(crate::t!("release-pick-prompt", what = what))
        .items(&labels)
        .interact()?;
    Ok(chosen.into_iter().map(|i| items[i].0).collect())
}
