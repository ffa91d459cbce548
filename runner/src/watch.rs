//! `runner watch`: the long-running service. One worker per `[[sync]]` target watches its
//! source (inotify, recursive; one inotify instance for all, `watch/hub.rs`), waits until
//! changed files have settled — closed after writing, or quiet for `settle` where no close is
//! seen; a jar also needs a readable central directory — then reconciles the target in one
//! batch over one reused agent session. A full reconcile runs at start, after a queue overflow
//! or a new directory, and every `reconcile_every`. A target that is down is retried with
//! back-off without holding up the others.

mod board;
mod hub;

pub use board::{Board, TargetStatus, WatchStatus, read_live};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind};
use notify::{Event, EventKind};

use crate::address::Url;
use crate::config::{App, Config, SyncTarget};
use crate::error::{Error, Result};
use crate::inventory::is_transient;
use crate::outcome::Outcome;
use crate::sync::{self, Session};

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
    /// Whether a sync may empty a target (`--allow-delete-all`).
    pub guard: sync::Guard,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            settle: Duration::from_secs(2),
            coalesce: Duration::from_millis(10),
            reconcile_every: Duration::from_secs(300),
            max_backoff: Duration::from_secs(60),
            guard: sync::Guard::KeepTarget,
        }
    }
}

/// What the service is told from outside (signals): stop. It wakes every worker at once. (A
/// SIGHUP stops the workers of one config and starts those of the config re-read, each with a
/// full reconcile: `cmd/watch.rs`.)
#[derive(Debug, Default)]
pub struct Control {
    shutdown: AtomicBool,
    wakers: std::sync::Mutex<Vec<mpsc::Sender<notify::Result<Event>>>>,
}

impl Control {
    /// SIGTERM/SIGINT: each worker finishes the batch in hand and stops.
    pub fn stop(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// A channel the service's signals wake (its events are only wake-ups).
    fn subscribe(
        &self,
    ) -> (
        mpsc::Sender<notify::Result<Event>>,
        mpsc::Receiver<notify::Result<Event>>,
    ) {
        let (tx, rx) = mpsc::channel();
        self.wakers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tx.clone());
        (tx, rx)
    }

    fn wake(&self) {
        for tx in self.wakers.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = tx.send(Ok(Event::new(EventKind::Other)));
        }
    }
}

/// Runs a release of one app (what `runner release <app> --yes` does).
pub type Release<'a> = &'a (dyn Fn(&App) -> Result<crate::outcome::Report> + Sync);

/// Runs every worker until `control.shutdown` is set; then each finishes its batch and stops.
/// `release` serves the apps with `auto_release = true`.
pub fn run(
    cfg: &Config,
    opts: WatchOptions,
    control: Arc<Control>,
    hook: Option<sync::SyncHook>,
    release: Release,
    board: &Board,
) -> Result<()> {
    let auto: Vec<&App> = cfg.apps.values().filter(|a| a.auto_release).collect();
    if cfg.sync.is_empty() && auto.is_empty() {
        return Err(Error::Usage(crate::t!("sync-watch-nothing")));
    }
    let hub = hub::Hub::default();
    std::thread::scope(|s| {
        for row in &cfg.sync {
            let (control, hub) = (control.clone(), &hub);
            s.spawn(move || {
                if let Err(e) = worker(cfg, row, opts, &control, hub, hook, board) {
                    tracing::error!(
                        target = %row.target,
                        "{}",
                        crate::t!("sync-watch-stopped-target", error = e.to_string())
                    );
                }
            });
        }
        for app in auto {
            let (control, hub) = (control.clone(), &hub);
            s.spawn(move || {
                if let Err(e) = release_worker(app, opts, &control, hub, release, board) {
                    tracing::error!(
                        app = %app.name,
                        "{}",
                        crate::t!("sync-watch-stopped-release", error = e.to_string())
                    );
                }
            });
        }
    });
    tracing::info!("{}", crate::t!("sync-watch-stopped"));
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
    control: &Control,
    hub: &hub::Hub,
    hook: Option<sync::SyncHook>,
    board: &Board,
) -> Result<()> {
    let mut session: Option<Session> = None;
    let label = row.target.as_str();
    board.set(label, &row.source, |_| {});
    // A missing source is never created here: it may be a share not mounted yet, and an
    // empty dir pushed with deletions would wipe the target.
    if opts.guard == sync::Guard::KeepTarget && !wait_for(&row.source, label, opts, control, board)
    {
        return Ok(());
    }
    if opts.guard == sync::Guard::AllowDeleteAll {
        std::fs::create_dir_all(&row.source).map_err(Error::io("create", &row.source))?;
    }
    let res = settle_loop(&row.source, label, opts, control, hub, board, |full| {
        let t = Instant::now();
        match push(cfg, row, &mut session, hook, opts.guard) {
            Ok(r) => {
                if r.sent + r.deleted > 0 || full {
                    tracing::info!(
                        target = %row.target,
                        sent = r.sent,
                        bytes = r.bytes,
                        deleted = r.deleted,
                        unchanged = r.unchanged,
                        ms = t.elapsed().as_millis() as u64,
                        "{}",
                        crate::t!("sync-watch-synced")
                    );
                }
                for (path, why) in &r.skipped {
                    tracing::info!(
                        target = %row.target,
                        path,
                        "{}",
                        crate::t!("sync-watch-held-back", why = why.to_string())
                    );
                }
                Ok(())
            }
            Err(e) => {
                session = None;
                Err(BatchError::Target(e))
            }
        }
    });
    if let Some(s) = session {
        s.close(true);
    }
    res
}

