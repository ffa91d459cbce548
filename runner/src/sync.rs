//! Pushing a staging dir to a target: `file://` and `ssh://` through `runner agent --stdio`
//! (manifests with sha256, then only changed files, then deletions; `sync/session.rs`), over
//! ssh (`sync/ssh.rs`), and `rsync://` through the system `rsync` (`sync/rsync.rs`). A staged
//! jar whose zip central directory does not read is never pushed.

mod mux;
mod rsync;
mod session;
mod ssh;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

pub use self::mux::keep_only;
pub use self::session::{Session, local_config};
pub use self::ssh::{AgentInstall, install_agent, share_connections};
use crate::address::Url;
use crate::agent::protocol::WireEntry;
use crate::config::{Config, SyncTarget};
use crate::error::{Error, Result};
use crate::hook::Hook;
use crate::i18n::Text;
use crate::inventory::{self, HashCache};
use crate::jar;
use crate::plan::Change;

/// Called around a batch that changes a target: (hook, app = the source dir's name, target,
/// the batch's changes, the error on `after-sync`) → the reason to stop, if a plugin said abort.
pub type SyncHook<'a> =
    &'a (dyn Fn(Hook, &str, &str, &[Change], Option<&str>) -> Option<String> + Sync);

pub(crate) fn app_of(source: &Path) -> String {
    source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What one sync did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub source: PathBuf,
    pub target: String,
    pub sent: usize,
    /// Of the files sent, those sent as a delta against the target's copy.
    pub delta: usize,
    pub bytes: u64,
    pub deleted: usize,
    pub unchanged: usize,
    /// Files not pushed (an incomplete jar), with why: `[{"path", "why"}]` in JSON (in English).
    #[serde(serialize_with = "skipped_json")]
    pub skipped: Skipped,
    pub ms: u64,
    /// Bytes written to and read from the transport (the agent's stdin and stdout), all
    /// messages included; 0 for `rsync://`.
    pub wire_sent: u64,
    pub wire_received: u64,
}

/// Whether a sync may empty its target. An unmounted share looks like a missing or empty
/// source, and `--delete` would then wipe every host: that needs the operator's say-so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Guard {
    /// A missing source, or an empty one against a target that has files, is an error.
    #[default]
    KeepTarget,
    /// `--allow-delete-all`.
    AllowDeleteAll,
}

impl From<bool> for Guard {
    fn from(allow_delete_all: bool) -> Guard {
        if allow_delete_all {
            Guard::AllowDeleteAll
        } else {
            Guard::KeepTarget
        }
    }
}

impl Guard {
    /// Refuses a missing source (before anything is asked of the target).
    pub(crate) fn source(self, target: &str, source: &Path) -> Result<()> {
        if self == Guard::KeepTarget && !source.is_dir() {
            return Err(Error::WouldEmpty {
                target: target.to_string(),
                why: crate::t!("sync-source-missing", source = source),
            });
        }
        Ok(())
    }

    /// Refuses a batch that leaves a target with files holding none.
    pub(crate) fn batch(
        self,
        target: &str,
        source: &Path,
        keep: usize,
        remote: usize,
    ) -> Result<()> {
        if self == Guard::KeepTarget && keep == 0 && remote > 0 {
            return Err(Error::WouldEmpty {
                target: target.to_string(),
                why: crate::t!("sync-source-empty", source = source, remote = remote),
            });
        }
        Ok(())
    }
}

/// Files held back, with why (shown in the chosen language, English in JSON).
type Skipped = Vec<(String, Text)>;

/// Why a file is held back: its archive does not read (the reason in English, as JSON has it).
pub(crate) fn incomplete(why: &impl std::fmt::Display) -> Text {
    crate::text!(
        "sync-incomplete-archive",
        why = crate::i18n::english(|| why.to_string())
    )
}

fn skipped_json<S: serde::Serializer>(v: &Skipped, s: S) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Skip<'a> {
        path: &'a str,
        why: &'a str,
    }
    let english: Vec<(&str, String)> = v
        .iter()
        .map(|(p, why)| (p.as_str(), why.english()))
        .collect();
    s.collect_seq(english.iter().map(|(path, why)| Skip { path, why }))
}

