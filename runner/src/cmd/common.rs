//! `runner common [<app>…]`: staged common libs installed into the apps that have them.

use crate::cli::ReleaseFlags;
use crate::error::{ExitCode, Result};
use crate::release;

use super::Globals;

pub fn run(g: &Globals, names: &[String], flags: ReleaseFlags) -> Result<ExitCode> {
    let loaded = g.load_with_plugins()?;
    let ctx = loaded.ctx(g.ui);
    let apps = super::select(&loaded.cfg, names, names.is_empty())?;
    let opts = super::options(flags, false);
    crate::interrupt::install()?;
    super::each(&ctx, &apps, flags, |app| release::common(&ctx, app, opts))
}
