//! `runner watch`: the service. Signals: SIGTERM/SIGINT stop it, SIGHUP reconciles every
//! target now.

use std::sync::Arc;
use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::config::App;
use crate::error::{Error, ExitCode, Result};
use crate::hook::Hook;
use crate::plan::Change;
use crate::release::{self, Options};
use crate::sync::Guard;
use crate::watch::{self, Control, WatchOptions};

use super::Globals;

pub fn run(
    g: &Globals,
    settle: Duration,
    reconcile_every: Duration,
    guard: Guard,
) -> Result<ExitCode> {
    let loaded = g.load_with_plugins()?;
    let ctx = loaded.ctx(g.ui);
    let control = Arc::new(Control::default());
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .map_err(Error::internal("the signal handler"))?;
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
    let opts = WatchOptions {
        settle,
        reconcile_every,
        guard,
        ..WatchOptions::default()
    };
    let hook = |hook: Hook, app: &str, target: &str, changes: &[Change], error: Option<&str>| {
        super::sync::sync_hook(&ctx, hook, app, target, changes, error)
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
    watch::run(&loaded.cfg, opts, control, Some(&hook), &release)?;
    Ok(ExitCode::DONE)
}
