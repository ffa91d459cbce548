//! `runner config check`: the config parsed, validated and shown as runner resolved it.

use crate::error::{ExitCode, Result};
use crate::report;

use super::Globals;

pub fn check(g: &Globals) -> Result<ExitCode> {
    let (path, cfg) = g.load()?;
    if g.ui.json {
        report::print_json("config", &cfg);
    } else {
        let text = toml::to_string_pretty(&cfg).unwrap_or_default();
        println!(
            "# {}\n{text}",
            crate::t!("config-check-valid", path = &path)
        );
    }
    Ok(ExitCode::DONE)
}
