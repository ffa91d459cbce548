//! `runner fleet restore <app> <host>`: a host that a roll left out of rotation (its release
//! and its own rollback failed, so `after-host` kept it drained) is put back once it is fixed,
//! by the same hooks, without hand-editing a load balancer's files.

use crate::error::{Error, ExitCode, Result};
use crate::history;
use crate::hook::Hook;
use crate::release::{At, aborted};

use super::Globals;

pub fn restore(g: &Globals, app: &str, host: &str) -> Result<ExitCode> {
    let loaded = g.load_with_plugins()?;
    let ctx = loaded.ctx(g.ui);
    let a = loaded.cfg.app(app)?;
    if !crate::address::names(&a.hosts).iter().any(|h| h == host) {
        return Err(Error::Usage(crate::t!(
            "fleet-restore-not-a-host",
            host = host,
            app = app,
            hosts = crate::address::names(&a.hosts).join(", ")
        )));
    }
    // The roll's plugin state (what each plugin drained) is kept under its id.
    let records = history::load(&loaded.cfg.state_dir, Some(app))?;
    let roll = records
        .iter()
        .rev()
        .find(|r| r.hosts.iter().any(|h| h.host == host))
        .ok_or_else(|| Error::Usage(crate::t!("fleet-restore-no-roll", app = app, host = host)))?;
    let at = At {
        release_id: &roll.id,
        app,
        host,
        batch: None,
        changes: &[],
        dry_run: false,
    };
    if let Some(reason) = aborted(ctx.call(Hook::AfterHost, &at, None, None)) {
        return Err(Error::Release {
            app: app.to_string(),
            message: crate::text!("fleet-restore-failed", host = host, reason = &reason),
        });
    }
    g.ui.line(crate::t!(
        "fleet-restored",
        app = app,
        host = host,
        id = &roll.id
    ));
    Ok(ExitCode::DONE)
}
