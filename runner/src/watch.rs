//! `runner watch`: the long-running service. One worker per `[[sync]]` target watches its
//! source (inotify, recursive), waits until changed files have settled — closed after writing,
//! or quiet for `settle` where no close is seen; a jar also needs a readable central directory —
//! then reconciles the target in one batch over one reused agent session. A full reconcile runs
//! at start, after a queue overflow or a new directory, and every `reconcile_every`. A target
//! that is down is retried with back-off without holding up the others.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind};
use notify::{Event, EventKind, RecursiveMode, Watcher};

use crate::config::{Config, SyncTarget};
use crate::error::{Error, Result};
use crate::inventory::is_transient;
use crate::sync::{self, Session, Url};

/// Timing of the service.
#[derive(Debug, Clone, Copy)]
pub struct WatchOptions {
    /// A written file with no close seen is settled after this long without writes.
    pub settle: Duration,
    /// Events closer together than this are one batch.
    pub coalesce: Duration,
    /// Full reconcile period (drift repair).
    pub reconcile_every: Duration,
    /// Longest wait between retries of a target that is down.
    pub max_backoff: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            settle: Duration::from_secs(2),
            coalesce: Duration::from_millis(30),
            reconcile_every: Duration::from_secs(300),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// Runs every target's worker until `shutdown` is set; then each finishes its batch and stops.
pub fn run(
    cfg: &Config,
    opts: WatchOptions,
    shutdown: Arc<AtomicBool>,
    hook: Option<sync::Hook>,
) -> Result<()> {
    if cfg.sync.is_empty() {
        return Err(Error::Usage(
            "no [[sync]] targets configured: nothing to watch".into(),
        ));
    }
    std::thread::scope(|s| {
        for row in &cfg.sync {
            let shutdown = shutdown.clone();
            s.spawn(move || {
                if let Err(e) = worker(cfg, row, opts, &shutdown, hook) {
                    tracing::error!(target = %row.target, "watcher stopped: {e}");
                }
            });
        }
    });
    tracing::info!("stopped");
    Ok(())
}

/// A changed path not yet pushed.
struct Pending {
    last: Instant,
    closed: bool,
}

fn worker(
    cfg: &Config,
    row: &SyncTarget,
    opts: WatchOptions,
    shutdown: &AtomicBool,
    hook: Option<sync::Hook>,
) -> Result<()> {
    std::fs::create_dir_all(&row.source).map_err(Error::io("create", &row.source))?;
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |res| {
        let _ = tx.send(res);
    })
    .map_err(|e| watch_error(row, e))?;
    watcher
        .watch(&row.source, RecursiveMode::Recursive)
        .map_err(|e| watch_error(row, e))?;
    tracing::info!(source = %row.source.display(), target = %row.target, "watching");

