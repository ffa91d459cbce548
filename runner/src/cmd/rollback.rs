//! `runner rollback <app> [--to <id>]`: the files of a release put back from its backup.

use crate::cli::ReleaseFlags;
use crate::error::{ExitCode, Result};
use crate::release;

use super::Globals;

pub fn run(g: &Globals, app: &str, to: Option<&str>, flags: ReleaseFlags) -> Result<ExitCode> {
    let loaded = g.load_with_plugins()?;
    let ctx = loaded.ctx(g.ui);
    let app = loaded.cfg.app(app)?;
    let opts = super::options(flags, false);
    crate::interrupt::install()?;
    super::each(&ctx, &[app], flags, |app| {
        release::rollback(&ctx, app, to, opts)
    })
}
