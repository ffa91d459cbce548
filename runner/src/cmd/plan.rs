//! `runner plan <app>…`: what a release would change. Changes nothing.

use crate::error::{Error, ExitCode, Result};
use crate::plan::{self, PlanOptions};
use crate::preflight;
use crate::report;
use crate::{journal, lock};

use super::Globals;

pub fn run(g: &Globals, apps: &[String], entries: bool) -> Result<ExitCode> {
    let (_, cfg) = g.load()?;
    let all = apps.is_empty();
    let apps = super::staged(g.ui, super::select(&cfg, apps, all)?, all)?;
    let mut plans = Vec::new();
    for app in apps {
        if app.hosts.is_empty() {
            preflight::deploy_dir(app)?;
        }
        if let Some(j) = journal::load(&cfg.state_dir, &app.name)? {
            match lock::live_holder(&cfg.state_dir, lock::Scope::App(&app.name)) {
                Some(h) => g.ui.warn(crate::t!(
                    "release-in-progress",
                    app = &app.name,
                    id = &j.id,
                    pid = h.pid,
                    user = &h.user,
                    command = &h.command,
                    since = &h.since
                )),
                None => g.ui.warn(
                    Error::Interrupted {
                        app: app.name.clone(),
                        release: j.id,
                    }
                    .to_string(),
                ),
            }
        }
        let p = plan::plan_release(&cfg, app, PlanOptions { entries })?;
        g.ui.plan(&p);
        plans.push(p);
    }
    if g.ui.json {
        report::print_json("plans", &plans);
    }
    Ok(ExitCode::failed_if(
        plans.iter().any(|p| !p.problems.is_empty()),
    ))
}