    let mut pending: HashMap<PathBuf, Pending> = HashMap::new();
    let mut full = true;
    let mut last_event = Instant::now();
    let mut next_full = Instant::now() + opts.reconcile_every;
    let mut session: Option<Session> = None;
    let mut backoff = Duration::from_secs(1);
    let mut retry_at: Option<Instant> = None;
    while !shutdown.load(Ordering::Relaxed) {
        match rx.recv_timeout(Duration::from_millis(20)) {
            // Reads (open, close-nowrite, access) are not changes: a reader of the staging
            // dir must not keep a burst from ever looking quiet.
            Ok(Ok(ev)) if is_change(&ev) => {
                tracing::trace!(kind = ?ev.kind, paths = ?ev.paths, "event");
                last_event = Instant::now();
                full |= note(&row.source, &ev, &mut pending);
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(target = %row.target, "watch error, rescanning: {e}");
                full = true;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let now = Instant::now();
        if now >= next_full {
            full = true;
        }
        if retry_at.is_some_and(|t| now < t) {
            continue;
        }
        let unsettled: Vec<PathBuf> = pending
            .iter()
            .filter(|(_, p)| !p.closed && now.duration_since(p.last) < opts.settle)
            .map(|(k, _)| k.clone())
            .collect();
        let quiet = now.duration_since(last_event) >= opts.coalesce;
        let ready = (full || !pending.is_empty()) && quiet && unsettled.is_empty();
        if !ready {
            continue;
        }
        let t = Instant::now();
        match push(cfg, row, &mut session, hook) {
            Ok(r) => {
                if r.sent + r.deleted > 0 || full {
                    tracing::info!(
                        target = %row.target,
                        sent = r.sent,
                        bytes = r.bytes,
                        deleted = r.deleted,
                        unchanged = r.unchanged,
                        ms = t.elapsed().as_millis() as u64,
                        "synced"
                    );
                }
                for (path, why) in &r.skipped {
                    tracing::info!(target = %row.target, path, "held back: {why}");
                }
                // A held-back (incomplete) jar needs no retry timer: the rest of its upload
                // raises new events, and the batch after those pushes it.
                pending.clear();
                full = false;
                next_full = Instant::now() + opts.reconcile_every;
                backoff = Duration::from_secs(1);
                retry_at = None;
            }
            Err(e) => {
                tracing::warn!(target = %row.target, retry_in_s = backoff.as_secs(), "target unavailable: {e}");
                session = None;
                retry_at = Some(Instant::now() + backoff);
                backoff = (backoff * 2).min(opts.max_backoff);
                full = true;
            }
        }
    }
    if let Some(s) = session {
        s.close(true);
    }
    Ok(())
}

fn watch_error(row: &SyncTarget, e: notify::Error) -> Error {
    let mut message = format!("cannot watch {}: {e}", row.source.display());
    if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) {
        message.push_str("; raise fs.inotify.max_user_watches (sysctl) for big trees");
    }
    Error::Sync {
        target: row.target.clone(),
        message,
    }
}

fn is_change(ev: &Event) -> bool {
    ev.need_rescan()
        || match ev.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) | EventKind::Other => false,
            _ => true,
        }
}

/// Records an event; true when it calls for a full reconcile (new dir, removal, overflow).
fn note(root: &Path, ev: &Event, pending: &mut HashMap<PathBuf, Pending>) -> bool {
    if ev.need_rescan() {
        return true;
    }
    let now = Instant::now();
    let relevant = |p: &PathBuf| {
        p.starts_with(root)
            && p.strip_prefix(root).ok().is_some_and(|r| {
                !r.components()
                    .any(|c| c.as_os_str().to_str().is_none_or(is_transient))
            })
    };
    match &ev.kind {
        // Files made in a new dir before its watch was added raise no events: rescan it.
        EventKind::Create(CreateKind::Folder) => true,
        EventKind::Remove(_) => ev.paths.iter().any(relevant),
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
            for p in ev.paths.iter().filter(|p| relevant(p)) {
                pending.insert(
                    p.clone(),
                    Pending {
                        last: now,
                        closed: true,
                    },
                );
            }
            false
        }
        // A rename into the tree delivers a finished file; a rename out of it is a removal.
        EventKind::Modify(ModifyKind::Name(_)) => {
            let mut rescan = false;
            for p in &ev.paths {
                if !relevant(p) {
                    continue;
                }
                if p.is_dir() {
                    rescan = true;
                } else if p.exists() {
                    pending.insert(
                        p.clone(),
                        Pending {
                            last: now,
                            closed: true,
                        },
                    );
                } else {
                    rescan = true;
                }
            }
            rescan
        }
        EventKind::Create(_) | EventKind::Modify(_) => {
            for p in ev.paths.iter().filter(|p| relevant(p)) {
                let e = pending.entry(p.clone()).or_insert(Pending {
                    last: now,
                    closed: false,
                });
                e.last = now;
                e.closed = false;
            }
            false
        }
        _ => false,
    }
}

/// One batch: reconcile the target over the open session (opening one if needed).
fn push(
    cfg: &Config,
    row: &SyncTarget,
    session: &mut Option<Session>,
    hook: Option<sync::Hook>,
) -> Result<sync::SyncReport> {
    let url =
        sync::parse_url(&row.target).map_err(|e| Error::Usage(format!("{}: {e}", row.target)))?;
    if matches!(url, Url::Rsync { .. }) {
        return sync::run(cfg, row, hook);
    }
    if session.is_none() {
        *session = Some(Session::open(row, &url)?);
    }
    let s = session.as_mut().expect("just opened");
    match s.reconcile(cfg, &row.source, hook) {
        Ok(r) => Ok(r),
        Err(e) => {
            if let Some(s) = session.take() {
                s.close(false);
            }
            Err(e)
        }
    }
}
