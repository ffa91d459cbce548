//! The service's status file, `state_dir/watch-status.json`: per target (and per auto-release
//! app) when it last synced, what waits, since when it fails and why, when it retries. Written
//! (temp + rename) when something changes; `runner status` reads it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WatchStatus {
    pub schema: u32,
    pub pid: u32,
    /// When this service started, and when it last wrote the file.
    pub started: String,
    pub updated: String,
    pub targets: Vec<TargetStatus>,
}

/// One watched target (a `[[sync]]` row's target, or `release <app>`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TargetStatus {
    pub target: String,
    pub source: String,
    /// `ok`, `pending` (changes wait to settle), `failing` (retrying) or `waiting` (the source
    /// does not exist yet), or `starting`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a serde path
    pub last_ok: Option<String>,
    /// Changed files not pushed yet.
    pub pending: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a serde path
    pub failing_since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a serde path
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a serde path
    pub retry_at: Option<String>,
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("watch-status.json")
}

/// The service's view of its targets, written to the status file on each change.
pub struct Board {
    path: PathBuf,
    started: String,
    targets: Mutex<BTreeMap<String, TargetStatus>>,
}

impl Board {
    /// A board for a service started at `started` (RFC 3339); it starts with no targets.
    pub fn new(state_dir: &Path, started: &str) -> Board {
        Board {
            path: path(state_dir),
            started: started.to_string(),
            targets: Mutex::new(BTreeMap::new()),
        }
    }

    /// Changes `target`'s entry and writes the file. A write that fails is logged, once per
    /// call: the service goes on.
    pub fn set(&self, target: &str, source: &Path, f: impl FnOnce(&mut TargetStatus)) {
        let mut targets = self.targets.lock().unwrap_or_else(|e| e.into_inner());
        let t = targets
            .entry(target.to_string())
            .or_insert_with(|| TargetStatus {
                target: target.to_string(),
                source: source.display().to_string(),
                state: "starting".into(),
                ..TargetStatus::default()
            });
        f(t);
        let file = WatchStatus {
            schema: crate::report::SCHEMA,
            pid: std::process::id(),
            started: self.started.clone(),
            updated: now(),
            targets: targets.values().cloned().collect(),
        };
        // Written under the lock: one temp file, renamed in the order of the changes.
        if let Err(e) = write(&self.path, &file) {
            tracing::warn!(
                path = %self.path.display(),
                "{}",
                crate::t!("sync-watch-cannot-write-status", error = e.to_string())
            );
        }
    }

    pub fn pending(&self, target: &str, source: &Path, n: usize) {
        self.set(target, source, |t| {
            t.pending = n;
            if t.state != "failing" {
                t.state = "pending".into();
            }
        });
    }

    pub fn ok(&self, target: &str, source: &Path) {
        self.set(target, source, |t| {
            t.state = "ok".into();
            t.last_ok = Some(now());
            t.pending = 0;
            t.failing_since = None;
            t.last_error = None;
            t.retry_at = None;
        });
    }

    pub fn failing(&self, target: &str, source: &Path, error: &str, retry_in: std::time::Duration) {
        let retry = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::try_from(retry_in).unwrap_or_default())
            .map(|t| t.to_string())
            .ok();
        self.set(target, source, |t| {
            t.state = "failing".into();
            t.failing_since.get_or_insert_with(now);
            t.last_error = Some(error.to_string());
            t.retry_at = retry;
        });
    }

    pub fn waiting(&self, target: &str, source: &Path, error: &str) {
        self.set(target, source, |t| {
            t.state = "waiting".into();
            t.failing_since.get_or_insert_with(now);
            t.last_error = Some(error.to_string());
        });
    }
}

fn write(path: &Path, file: &WatchStatus) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec_pretty(file)?)?;
    std::fs::rename(&tmp, path)
}

/// The status file of a service that is running now (its pid alive), if there is one.
pub fn read_live(state_dir: &Path) -> Option<WatchStatus> {
    let bytes = std::fs::read(path(state_dir)).ok()?;
    let s: WatchStatus = serde_json::from_slice(&bytes).ok()?;
    Path::new(&format!("/proc/{}", s.pid)).exists().then_some(s)
}
