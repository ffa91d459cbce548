//! Backups: every file a release replaces or removes is copied to
//! `<backup_root>/<app>/<release-id>/files/` beside a manifest, before anything is installed.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil::write_durably;
use crate::install;
use crate::journal::Kind;
use crate::plan::{Action, Change};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub app: String,
    pub kind: Kind,
    pub created: String,
    pub deploy: PathBuf,
    /// Every change of the release; `old` content of replaced/removed files is under `files/`.
    pub changes: Vec<Change>,
}

/// The backup dir of one release.
pub fn dir(backup_root: &Path, app: &str, id: &str) -> PathBuf {
    backup_root.join(app).join(id)
}

/// Copies the old content of every replaced or removed file into `dir`, checking it is still
/// what the plan saw, then writes the manifest. Returns the number of files backed up.
pub fn run(dir: &Path, manifest: &Manifest) -> Result<usize> {
    let files = dir.join("files");
    fs::create_dir_all(&files).map_err(Error::io("create", &files))?;
    let mut n = 0;
    for c in &manifest.changes {
        let Some(old) = &c.old else { continue };
        if !matches!(c.action, Action::Modified | Action::Removed) {
            continue;
        }
        let src = manifest.deploy.join(&c.path);
        let dst = files.join(&c.path);
        install::copy_verified(&src, &dst, old).map_err(|e| match e {
            // The release records this message in its history: English (shown so too).
            Error::Changed { path, .. } => Error::Release {
                app: manifest.app.clone(),
                message: crate::text!("backup-changed", path = &path),
            },
            e => e,
        })?;
        n += 1;
        crate::fault::point("backup-file");
    }
    let body =
        serde_json::to_vec_pretty(manifest).map_err(|e| Error::io("encode", dir)(e.into()))?;
    write_durably(&dir.join("manifest.json"), &body)?;
    Ok(n)
}

pub fn load(dir: &Path) -> Result<Manifest> {
    let p = dir.join("manifest.json");
    let b = fs::read(&p).map_err(Error::io("read", &p))?;
    serde_json::from_slice(&b).map_err(|e| Error::io("parse", &p)(std::io::Error::other(e)))
}

/// Removes the oldest backups of `app` beyond `keep`, never one named in `protect`.
pub fn prune(backup_root: &Path, app: &str, keep: usize, protect: &[&str]) -> Vec<String> {
    let root = backup_root.join(app);
    let Ok(rd) = fs::read_dir(&root) else {
        return Vec::new();
    };
    let mut all: Vec<(String, String)> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            let id = e.file_name().to_str()?.to_string();
            let created = load(&e.path()).map(|m| m.created).unwrap_or_default();
            Some((created, id))
        })
        .collect();
    all.sort();
    let excess = all.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for (_, id) in all.into_iter().take(excess) {
        if protect.contains(&id.as_str()) {
            continue;
        }
        match fs::remove_dir_all(root.join(&id)) {
            Ok(()) => removed.push(id),
            Err(e) => tracing::warn!(
                %app,
                %id,
                "{}",
                crate::t!("backup-cannot-prune", error = e.to_string())
            ),
        }
    }
    removed
}