/// The local files of a source dir, hashed (cached), split into pushable and skipped. An
/// archive's central directory is read once per content (the verdict is cached with its hash).
pub(crate) fn local_manifest(cfg: &Config, source: &Path) -> Result<(Vec<WireEntry>, Skipped)> {
    let entries = inventory::walk(source, &globset::GlobSet::empty())?;
    let mut cache = HashCache::open(&cfg.state_dir, source);
    cache.fill(&entries);
    let r = checked(source, &entries, &mut cache);
    cache.retain(&entries);
    cache.save();
    r
}

/// The walked and hashed `entries` as wire entries, archives that do not read held back. The
/// zip check reads the file as it is now, which holds for the size and sha256 sent only if the
/// file is still what the walk saw: a jar truncated by its writer when listed and hashed, and
/// whole again when checked, would otherwise go out empty.
fn checked(
    source: &Path,
    entries: &[inventory::Entry],
    cache: &mut HashCache,
) -> Result<(Vec<WireEntry>, Skipped)> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for e in entries {
        if jar::is_archive(&e.rel) && !cache.zip_ok(e) {
            let path = source.join(&e.rel);
            let verdict = match jar::check(&path) {
                Ok(()) if !e.unchanged(source) => Err(jar::JarError::Changed { path }),
                v => v,
            };
            if let Err(why) = verdict {
                skipped.push((e.rel.clone(), incomplete(&why)));
                continue;
            }
            cache.mark_zip_ok(e);
        }
        out.push(WireEntry {
            path: e.rel.clone(),
            size: e.size,
            mode: e.mode,
            mtime_ns: e.mtime_ns,
            sha256: cache.hash(e, &mut |_| {})?,
        });
    }
    Ok((out, skipped))
}

/// One `[[sync]]` row, once.
pub fn run(
    cfg: &Config,
    row: &SyncTarget,
    hook: Option<SyncHook>,
    guard: Guard,
) -> Result<SyncReport> {
    guard.source(&row.target, &row.source)?;
    let t = Instant::now();
    let mut report = match &row.url {
        Url::Rsync(module) => {
            // rsync decides the file list itself: the hooks see the batch without its files.
            let app = app_of(&row.source);
            if let Some(reason) =
                hook.and_then(|h| h(Hook::BeforeSync, &app, &row.target, &[], None))
            {
                return Err(Error::Sync {
                    target: row.target.clone(),
                    message: reason,
                });
            }
            let r = rsync::rsync(row, module, guard);
            if let Some(h) = hook {
                let err = r.as_ref().err().map(|e| e.to_string());
                let _ = h(Hook::AfterSync, &app, &row.target, &[], err.as_deref());
            }
            r?
        }
        _ => {
            let mut s = Session::open(row)?;
            let r = s.reconcile(cfg, &row.source, hook, guard);
            if r.is_ok() {
                s.close(true);
            }
            r?
        }
    };
    report.source = row.source.clone();
    report.target = row.target.clone();
    report.ms = t.elapsed().as_millis() as u64;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jar::tests::jar;

    /// A jar its writer had truncated when it was listed and hashed, and has written whole by
    /// the time its zip directory is read: held back, never sent as the empty file it was.
    #[test]
    fn a_jar_rewritten_after_it_was_hashed_is_held_back() {
        let dir = std::env::temp_dir().join(format!("runner-sync-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (src, state) = (dir.join("src"), dir.join("state"));
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("app.jar"), b"").unwrap();
        jar(&src.join("lib.jar"), &[("a.class", b"class bytes")]);
        let entries = inventory::walk(&src, &globset::GlobSet::empty()).unwrap();
        let mut cache = HashCache::open(&state, &src);
        cache.fill(&entries);
        // The writer (cp) finishes after the hash and before the check.
        jar(&src.join("app.jar"), &[("a.class", b"class bytes")]);
        let (out, skipped) = checked(&src, &entries, &mut cache).unwrap();
        let sent: Vec<&str> = out.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(sent, ["lib.jar"]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].0, "app.jar");
        assert!(
            skipped[0].1.english().contains("changed while it was read"),
            "{}",
            skipped[0].1.english()
        );
        // Listed again, whole: it goes.
        let entries = inventory::walk(&src, &globset::GlobSet::empty()).unwrap();
        cache.fill(&entries);
        let (out, skipped) = checked(&src, &entries, &mut cache).unwrap();
        assert_eq!(out.len(), 2);
        assert!(skipped.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
