//! The release journal: what an in-flight release intends and how far it got, so that a
//! `kill -9` at any instant can be finished (`runner release`) or undone (`runner rollback`).

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil::{fsync_dir, write_durably};
use crate::plan::Change;

/// How far a release got. Each phase is written only once the work before it is durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Planned; backups may be partial.
    Planned,
    /// Every file to be replaced or removed is in the backup, with its manifest.
    BackedUp,
    /// Every new file sits fsynced under a temp name beside its target.
    Prepared,
    /// Renames are done: the deploy dir holds the new release.
    Committed,
    /// The restart was started; the app may be on either build.
    Restarted,
    /// Verification failed and the backup is being put back.
    RollingBack,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Release,
    Common,
    Rollback,
    /// `runner restart`: restart and verify, no file changed.
    Restart,
}

impl Kind {
    /// As a person reads it, in the chosen language (JSON says the lowercase name).
    pub fn shown(self) -> String {
        match self {
            Kind::Release => crate::t!("kind-release"),
            Kind::Common => crate::t!("kind-common"),
            Kind::Rollback => crate::t!("kind-rollback"),
            Kind::Restart => crate::t!("kind-restart"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    pub id: String,
    pub app: String,
    pub kind: Kind,
    pub phase: Phase,
    pub user: String,
    pub pid: u32,
    pub started: String,
    pub deploy: PathBuf,
    pub backup: PathBuf,
    pub restart: bool,
    /// For a rollback: the release it reverts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverts: Option<String>,
    /// For `rollback --to <id>`: the release whose state it returns to (every later one is
    /// reverted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_to: Option<String>,
    /// Why verification failed, once `RollingBack`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub changes: Vec<Change>,
}

fn path(state_dir: &Path, app: &str) -> PathBuf {
    state_dir.join("journal").join(format!("{app}.json"))
}

/// The journal of an interrupted release of `app`, if there is one.
pub fn load(state_dir: &Path, app: &str) -> Result<Option<Journal>> {
    let p = path(state_dir, app);
    match fs::read(&p) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            // en: an op code, worded by error.rs
            .map_err(|e| Error::io("parse journal", &p)(std::io::Error::other(e))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", &p)(e)),
    }
}

impl Journal {
    /// Durably records the journal (temp + fsync + rename + dir fsync).
    pub fn save(&self, state_dir: &Path) -> Result<()> {
        let p = path(state_dir, &self.app);
        let body =
            serde_json::to_vec_pretty(self).map_err(|e| Error::io("encode", &p)(e.into()))?;
        write_durably(&p, &body)
    }

    pub fn set_phase(&mut self, state_dir: &Path, phase: Phase) -> Result<()> {
        self.phase = phase;
        self.save(state_dir)?;
        crate::fault::point(match phase {
            Phase::Planned => "journal-planned",
            Phase::BackedUp => "journal-backed-up",
            Phase::Prepared => "journal-prepared",
            Phase::Committed => "journal-committed",
            Phase::Restarted => "journal-restarted",
            Phase::RollingBack => "journal-rolling-back",
        });
        Ok(())
    }

    /// Removes the journal once the release is recorded in history.
    pub fn remove(&self, state_dir: &Path) -> Result<()> {
        let p = path(state_dir, &self.app);
        match fs::remove_file(&p) {
            Ok(()) => fsync_dir(p.parent().unwrap()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &p)(e)),
        }
    }
}
