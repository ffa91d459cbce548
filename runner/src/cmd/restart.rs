//! `runner restart <app>…`: each app restarted and verified here, or rolled over its hosts
//! from here, with the hooks of a release's restart and verify.

use std::io::IsTerminal;

use crate::agent::protocol::RunKind;
use crate::cli::{FleetFlags, ReleaseFlags};
use crate::config::{App, Config};
use crate::error::{Error, ExitCode, Result};
use crate::report::Ui;

use super::Globals;

pub fn run(
    g: &Globals,
    names: &[String],
    flags: ReleaseFlags,
    fleet_flags: &FleetFlags,
    jobs: usize,
) -> Result<ExitCode> {
    if flags.no_restart || flags.no_rollback {
        return Err(Error::Usage(crate::t!("restart-no-flags")));
    }
    let loaded = g.load_with_plugins()?;
    let ctx = loaded.ctx(g.ui);
    let apps = if names.is_empty() {
        pick(&loaded.cfg, g.ui)?
    } else {
        super::select(&loaded.cfg, names, false)?
    };
    let opts = super::options(flags, false);
    super::release::carry_out(
        g,
        &ctx,
        &apps,
        super::release::Work {
            task: RunKind::Restart,
            flags,
            opts,
            fleet: fleet_flags,
            jobs,
        },
    )
}

/// The old scripts looped on "app to restart:"; in a terminal, runner offers every app.
fn pick(cfg: &Config, ui: Ui) -> Result<Vec<&App>> {
    if !std::io::stdin().is_terminal() || ui.json {
        return Err(Error::Usage(crate::t!("restart-name-apps")));
    }
    let items: Vec<(&App, String)> = cfg
        .apps
        .values()
        .map(|a| {
            let hosts = if a.hosts.is_empty() {
                String::new()
            } else {
                format!(" ({})", crate::t!("release-hosts", n = a.hosts.len()))
            };
            (a, format!("{}{hosts}", a.name))
        })
        .collect();
    super::release::choose(&items, &crate::t!("restart-pick"))
}
