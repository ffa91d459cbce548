//! `runner sync [<target>…]`: every (or the named) `[[sync]]` target pushed once, in parallel.

use std::path::Path;
use std::time::Instant;

use crate::config::{Config, SyncTarget};
use crate::error::{Error, ExitCode, Result};
use crate::hook::Hook;
use crate::plan::Change;
use crate::release::{At, Ctx, aborted};
use crate::report;
use crate::sync::{self, Guard, SyncHook, SyncReport};

use super::Globals;

pub fn run(g: &Globals, names: &[String], jobs: usize, guard: Guard) -> Result<ExitCode> {
    let loaded = g.load_with_plugins()?;
    let ctx = loaded.ctx(g.ui);
    let hook = |hook: Hook, app: &str, target: &str, changes: &[Change], error: Option<&str>| {
        sync_hook(&ctx, hook, app, target, changes, error)
    };
    let cfg = &loaded.cfg;
    let rows: Vec<&SyncTarget> = cfg
        .sync
        .iter()
        .filter(|r| {
            names.is_empty()
                || names
                    .iter()
                    .any(|n| *n == r.target || Path::new(n) == r.source)
        })
        .collect();
    if rows.is_empty() {
        return Err(Error::Usage(if names.is_empty() {
            crate::t!("sync-no-targets")
        } else {
            crate::t!("sync-no-target-matches", names = names.join(", "))
        }));
    }
    let started = Instant::now();
    let results = in_parallel(cfg, &rows, jobs, &hook, guard);
    let mut reports = Vec::new();
    let mut failed = false;
    for (row, r) in rows.iter().zip(results) {
        match r {
            Ok(r) => {
                for (path, why) in &r.skipped {
                    g.ui.warn(crate::t!(
                        "sync-not-pushed",
                        target = &row.target,
                        path = path,
                        why = why.to_string()
                    ));
                }
                reports.push(r);
            }
            Err(e) => {
                report::print_error(&e);
                failed = true;
            }
        }
    }
    if g.ui.json {
        report::print_json("targets", &reports);
    } else if !g.ui.quiet {
        report::sync_table(&reports, started.elapsed());
    }
    Ok(ExitCode::failed_if(failed))
}

/// Targets are independent (one agent session each): synced `jobs` at a time, returned in
/// config order.
fn in_parallel(
    cfg: &Config,
    rows: &[&SyncTarget],
    jobs: usize,
    hook: SyncHook,
    guard: Guard,
) -> Vec<Result<SyncReport>> {
    crate::threads::map_at_once(rows.len(), jobs, |i| {
        sync::run(cfg, rows[i], Some(hook), guard)
    })
}

/// A sync hook call: `app` is the source dir's name, `host` the target URL. The reason to stop
/// if a plugin said abort.
pub(crate) fn sync_hook(
    ctx: &Ctx,
    hook: Hook,
    app: &str,
    target: &str,
    changes: &[Change],
    error: Option<&str>,
) -> Option<String> {
    let at = At {
        release_id: "",
        app,
        host: target,
        batch: None,
        changes,
        dry_run: false,
    };
    aborted(ctx.call(hook, &at, error, None))
}