/// On an app server: releases an `auto_release` app once a synced batch has settled in its
/// staging dir. A release that fails is in the history (and rolled back); a refused one
/// (an incomplete jar, a held lock) is retried with back-off.
fn release_worker(
    app: &App,
    opts: WatchOptions,
    control: &Control,
    hub: &hub::Hub,
    release: Release,
    board: &Board,
) -> Result<()> {
    // en: the app's key in the status file (`release <app>`)
    let label = format!("release {}", app.name);
    board.set(&label, &app.staging, |_| {});
    // The app's staging dir is the agent's root on this host: made by the first sync anyway.
    std::fs::create_dir_all(&app.staging).map_err(Error::io("create", &app.staging))?;
    settle_loop(
        &app.staging,
        &label,
        opts,
        control,
        hub,
        board,
        |_| match release(app) {
            Ok(r) if r.outcome == Outcome::NoChange => Ok(()),
            Ok(r) => {
                tracing::info!(app = %app.name, id = r.id.as_deref().unwrap_or(""), outcome = %r.outcome, "{}", crate::t!("sync-watch-auto-release"));
                Ok(())
            }
            Err(e) => Err(BatchError::Release(e)),
        },
    )
}

/// Waits, with back-off, until `dir` exists; false when the service stops first. Each try that
/// finds it missing is an error in the log.
fn wait_for(dir: &Path, label: &str, opts: WatchOptions, control: &Control, board: &Board) -> bool {
    let (_, rx) = control.subscribe();
    let mut backoff = Duration::from_secs(1);
    while !control.shutdown.load(Ordering::Relaxed) {
        if dir.is_dir() {
            return true;
        }
        // The status file keeps English.
        board.waiting(
            label,
            dir,
            &crate::i18n::english(|| crate::t!("sync-source-missing", source = dir)),
        );
        tracing::error!(
            target = %label,
            retry_in_s = backoff.as_secs(),
            "{}",
            crate::t!("sync-watch-source-missing", source = dir)
        );
        let _ = rx.recv_timeout(backoff);
        backoff = (backoff * 2).min(opts.max_backoff);
    }
    false
}

