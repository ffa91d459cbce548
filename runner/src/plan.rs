//! Staged vs deployed → a `Plan`: which deployed paths a release adds, modifies, removes or leaves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{App, Config};
use crate::error::Result;
use crate::inventory::{self, Entry, FileMeta, HashCache};
use crate::jar::{self, EntryDiff};
use crate::progress::Progress;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Added,
    Modified,
    Removed,
    Unchanged,
}

/// One deployed path and what the release does to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    pub action: Action,
    /// Path relative to the deploy dir, `/`-separated.
    pub path: String,
    /// The file the new content comes from (a staged file, or a backup copy for rollbacks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<FileMeta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<FileMeta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<EntryDiff>,
}

/// Something that stops a release before anything is touched.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Problem {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub app: String,
    pub staging: PathBuf,
    pub deploy: PathBuf,
    pub changes: Vec<Change>,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Diff jar entries of modified archives.
    pub entries: bool,
}

impl Plan {
    /// The changes a release would carry out (everything but unchanged).
    pub fn pending(&self) -> Vec<Change> {
        self.changes
            .iter()
            .filter(|c| c.action != Action::Unchanged)
            .cloned()
            .collect()
    }

    pub fn count(&self, a: Action) -> usize {
        self.changes.iter().filter(|c| c.action == a).count()
    }
}

/// What to hash: (tree root, walk entry) pairs, hashed with one progress bar.
struct Hasher {
    caches: BTreeMap<PathBuf, HashCache>,
    progress: Progress,
}

impl Hasher {
    fn new(state_dir: &Path, jobs: &[(&Path, &[Entry])], label: &str) -> Hasher {
        let mut caches = BTreeMap::new();
        let mut total = 0;
        for (root, entries) in jobs {
            let cache = caches
                .entry(root.to_path_buf())
                .or_insert_with(|| HashCache::open(state_dir, root));
            total += entries
                .iter()
                .filter(|e| !cache.is_cached(e))
                .map(|e| e.size)
                .sum::<u64>();
        }
        Hasher {
            caches,
            progress: Progress::bytes(label, total),
        }
    }

    fn meta(&mut self, root: &Path, e: &Entry) -> Result<FileMeta> {
        let cache = self
            .caches
            .get_mut(root)
            .expect("every root is opened in Hasher::new");
        let p = &self.progress;
        let sha256 = cache.hash(e, &mut |n| p.inc(n))?;
        Ok(FileMeta {
            sha256,
            size: e.size,
            mode: e.mode,
            mtime_ns: e.mtime_ns,
        })
    }

    fn finish(self, present: &[(&Path, &[Entry])]) {
        self.progress.finish();
        let mut caches = self.caches;
        for (root, entries) in present {
            if let Some(c) = caches.get_mut(*root) {
                c.retain(entries);
            }
        }
        for (_, c) in caches {
            c.save();
        }
    }
}

/// Plans a release of `app`: its staging dir against its deploy dir.
pub fn plan_release(cfg: &Config, app: &App, opts: PlanOptions) -> Result<Plan> {
    let staged = inventory::walk(&app.staging, &globset::GlobSet::empty())?;
    let deployed = inventory::walk(&app.deploy, &app.excluded)?;
    let by_rel: BTreeMap<&str, usize> = deployed
        .iter()
        .enumerate()
        .map(|(i, e)| (e.rel.as_str(), i))
        .collect();
    let by_name = inventory::by_name(&deployed);

    // Which deployed entries each staged file replaces (empty: added at its own path).
    let mut targets: Vec<Vec<usize>> = Vec::with_capacity(staged.len());
    let mut claimed: BTreeMap<usize, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for (si, s) in staged.iter().enumerate() {
        let name = s.rel.rsplit('/').next().unwrap_or(&s.rel);
        let t: Vec<usize> = match by_rel.get(s.rel.as_str()) {
            Some(&i) => vec![i],
            None => by_name.get(name).cloned().unwrap_or_default(),
        };
        for &di in &t {
            if let Some(&other) = claimed.get(&di) {
                problems.push(Problem {
                    path: app.staging.join(&s.rel),
                    reason: format!(
                        "both {} and {} would replace {}; stage only one",
                        staged[other].rel, s.rel, deployed[di].rel
                    ),
                });
            }
            claimed.insert(di, si);
        }
        targets.push(t);
    }

    let removed: Vec<usize> = if app.mirror {
        (0..deployed.len())
            .filter(|i| !claimed.contains_key(i))
            .collect()
    } else {
        Vec::new()
    };
    let deployed_to_hash: Vec<Entry> = claimed
        .keys()
        .chain(removed.iter())
        .map(|&i| deployed[i].clone())
        .collect();
    let jobs: [(&Path, &[Entry]); 2] = [(&app.staging, &staged), (&app.deploy, &deployed_to_hash)];
    let mut hasher = Hasher::new(&cfg.state_dir, &jobs, &format!("hashing {}", app.name));

    let mut changes = Vec::new();
    for (s, t) in staged.iter().zip(&targets) {
        let new = hasher.meta(&app.staging, s)?;
        let source = app.staging.join(&s.rel);
        if t.is_empty() {
            changes.push(Change {
                action: Action::Added,
                path: s.rel.clone(),
                source: Some(source),
                old: None,
                new: Some(new),
                entries: None,
            });
            continue;
        }
        for &di in t {
            let d = &deployed[di];
            let old = hasher.meta(&app.deploy, d)?;
            let action = if old.sha256 == new.sha256 {
                Action::Unchanged
            } else {
                Action::Modified
            };
            changes.push(Change {
                action,
                path: d.rel.clone(),
                source: Some(source.clone()),
                old: Some(old),
                new: Some(new.clone()),
                entries: None,
            });
        }
    }
    for &di in &removed {
        let d = &deployed[di];
        changes.push(Change {
            action: Action::Removed,
            path: d.rel.clone(),
            source: None,
            old: Some(hasher.meta(&app.deploy, d)?),
            new: None,
            entries: None,
        });
    }
    hasher.finish(&[(&app.staging, &staged), (&app.deploy, &deployed)]);
    finish(app, &app.staging, changes, problems, opts)
}

