//! Release records under `<state_dir>/history/<app>/<release-id>.json`, one file per release.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::journal::{Kind, write_durably};
use crate::plan::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Installed, restarted and verified (or installed with `--no-restart`).
    Success,
    /// Verification failed; the backup was put back and the old build verified.
    RolledBack,
    /// Verification failed and so did putting the old build back.
    RollbackFailed,
    /// Failed before anything was installed.
    Failed,
    /// Interrupted, then undone by `runner rollback`.
    Undone,
}

impl Outcome {
    /// The name in history JSON and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::RolledBack => "rolled-back",
            Outcome::RollbackFailed => "rollback-failed",
            Outcome::Failed => "failed",
            Outcome::Undone => "undone",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileRecord {
    pub path: String,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_sha256: Option<String>,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: String,
    pub ok: bool,
    pub ms: u64,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub app: String,
    pub kind: Kind,
    pub host: String,
    pub user: String,
    pub started: String,
    pub finished: String,
    pub duration_ms: u64,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverts: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub resumed: bool,
    pub files: Vec<FileRecord>,
    pub steps: Vec<StepRecord>,
    /// Every plugin hook call: plugin, hook, decision, duration.
    #[serde(default)]
    pub hooks: Vec<crate::plugin::HookCall>,
    /// A fleet release (recorded on the central box): each host's outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<crate::fleet::HostReport>,
}

impl Record {
    pub fn save(&self, state_dir: &Path) -> Result<()> {
        let p = state_dir
            .join("history")
            .join(&self.app)
            .join(format!("{}.json", self.id));
        let body =
            serde_json::to_vec_pretty(self).map_err(|e| Error::io("encode", &p)(e.into()))?;
        write_durably(&p, &body)
    }
}

/// Every record of `app` (or of all apps), oldest first.
pub fn load(state_dir: &Path, app: Option<&str>) -> Result<Vec<Record>> {
    let root = state_dir.join("history");
    let apps: Vec<String> = match app {
        Some(a) => vec![a.to_string()],
        None => match fs::read_dir(&root) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect(),
            Err(_) => Vec::new(),
        },
    };
    let mut out = Vec::new();
    for a in apps {
        let dir = root.join(&a);
        let Ok(rd) = fs::read_dir(&dir) else { continue };
        for e in rd.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.extension().is_none_or(|x| x != "json") {
                continue;
            }
            match fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice::<Record>(&b).ok())
            {
                Some(r) => out.push(r),
                None => tracing::warn!(path = %p.display(), "skipping unreadable history record"),
            }
        }
    }
    out.sort_by(|a, b| a.started.cmp(&b.started).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

/// The newest successful release or common install of `app` that no later rollback reverted:
/// what `runner rollback <app>` undoes.
pub fn last_revertible(records: &[Record]) -> Option<&Record> {
    let reverted: Vec<&str> = records
        .iter()
        .filter(|r| r.kind == Kind::Rollback && r.outcome == Outcome::Success)
        .filter_map(|r| r.reverts.as_deref())
        .collect();
    records.iter().rev().find(|r| {
        r.outcome == Outcome::Success
            && r.hosts.is_empty()
            && r.kind != Kind::Rollback
            && !reverted.contains(&r.id.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_names_match_the_history_json() {
        for o in [
            Outcome::Success,
            Outcome::RolledBack,
            Outcome::RollbackFailed,
            Outcome::Failed,
            Outcome::Undone,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.name());
        }
    }
}