/// Why a batch is to be retried.
#[derive(Debug, thiserror::Error)]
enum BatchError {
    #[error("{}", crate::t!("sync-watch-target-unavailable", error = .0.to_string()))]
    Target(#[source] Error),
    #[error("{}", crate::t!("sync-watch-release-not-started", error = .0.to_string()))]
    Release(#[source] Error),
}

/// Watches `root` and calls `batch` once every changed file has settled (and at start, after a
/// new dir, a removal or an overflow, and every `reconcile_every`, with `full` set). A failed
/// batch is retried with back-off.
fn settle_loop(
    root: &Path,
    label: &str,
    opts: WatchOptions,
    control: &Control,
    hub: &hub::Hub,
    board: &Board,
    mut batch: impl FnMut(bool) -> std::result::Result<(), BatchError>,
) -> Result<()> {
    let (tx, rx) = control.subscribe();
    hub.subscribe(root, tx)
        .map_err(|e| watch_error(root, label, e))?;
    tracing::info!(source = %root.display(), target = %label, "{}", crate::t!("sync-watch-watching"));

    let mut pending: HashMap<PathBuf, Pending> = HashMap::new();
    let mut full = true;
    let mut last_event = Instant::now();
    let mut next_full = Instant::now() + opts.reconcile_every;
    let mut backoff = Duration::from_secs(1);
    let mut retry_at: Option<Instant> = None;
    let mut wait = Duration::ZERO;
    while !control.shutdown.load(Ordering::Relaxed) {
        match rx.recv_timeout(wait) {
            // Reads (open, close-nowrite, access) are not changes: a reader of the staging
            // dir must not keep a burst from ever looking quiet.
            Ok(Ok(ev)) if is_change(&ev) => {
                tracing::trace!(kind = ?ev.kind, paths = ?ev.paths, "event");
                last_event = Instant::now();
                let was = pending.len();
                full |= note(root, &ev, &mut pending);
                if was == 0 && !pending.is_empty() {
                    board.pending(label, root, pending.len());
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(
                    target = %label,
                    "{}",
                    crate::t!("sync-watch-rescanning", error = e.to_string())
                );
                full = true;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        // Sleep until the next thing can happen (a quiet period ends, a file settles, a retry
        // or reconcile is due); signals wake the loop through `Control`.
        let now = Instant::now();
        if now >= next_full {
            full = true;
        }
        let mut until = now + Duration::from_secs(5);
        if let Some(t) = retry_at.filter(|t| now < *t) {
            wait = t.min(until) - now;
            continue;
        }
        let unsettled = pending
            .values()
            .filter(|p| !p.closed)
            .map(|p| p.last + opts.settle)
            .filter(|t| *t > now)
            .min();
        let quiet_at = last_event + opts.coalesce;
        let due = full || !pending.is_empty();
        if !due || quiet_at > now || unsettled.is_some() {
            if due {
                until = until.min(quiet_at.max(unsettled.unwrap_or(now)));
            }
            wait = until.min(next_full).saturating_duration_since(now);
            continue;
        }
        wait = Duration::ZERO;
        match batch(full) {
            Ok(()) => {
                // A held-back (incomplete) jar needs no retry timer: the rest of its upload
                // raises new events, and the batch after those takes it.
                pending.clear();
                board.ok(label, root);
                full = false;
                next_full = Instant::now() + opts.reconcile_every;
                backoff = Duration::from_secs(1);
                retry_at = None;
            }
            Err(e) => {
                tracing::warn!(target = %label, retry_in_s = backoff.as_secs(), "{e}");
                // The status file keeps English (what the error put into words when it was
                // made stays as it is).
                let error = crate::i18n::english(|| e.to_string());
                board.failing(label, root, &error, backoff);
                retry_at = Some(Instant::now() + backoff);
                backoff = (backoff * 2).min(opts.max_backoff);
                full = true;
            }
        }
    }
    Ok(())
}

fn watch_error(root: &Path, label: &str, e: notify::Error) -> Error {
    let message = if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) {
        crate::t!(
            "sync-watch-cannot-watch-limit",
            path = root,
            error = e.to_string()
        )
    } else {
        crate::t!(
            "sync-watch-cannot-watch",
            path = root,
            error = e.to_string()
        )
    };
    Error::Sync {
        target: label.to_string(),
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
        EventKind::Remove(_) => {
            for p in &ev.paths {
                pending.remove(p);
            }
            ev.paths.iter().any(relevant)
        }
        // A touch or chmod leaves no file half-written: it is settled at once (a write in
        // progress stays unsettled).
        EventKind::Modify(ModifyKind::Metadata(_)) => {
            for p in ev.paths.iter().filter(|p| relevant(p)) {
                pending
                    .entry(p.clone())
                    .or_insert(Pending {
                        last: now,
                        closed: true,
                    })
                    .last = now;
            }
            false
        }
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
    hook: Option<sync::SyncHook>,
    guard: sync::Guard,
) -> Result<sync::SyncReport> {
    if matches!(row.url, Url::Rsync(_)) {
        return sync::run(cfg, row, hook, guard);
    }
    if session.is_none() {
        *session = Some(Session::open(row)?);
    }
    let s = session.as_mut().expect("just opened");
    match s.reconcile(cfg, &row.source, hook, guard) {
        Ok(r) => Ok(r),
        Err(e) => {
            if let Some(s) = session.take() {
                s.close(false);
            }
            Err(e)
        }
    }
}
