//! Staged vs deployed → a `Plan`: which deployed paths a release adds, modifies, removes or leaves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::i18n::Text;
use crate::text;

use crate::config::{App, Config};
use crate::error::Result;
use crate::inventory::{self, Entry, FileMeta, HashCache};
use crate::jar::{self, EntryDiff};
use crate::progress::Progress;

mod maven;

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
    /// An added jar that is a new version of these deployed ones (removed beside it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_of: Option<String>,
}

/// Something that stops a release before anything is touched.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Problem {
    pub path: PathBuf,
    pub reason: Text,
    /// The staged archive does not read as a zip (else: the plan itself is ambiguous).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bad_zip: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub app: String,
    pub staging: PathBuf,
    pub deploy: PathBuf,
    pub changes: Vec<Change>,
    pub problems: Vec<Problem>,
    /// What the operator should know before releasing (a file added where nothing matched, a
    /// staged symlink left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Text>,
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

/// What to hash: (tree root, walk entry) pairs, hashed with one progress bar. Whatever the
/// caches lack is hashed up front on every core, staged and deployed trees together.
struct Hasher {
    caches: BTreeMap<PathBuf, HashCache>,
    progress: Progress,
}

impl Hasher {
    fn new(state_dir: &Path, jobs: &[(&Path, &[Entry])], label: &str) -> Hasher {
        let mut caches = BTreeMap::new();
        let mut todo: Vec<(&Path, &Entry)> = Vec::new();
        for (root, entries) in jobs {
            let cache = caches
                .entry(root.to_path_buf())
                .or_insert_with(|| HashCache::open(state_dir, root));
            todo.extend(
                entries
                    .iter()
                    .filter(|e| !cache.is_cached(e))
                    .map(|e| (*root, e)),
            );
        }
        let progress = Progress::bytes(label, todo.iter().map(|(_, e)| e.size).sum());
        let hashed = inventory::hash_many(&todo, &|n| progress.inc(n));
        // A file that failed is hashed again when asked for, and fails there with its error.
        for ((root, e), sha) in todo.iter().zip(hashed) {
            if let (Some(cache), Ok(sha)) = (caches.get_mut(*root), sha) {
                cache.remember(e, sha);
            }
        }
        Hasher { caches, progress }
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

/// What a staged file does to the deploy dir.
enum Target {
    /// Replaces these deployed files in place (the same path, or the same name elsewhere).
    Replace(Vec<usize>),
    /// Added at its own path.
    Add,
    /// A new version of a deployed artifact (`lib/x-1.0.jar` → `x-1.1.jar`): added in the old
    /// one's dir, the old versions removed.
    Upgrade { dir: String, old: Vec<usize> },
}

/// The staged files matched against the deployed ones.
struct Matched {
    targets: Vec<Target>,
    /// Deployed entries a staged file replaces, and which one.
    claimed: BTreeMap<usize, usize>,
    problems: Vec<Problem>,
    warnings: Vec<Text>,
}

/// A staged file replaces the deployed file at its path; else every deployed file of its name
/// (the old `find -name`); else, for `name-<version>.jar`, the deployed versions of that
/// artifact in their dir; else it is added at its path.
fn match_staged(app: &App, staged: &[Entry], deployed: &[Entry]) -> Matched {
    let by_rel: BTreeMap<&str, usize> = deployed
        .iter()
        .enumerate()
        .map(|(i, e)| (e.rel.as_str(), i))
        .collect();
    let by_name = inventory::by_name(deployed);
    let mut m = Matched {
        targets: Vec::with_capacity(staged.len()),
        claimed: BTreeMap::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    for (si, s) in staged.iter().enumerate() {
        let name = s.rel.rsplit('/').next().unwrap_or(&s.rel);
        let target = match by_rel.get(s.rel.as_str()) {
            Some(&i) => Target::Replace(vec![i]),
            None => match by_name.get(name) {
                Some(t) => Target::Replace(t.clone()),
                None => versioned(app, s, name, deployed, &mut m),
            },
        };
        let replaced = match &target {
            Target::Replace(t) => t.as_slice(),
            Target::Upgrade { old, .. } => old.as_slice(),
            Target::Add => &[],
        };
        for &di in replaced {
            if let Some(&other) = m.claimed.get(&di) {
                m.problems.push(Problem {
                    path: app.staging.join(&s.rel),
                    reason: text!(
                        "plan-both-replace",
                        one = &staged[other].rel,
                        other = &s.rel,
                        deployed = &deployed[di].rel
                    ),
                    bad_zip: false,
                });
            }
            m.claimed.insert(di, si);
        }
        m.targets.push(target);
    }
    m
}

/// A staged file with no deployed file of its path or name: an upgrade of a deployed
/// artifact, or an addition (said in a warning when the app has files: it may be a typo).
fn versioned(app: &App, s: &Entry, name: &str, deployed: &[Entry], m: &mut Matched) -> Target {
    let old: Vec<usize> = maven::parse(name)
        .map(|new| {
            deployed
                .iter()
                .enumerate()
                .filter(|(_, d)| {
                    let dn = d.rel.rsplit('/').next().unwrap_or(&d.rel);
                    maven::parse(dn).is_some_and(|o| maven::same_artifact(&new, &o))
                })
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default();
    let dir_of = |rel: &str| rel.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    let dirs: std::collections::BTreeSet<String> =
        old.iter().map(|&i| dir_of(&deployed[i].rel)).collect();
    match dirs.len() {
        0 => {
            if !deployed.is_empty() {
                m.warnings.push(text!(
                    "plan-added-as",
                    staged = &s.rel,
                    path = app.deploy.join(&s.rel)
                ));
            }
            Target::Add
        }
        1 => Target::Upgrade {
            dir: dirs.into_iter().next().unwrap_or_default(),
            old,
        },
        _ => {
            let found: Vec<&str> = old.iter().map(|&i| deployed[i].rel.as_str()).collect();
            m.problems.push(Problem {
                path: app.staging.join(&s.rel),
                reason: text!("plan-several-dirs", found = found.join(", ")),
                bad_zip: false,
            });
            Target::Add
        }
    }
}

pub fn plan_release(cfg: &Config, app: &App, opts: PlanOptions) -> Result<Plan> {
    let staged = inventory::walk(&app.staging, &globset::GlobSet::empty())?;
    let deployed = inventory::walk(&app.deploy, &app.excluded)?;
    let Matched {
        targets,
        claimed,
        problems,
        mut warnings,
    } = match_staged(app, &staged, &deployed);
    for link in inventory::symlinks(&app.staging) {
        warnings.push(text!("plan-symlink", link = link));
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
        let added = |path: String, upgrade_of: Option<String>| Change {
            action: Action::Added,
            path,
            source: Some(source.clone()),
            old: None,
            new: Some(new.clone()),
            entries: None,
            upgrade_of,
        };
        match t {
            Target::Add => changes.push(added(s.rel.clone(), None)),
            Target::Upgrade { dir, old } => {
                let name = s.rel.rsplit('/').next().unwrap_or(&s.rel);
                let path = if dir.is_empty() {
                    name.to_string()
                } else {
                    format!("{dir}/{name}")
                };
                let olds: Vec<&str> = old.iter().map(|&i| deployed[i].rel.as_str()).collect();
                changes.push(added(path, Some(olds.join(", "))));
                for &di in old {
                    changes.push(removal(&mut hasher, app, &deployed[di])?);
                }
            }
            Target::Replace(t) => {
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
                        upgrade_of: None,
                    });
                }
            }
        }
    }
    for &di in &removed {
        changes.push(removal(&mut hasher, app, &deployed[di])?);
    }
    hasher.finish(&[(&app.staging, &staged), (&app.deploy, &deployed)]);
    let mut plan = finish(app, &app.staging, changes, problems, opts)?;
    plan.warnings = warnings;
    Ok(plan)
}

fn removal(hasher: &mut Hasher, app: &App, d: &Entry) -> Result<Change> {
    Ok(Change {
        action: Action::Removed,
        path: d.rel.clone(),
        source: None,
        old: Some(hasher.meta(&app.deploy, d)?),
        new: None,
        entries: None,
        upgrade_of: None,
    })
}

/// The staged common libs that no app (of `apps`) has a jar of that name for: they go nowhere.
pub fn unmatched_common(cfg: &Config, apps: &[&App]) -> Result<Vec<String>> {
    let libs: Vec<Entry> = inventory::walk(&cfg.common, &globset::GlobSet::empty())?
        .into_iter()
        .filter(|e| !e.rel.contains('/') && jar::is_archive(&e.rel))
        .collect();
    let mut unmatched: std::collections::BTreeSet<String> =
        libs.into_iter().map(|e| e.rel).collect();
    for app in apps {
        for d in inventory::walk(&app.deploy, &app.excluded)? {
            let name = d.rel.rsplit('/').next().unwrap_or(&d.rel);
            unmatched.remove(name);
        }
    }
    Ok(unmatched.into_iter().collect())
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
                upgrade_of: None,
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
                reason: Text::new(move || reason.to_string()),
                bad_zip: true,
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
        warnings: Vec::new(),
    })
}
