//! `runner history [<app>]`: past releases, newest last.

use crate::error::{ExitCode, Result};
use crate::history;
use crate::report;

use super::Globals;

pub fn run(g: &Globals, app: Option<&str>, limit: usize) -> Result<ExitCode> {
    let (_, cfg) = g.load()?;
    if let Some(a) = app {
        cfg.app(a)?;
    }
    let records = history::load(&cfg.state_dir, app)?;
    let shown = &records[records.len().saturating_sub(limit)..];
    if g.ui.json {
        report::print_json("records", &shown);
    } else {
        report::history_table(shown);
    }
    Ok(ExitCode::DONE)
}
