//! What runner last left in an app's deploy dir: each file's sha256, written when a release,
//! a rollback or a common install ends with the tree in a known state. `runner status` holds
//! the deploy dir against it: a jar copied by hand since is drift.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::App;
use crate::error::{Error, Result};
use crate::fsutil::write_durably;
use crate::inventory::{self, HashCache};

/// The deploy dir as runner left it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The release (or rollback) that left it so.
    pub id: String,
    /// When, RFC 3339.
    pub written: String,
    /// Path relative to the deploy dir → sha256.
    pub files: BTreeMap<String, String>,
}

/// How the deploy dir differs from its manifest.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Drift {
    /// Content differs.
    pub changed: Vec<String>,
    /// Not in the manifest (copied in by hand).
    pub added: Vec<String>,
    /// In the manifest, gone now.
    pub missing: Vec<String>,
}

impl Drift {
    pub fn count(&self) -> usize {
        self.changed.len() + self.added.len() + self.missing.len()
    }

    /// Every drifted path, marked `~` changed, `+` added, `-` missing.
    pub fn lines(&self) -> Vec<String> {
        let mark = |m: &str, v: &[String]| v.iter().map(|p| format!("{m} {p}")).collect::<Vec<_>>();
        let mut out = mark("~", &self.changed);
        out.extend(mark("+", &self.added));
        out.extend(mark("-", &self.missing));
        out
    }
}

fn path(state_dir: &Path, app: &str) -> PathBuf {
    state_dir.join("manifests").join(format!("{app}.json"))
}

/// The deploy dir's files and their sha256 now (the hash cache answers for unchanged files:
/// a stat walk).
fn scan(state_dir: &Path, app: &App) -> Result<BTreeMap<String, String>> {
    let entries = inventory::walk(&app.deploy, &app.excluded)?;
    let mut cache = HashCache::open(state_dir, &app.deploy);
    let mut files = BTreeMap::new();
    for e in &entries {
        files.insert(e.rel.clone(), cache.hash(e, &mut |_| {})?);
    }
    cache.retain(&entries);
    cache.save();
    Ok(files)
}

/// Records the deploy dir as it stands, left so by release `id`.
pub fn record(state_dir: &Path, app: &App, id: &str) -> Result<()> {
    let m = Manifest {
        id: id.to_string(),
        written: jiff::Timestamp::now().to_string(),
        files: scan(state_dir, app)?,
    };
    let body = serde_json::to_vec(&m).map_err(|e| Error::Internal(e.to_string()))?;
    write_durably(&path(state_dir, &app.name), &body)
}

/// The app's manifest, if a release has written one.
pub fn load(state_dir: &Path, app: &str) -> Option<Manifest> {
    let bytes = std::fs::read(path(state_dir, app)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// How the deploy dir differs from `m`.
pub fn drift(state_dir: &Path, app: &App, m: &Manifest) -> Result<Drift> {
    let now = scan(state_dir, app)?;
    let mut d = Drift::default();
    for (p, sha) in &now {
        match m.files.get(p) {
            Some(was) if was == sha => {}
            Some(_) => d.changed.push(p.clone()),
            None => d.added.push(p.clone()),
        }
    }
    d.missing = m
        .files
        .keys()
        .filter(|p| !now.contains_key(*p))
        .cloned()
        .collect();
    Ok(d)
}
