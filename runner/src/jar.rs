//! Jars as zips: is a staged jar complete, and which entries differ between two jars.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zip::result::ZipError;

/// Why a file is not a complete, readable zip.
#[derive(Debug, thiserror::Error)]
pub enum JarError {
    #[error("{source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{source}")]
    Metadata {
        path: PathBuf,
        source: std::io::Error,
    },

    /// No end of central directory, or one that does not read: not a zip, or cut short.
    #[error("{source}")]
    NotZip { path: PathBuf, source: ZipError },

    #[error("{source}")]
    BadEntry {
        path: PathBuf,
        index: usize,
        source: ZipError,
    },

    /// The central directory lists data the file does not hold: an upload still running.
    #[error("{}", crate::t!("jar-truncated", entry = .entry))]
    Truncated { path: PathBuf, entry: String },

    #[error("{}", crate::t!("jar-empty"))]
    Empty { path: PathBuf },

    /// It read as a zip, but it is no longer the file that was listed and hashed: still being
    /// written.
    #[error("{}", crate::t!("jar-changed"))]
    Changed { path: PathBuf },
}

/// Whether a file name is a zip-format archive runner should check before touching anything.
pub fn is_archive(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".jar", ".war", ".ear", ".zip"]
        .iter()
        .any(|s| lower.ends_with(s))
}

/// Checks that `path` is a complete zip: the central directory reads and every entry's
/// local header lies inside the file. A truncated or still-uploading jar fails here.
pub fn check(path: &Path) -> Result<(), JarError> {
    entries(path).map(|_| ())
}

/// The entries of a zip: name → (crc32, uncompressed size).
pub fn entries(path: &Path) -> Result<BTreeMap<String, (u32, u64)>, JarError> {
    let f = File::open(path).map_err(|source| JarError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let len = f
        .metadata()
        .map_err(|source| JarError::Metadata {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    read_entries(BufReader::new(f), len, path)
}

/// The entries of a zip read from `r`, `len` bytes long; `path` names it in errors. (What the
/// fuzz target feeds arbitrary bytes.)
pub fn read_entries<R: std::io::Read + std::io::Seek>(
    r: R,
    len: u64,
    path: &Path,
) -> Result<BTreeMap<String, (u32, u64)>, JarError> {
    let mut z = zip::ZipArchive::new(r).map_err(|source| JarError::NotZip {
        path: path.to_path_buf(),
        source,
    })?;
    let bad_entry = |index| {
        move |source| JarError::BadEntry {
            path: path.to_path_buf(),
            index,
            source,
        }
    };
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let e = z.by_index_raw(i).map_err(bad_entry(i))?;
        let name = e.name().map_err(bad_entry(i))?.to_string();
        let end = e
            .data_start()
            .unwrap_or(0)
            .saturating_add(e.compressed_size());
        if end > len {
            return Err(JarError::Truncated {
                path: path.to_path_buf(),
                entry: name,
            });
        }
        out.insert(name, (e.crc32(), e.size()));
    }
    if out.is_empty() {
        return Err(JarError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

/// Which entries a new jar adds, removes or changes against the old one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EntryDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl EntryDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Compares the central directories of two jars (crc32 + size per entry; nothing is inflated).
pub fn diff(old: &Path, new: &Path) -> Result<EntryDiff, JarError> {
    let a = entries(old)?;
    let b = entries(new)?;
    let mut d = EntryDiff::default();
    for (name, v) in &b {
        match a.get(name) {
            None => d.added.push(name.clone()),
            Some(o) if o != v => d.changed.push(name.clone()),
            _ => {}
        }
    }
    d.removed = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
    Ok(d)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// Writes a jar of `files` (name, content) at `path`.
    pub(crate) fn jar(path: &Path, files: &[(&str, &[u8])]) {
        let mut z = zip::ZipWriter::new(File::create(path).unwrap());
        for (n, b) in files {
            z.start_file(*n, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(b).unwrap();
        }
        z.finish().unwrap();
    }

    #[test]
    fn truncated_jar_is_refused_and_diff_sees_entries() {
        let d = std::env::temp_dir().join(format!("runner-jar-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let (a, b) = (d.join("a.jar"), d.join("b.jar"));
        jar(&a, &[("A.class", b"one"), ("B.class", b"two")]);
        jar(
            &b,
            &[
                ("A.class", b"one"),
                ("B.class", b"2"),
                ("C.class", b"three"),
            ],
        );
        assert!(check(&a).is_ok());
        let diff = diff(&a, &b).unwrap();
        assert_eq!(diff.added, ["C.class"]);
        assert_eq!(diff.changed, ["B.class"]);
        assert!(diff.removed.is_empty());
        let bytes = std::fs::read(&b).unwrap();
        for cut in [bytes.len() / 2, bytes.len() - 10, 10] {
            std::fs::write(d.join("t.jar"), &bytes[..cut]).unwrap();
            assert!(check(&d.join("t.jar")).is_err(), "cut at {cut} accepted");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
