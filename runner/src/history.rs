//! Release records under `<state_dir>/history/<app>/<release-id>.json`, one file per release.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil::write_durably;
use crate::journal::{Journal, Kind};
use crate::outcome::HostReport;
pub use crate::outcome::Outcome;
use crate::plan::{Action, Change};

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

impl FileRecord {
    fn from_change(c: &Change) -> FileRecord {
        FileRecord {
            path: c.path.clone(),
            action: c.action,
            old_sha256: c.old.as_ref().map(|m| m.sha256.clone()),
            new_sha256: c.new.as_ref().map(|m| m.sha256.clone()),
            size: c
                .new
                .as_ref()
                .or(c.old.as_ref())
                .map(|m| m.size)
                .unwrap_or(0),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: String,
    pub ok: bool,
    pub ms: u64,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub detail: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One hook call, as the release history records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HookCall {
    pub plugin: String,
    pub hook: String,
    /// The host a fleet's central hook was called for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The hosts of the batch a `before-batch` / `after-batch` call was for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch: Vec<String>,
    pub decision: String,
    pub micros: u64,
    /// How long the call waited for the plugin's earlier calls to end (its calls never overlap).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub waited_micros: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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
    /// `rollback --to`: the release whose state it returned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub resumed: bool,
    pub files: Vec<FileRecord>,
    pub steps: Vec<StepRecord>,
    /// Every plugin hook call: plugin, hook, decision, duration.
    #[serde(default)]
    pub hooks: Vec<HookCall>,
    /// A fleet release (recorded on the central box): each host's outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostReport>,
}

impl Record {
    /// The record of a release that ended as `outcome`, from its journal.
    pub fn from_journal(
        j: &Journal,
        outcome: Outcome,
        error: Option<String>,
        resumed: bool,
        duration_ms: u64,
    ) -> Record {
        Record {
            id: j.id.clone(),
            app: j.app.clone(),
            kind: j.kind,
            host: crate::host::hostname(),
            user: j.user.clone(),
            started: j.started.clone(),
            finished: jiff::Timestamp::now().to_string(),
            duration_ms,
            outcome,
            reverts: j.reverts.clone(),
            back_to: j.back_to.clone(),
            error,
            resumed,
            files: j.changes.iter().map(FileRecord::from_change).collect(),
            steps: Vec::new(),
            hooks: Vec::new(),
            hosts: Vec::new(),
        }
    }

    /// With the steps it took and the plugin hook calls it made.
    pub fn with_steps(self, steps: Vec<StepRecord>, hooks: Vec<HookCall>) -> Record {
        Record {
            steps,
            hooks,
            ..self
        }
    }

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
                None => tracing::warn!(path = %p.display(), "{}", crate::t!("history-unreadable")),
            }
        }
    }
    out.sort_by(|a, b| a.started.cmp(&b.started).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

/// The newest successful release or common install of `app` that no later rollback reverted:
/// what `runner rollback <app>` undoes.
pub fn last_revertible(records: &[Record]) -> Option<&Record> {
    let mut reverted: Vec<&str> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if r.kind != Kind::Rollback || r.outcome != Outcome::Success {
            continue;
        }
        reverted.extend(r.reverts.as_deref());
        // `rollback --to X` reverted everything between X and itself.
        if let Some(x) = r.back_to.as_deref()
            && let Some(from) = records.iter().position(|o| o.id == x)
        {
            reverted.extend(records[from + 1..i].iter().map(|o| o.id.as_str()));
        }
    }
    records.iter().rev().find(|r| {
        r.outcome == Outcome::Success
            && r.hosts.is_empty()
            && !matches!(r.kind, Kind::Rollback | Kind::Restart)
            && !reverted.contains(&r.id.as_str())
    })
}
