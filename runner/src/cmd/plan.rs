//! `runner plan <app>…`: what a release would change. Changes nothing.

use crate::error::{Error, ExitCode, Result};
use crate::journal;
use crate::plan::{self, PlanOptions};
use crate::report;

use super::Globals;

pub fn run(g: &Globals, apps: &[String], entries: bool) -> Result<ExitCode> {
    let (_, cfg) = g.load()?;
    let apps = super::select(&cfg, apps, apps.is_empty())?;
    let mut plans = Vec::new();
    for app in apps {
        if let Some(j) = journal::load(&cfg.state_dir, &app.name)? {
            g.ui.warn(
                Error::Interrupted {
                    app: app.name.clone(),
                    release: j.id,
                }
                .to_string(),
            );
        }
        let p = plan::plan_release(&cfg, app, PlanOptions { entries })?;
        g.ui.plan(&p);
        plans.push(p);
    }
    if g.ui.json {
        report::print_json(&plans);
    }
    Ok(ExitCode::failed_if(
        plans.iter().any(|p| !p.problems.is_empty()),
    ))
}
