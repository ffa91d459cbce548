//! `runner common [<app>…]`: staged common libs installed into the apps that have them.

use crate::cli::ReleaseFlags;
use crate::error::{ExitCode, Result};
use crate::{plan, release};

use super::Globals;

pub fn run(g: &Globals, names: &[String], flags: ReleaseFlags) -> Result<ExitCode> {
    let loaded = g.load_with_plugins()?;
    let ctx = loaded.ctx(g.ui);
    let apps = super::select(&loaded.cfg, names, names.is_empty())?;
    for lib in plan::unmatched_common(&loaded.cfg, &apps)? {
        g.ui.warn(if names.is_empty() {
            crate::t!("common-unmatched-any", lib = &lib)
        } else {
            crate::t!("common-unmatched-these", lib = &lib)
        });
    }
    let opts = super::options(flags, false);
    crate::interrupt::install()?;
    super::each(&ctx, &apps, flags, |app| release::common(&ctx, app, opts))
}
