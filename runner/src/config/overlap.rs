//! Paths that must not overlap: a release reads an app's staging dir and writes its deploy dir,
//! and must never write into its own backups or state. Overlapping them replaced a live log
//! file and rewrote a backup before this check.

use std::path::{Component, Path, PathBuf};

use super::Config;
use crate::error::{Error, Overlap, Result};

/// The first overlap between the dirs of `cfg`, if any.
pub(super) fn check(cfg: &Config) -> Result<()> {
    let mut written: Vec<(String, &Path)> = Vec::new();
    let mut read: Vec<(String, &Path)> = Vec::new();
    for app in cfg.apps.values() {
        // A fleet app's deploy dir is on its hosts, not here.
        if app.hosts.is_empty() {
            written.push((format!("apps.{}.deploy", app.name), &app.deploy));
        }
        read.push((format!("apps.{}.staging", app.name), &app.staging));
    }
    for (s_key, s) in &read {
        for (d_key, d) in &written {
            if let Some(how) = relation(s, d) {
                return Err(overlap(cfg, s_key, s, how, d_key, d));
            }
        }
    }
    for (key, dir) in [
        ("backup_root", &cfg.backup_root),
        ("state_dir", &cfg.state_dir),
    ] {
        for (other_key, other) in written.iter().chain(&read) {
            // en: relation() names, not words (overlap() words them)
            if let Some(how @ ("is" | "is inside")) = relation(dir, other) {
                return Err(overlap(cfg, key, dir, how, other_key, other));
            }
        }
    }
    Ok(())
}

fn overlap(
    cfg: &Config,
    a: &str,
    a_path: &Path,
    how: &'static str,
    b: &str,
    b_path: &Path,
) -> Error {
    Error::Overlap(Box::new(Overlap {
        file: cfg.file.clone(),
        a: a.to_string(),
        a_path: a_path.to_path_buf(),
        how,
        b: b.to_string(),
        b_path: b_path.to_path_buf(),
    }))
}

/// How `a` stands to `b`: the same dir, inside it, or containing it. Judged on the paths as
/// written (`..` resolved) and, where they exist, as the kernel resolves them (symlinks). The
/// names are codes, worded for the operator by [`Overlap`]'s message.
fn relation(a: &Path, b: &Path) -> Option<&'static str> {
    let lexical = (normalize(a), normalize(b));
    let real = (std::fs::canonicalize(a).ok(), std::fs::canonicalize(b).ok());
    let pairs = [Some(lexical), real.0.zip(real.1)];
    pairs.into_iter().flatten().find_map(|(a, b)| {
        if a == b {
            Some("is")
        } else if a.starts_with(&b) {
            // en: a relation's name (see above)
            Some("is inside")
        } else if b.starts_with(&a) {
            Some("contains")
        } else {
            None
        }
    })
}

/// `p` with `.` dropped and `..` taken back, without asking the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations() {
        let r = |a: &str, b: &str| relation(Path::new(a), Path::new(b));
        assert_eq!(r("/opt/x", "/opt/x/"), Some("is"));
        assert_eq!(r("/opt/x/staging", "/opt/x"), Some("is inside"));
        assert_eq!(r("/opt", "/opt/x"), Some("contains"));
        assert_eq!(r("/opt/x/../y", "/opt/y"), Some("is"));
        assert_eq!(r("/opt/xy", "/opt/x"), None);
        assert_eq!(r("/a", "/b"), None);
    }
}