/// Plans installing the staged common libs into `app`: each replaces every deployed file of
/// the same name; a lib the app does not have is never added.
pub fn plan_common(cfg: &Config, app: &App, opts: PlanOptions) -> Result<Plan> {
    let libs: Vec<Entry> = inventory::walk(&cfg.common, &globset::GlobSet::empty())?
        .into_iter()
        .filter(|e| !e.rel.contains('/') && jar::is_archive(&e.rel))
        .collect();
    let deployed = inventory::walk(&app.deploy, &app.excluded)?;
    let by_name = inventory::by_name(&deployed);
    let hits: Vec<Entry> = libs
        .iter()
        .flat_map(|l| by_name.get(l.rel.as_str()).into_iter().flatten())
        .map(|&i| deployed[i].clone())
        .collect();
    let jobs: [(&Path, &[Entry]); 2] = [(&cfg.common, &libs), (&app.deploy, &hits)];
    let mut hasher = Hasher::new(&cfg.state_dir, &jobs, &format!("hashing {}", app.name));
    let mut changes = Vec::new();
    for l in &libs {
        let Some(matches) = by_name.get(l.rel.as_str()) else {
            continue;
        };
        let new = hasher.meta(&cfg.common, l)?;
        for &di in matches {
            let d = &deployed[di];
            let old = hasher.meta(&app.deploy, d)?;
            changes.push(Change {
                action: if old.sha256 == new.sha256 {
                    Action::Unchanged
                } else {
                    Action::Modified
                },
                path: d.rel.clone(),
                source: Some(cfg.common.join(&l.rel)),
                old: Some(old),
                new: Some(new.clone()),
                entries: None,
            });
        }
    }
    hasher.finish(&[(&cfg.common, &libs)]);
    finish(app, &cfg.common, changes, Vec::new(), opts)
}

/// Validates the archives about to be installed and, if asked, diffs their entries.
fn finish(
    app: &App,
    staging: &Path,
    mut changes: Vec<Change>,
    mut problems: Vec<Problem>,
    opts: PlanOptions,
) -> Result<Plan> {
    changes.sort_by(|a, b| a.action.cmp(&b.action).then_with(|| a.path.cmp(&b.path)));
    let mut checked = std::collections::BTreeSet::new();
    for c in &mut changes {
        if !matches!(c.action, Action::Added | Action::Modified) {
            continue;
        }
        let Some(src) = &c.source else { continue };
        if !jar::is_archive(&c.path) {
            continue;
        }
        if checked.insert(src.clone())
            && let Err(reason) = jar::check(src)
        {
            problems.push(Problem {
                path: src.clone(),
                reason: reason.to_string(),
            });
            continue;
        }
        if opts.entries && c.action == Action::Modified {
            let old = app.deploy.join(&c.path);
            c.entries = jar::diff(&old, src).ok();
        }
    }
    Ok(Plan {
        app: app.name.clone(),
        staging: staging.to_path_buf(),
        deploy: app.deploy.clone(),
        changes,
        problems,
    })
}
