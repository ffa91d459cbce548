//! The `rsync://` transport: the system `rsync` against an rsync daemon.

use std::process::Command;

use super::{Guard, SyncReport};
use crate::address::RsyncModule;
use crate::config::SyncTarget;
use crate::error::{Error, Result};
use crate::{inventory, jar};

/// `rsync://`: the system rsync against an rsync daemon, as sites that keep their daemons have it.
pub(super) fn rsync(row: &SyncTarget, module: &RsyncModule, guard: Guard) -> Result<SyncReport> {
    let dest = module.dest();
    // Incomplete archives stay home; excluded, their remote copies are also safe from --delete.
    let mut skipped = Vec::new();
    for e in inventory::walk(&row.source, &globset::GlobSet::empty())? {
        if jar::is_archive(&e.rel)
            && let Err(why) = jar::check(&row.source.join(&e.rel))
        {
            skipped.push((e.rel, super::incomplete(&why)));
        }
    }
    // rsync cannot be asked first what the target holds: an empty source is refused outright.
    let files = inventory::walk(&row.source, &globset::GlobSet::empty())?.len();
    guard.batch(&row.target, &row.source, files, 1)?;
    let mut c = Command::new("rsync");
    c.args([
        "-rt",
        "--delete",
        "--delay-updates",
        "--stats",
        "--timeout=30",
        // A batch is a few small request/response exchanges: no Nagle stalls on them.
        "--sockopts=TCP_NODELAY",
    ]);
    // Dotfiles and partial-upload names are not part of the tree, as for the other targets.
    c.args([
        "--exclude=.*",
        "--exclude=*.tmp",
        "--exclude=*.part",
        "--exclude=*.filepart",
    ]);
    for (rel, _) in &skipped {
        c.arg(format!("--exclude=/{rel}"));
    }
    if let Some(pf) = &row.password_file {
        c.arg(format!("--password-file={}", pf.display()));
    }
    c.arg(format!("{}/", row.source.display())).arg(&dest);
    let out = c.output().map_err(|e| Error::Sync {
        target: row.target.clone(),
        message: crate::t!("sync-rsync-cannot-run", error = e.to_string()),
    })?;
    // 23 (partial transfer) and 24 (vanished source files) are failures to retry, not success.
    if !out.status.success() {
        return Err(Error::Sync {
            target: row.target.clone(),
            message: crate::t!(
                "sync-rsync-exited",
                status = out.status.to_string(),
                stderr = String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    let stats = String::from_utf8_lossy(&out.stdout);
    // The labels of `rsync --stats`, which it prints in English.
    let num = |label: &str| -> u64 {
        stats
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.replace(',', "").parse().ok())
            .unwrap_or(0)
    };
    Ok(SyncReport {
        sent: num("Number of regular files transferred:") as usize, // en: rsync --stats label
        bytes: num("Total transferred file size:"),                 // en: rsync --stats label
        deleted: num("Number of deleted files:") as usize,          // en: rsync --stats label
        skipped,
        ..SyncReport::default()
    })
}
