//! Walking a tree and hashing its files, with a sha256 cache keyed by (path, size, mtime, ctime, inode).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use globset::GlobSet;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One regular file found by a walk; `rel` uses `/` and is relative to the walked root.
#[derive(Debug, Clone)]
pub struct Entry {
    pub rel: String,
    pub size: u64,
    pub mode: u32,
    pub mtime_ns: i64,
    key: CacheKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct CacheKey {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    ino: u64,
}

/// Content of a file as runner records it (plans, manifests, history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    pub sha256: String,
    pub size: u64,
    pub mode: u32,
    pub mtime_ns: i64,
}

/// Names that are never part of a tree: dotfiles (upload temp files such as rsync's
/// `.name.XXXX`, runner's own `.name.runner-tmp`) and common partial-upload suffixes.
pub fn is_transient(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with(".tmp")
        || name.ends_with(".part")
        || name.ends_with(".filepart")
        || name.ends_with(".swp")
}

/// The symlinks under `root` (never followed; a walk leaves them out), relative.
pub fn symlinks(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.path_is_symlink())
        .filter_map(|e| {
            e.path()
                .strip_prefix(root)
                .ok()
                .and_then(|r| r.to_str())
                .map(str::to_string)
        })
        .collect()
}

/// Lists the regular files under `root` (symlinks are not followed), skipping transient names
/// and paths matching `exclude`. A missing root is an empty tree.
pub fn walk(root: &Path, exclude: &GlobSet) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    if !root.exists() {
        return Ok(out);
    }
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_name().to_str().is_some_and(is_transient)
                    || e.path()
                        .strip_prefix(root)
                        .is_ok_and(|r| exclude.is_match(r)))
        });
    for e in walker {
        let e = e.map_err(|e| {
            let path = e
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| root.to_path_buf());
            Error::Io {
                op: "walk",
                path,
                source: e
                    .into_io_error()
                    // Stands in for the OS's text of an io::Error, which is English.
                    // en: like an OS error text (may be stored with the error: watch status)
                    .unwrap_or_else(|| std::io::Error::other("walk loop")),
            }
        })?;
        if !e.file_type().is_file() {
            continue;
        }
        let md = e.metadata().map_err(|err| Error::Io {
            op: "stat",
            path: e.path().to_path_buf(),
            source: err
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("stat")),
        })?;
        let Some(rel) = e.path().strip_prefix(root).ok().and_then(|r| r.to_str()) else {
            tracing::warn!(
                path = %e.path().display(),
                "{}",
                crate::t!("inventory-not-utf8")
            );
            continue;
        };
        out.push(Entry {
            rel: rel.to_string(),
            size: md.size(),
            mode: md.mode() & 0o7777,
            mtime_ns: md.mtime() * 1_000_000_000 + md.mtime_nsec(),
            key: key_of(&md),
        });
    }
    Ok(out)
}

/// The walk entry of one regular file under `root` (never through a symlink).
pub fn stat(root: &Path, rel: &str) -> Result<Entry> {
    let path = root.join(rel);
    let md = fs::symlink_metadata(&path).map_err(Error::io("stat", &path))?;
    if !md.is_file() {
        return Err(Error::io("stat", &path)(
            std::io::ErrorKind::InvalidInput.into(),
        ));
    }
    Ok(Entry {
        rel: rel.to_string(),
        size: md.size(),
        mode: md.mode() & 0o7777,
        mtime_ns: md.mtime() * 1_000_000_000 + md.mtime_nsec(),
        key: key_of(&md),
    })
}

impl Entry {
    /// Whether the file under `root` still is what the walk saw: same inode, size, mtime and
    /// ctime. A check that read the file (a jar's zip directory) holds for this entry only then.
    pub fn unchanged(&self, root: &Path) -> bool {
        fs::symlink_metadata(root.join(&self.rel)).is_ok_and(|md| key_of(&md) == self.key)
    }
}

fn key_of(md: &fs::Metadata) -> CacheKey {
    CacheKey {
        size: md.size(),
        mtime_ns: md.mtime() * 1_000_000_000 + md.mtime_nsec(),
        ctime_ns: md.ctime() * 1_000_000_000 + md.ctime_nsec(),
        ino: md.ino(),
    }
}

/// sha256 of a file, streamed; `progress` is told the bytes read.
pub fn hash_file(path: &Path, progress: &mut dyn FnMut(u64)) -> Result<String> {
    let mut f = fs::File::open(path).map_err(Error::io("open", path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(Error::io("read", path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        progress(n as u64);
    }
    Ok(hex::encode(h.finalize()))
}

/// sha256 of each (root, entry) on every core, biggest files first (so that one big file does
/// not start last and run alone); the results in the order given.
pub fn hash_many(
    files: &[(&Path, &Entry)],
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Result<String>> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(files[i].1.size));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let hashed = crate::threads::map_at_once(order.len(), cores, |k| {
        let (root, e) = files[order[k]];
        hash_file(&root.join(&e.rel), &mut |n| progress(n))
    });
    let mut out: Vec<Option<Result<String>>> = (0..files.len()).map(|_| None).collect();
    for (k, r) in hashed.into_iter().enumerate() {
        out[order[k]] = Some(r);
    }
    out.into_iter()
        .map(|r| r.expect("every file hashed"))
        .collect()
}

/// sha256 of a byte slice, hex.
pub fn hash_bytes(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[derive(Default, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    entries: HashMap<String, (CacheKey, String)>,
    /// Archives whose zip central directory read fine, by the key they had then.
    #[serde(default)]
    zip_ok: HashMap<String, CacheKey>,
}

/// Persistent sha256 cache for one tree, stored under `<state_dir>/cache/`.
pub struct HashCache {
    path: PathBuf,
    root: PathBuf,
    file: CacheFile,
    /// Hashes of files too fresh for the cache file, good for this run only.
    fresh: HashMap<String, (CacheKey, String)>,
    dirty: bool,
    now_ns: i64,
}

const CACHE_VERSION: u32 = 1;
/// Files modified this recently are hashed but not cached: a write within the same
/// timestamp tick after hashing would otherwise go unseen. Linux file timestamps come from a
/// coarse clock (1-10 ms ticks); 100 ms is well past one tick.
const RACY_NS: i64 = 100_000_000;

impl HashCache {
    /// Opens the cache for `root`; an unreadable or foreign cache starts empty.
    pub fn open(state_dir: &Path, root: &Path) -> HashCache {
        let id = hash_bytes(root.as_os_str().as_encoded_bytes());
        let path = state_dir.join("cache").join(format!("{}.json", &id[..16]));
        let file = fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<CacheFile>(&b).ok())
            .filter(|f| f.version == CACHE_VERSION)
            .unwrap_or_default();
        let now_ns = jiff::Timestamp::now().as_nanosecond() as i64;
        HashCache {
            path,
            root: root.to_path_buf(),
            file,
            fresh: HashMap::new(),
            dirty: false,
            now_ns,
        }
    }

    /// Whether `e` would be answered from the cache.
    pub fn is_cached(&self, e: &Entry) -> bool {
        self.file
            .entries
            .get(&e.rel)
            .is_some_and(|(k, _)| *k == e.key)
    }

    /// The sha256 of `e`, from the cache when its key is unchanged (or it was just
    /// remembered).
    pub fn hash(&mut self, e: &Entry, progress: &mut dyn FnMut(u64)) -> Result<String> {
        if let Some((k, sha)) = self.file.entries.get(&e.rel)
            && *k == e.key
        {
            return Ok(sha.clone());
        }
        if let Some((k, sha)) = self.fresh.get(&e.rel)
            && *k == e.key
        {
            return Ok(sha.clone());
        }
        let sha = hash_file(&self.root.join(&e.rel), progress)?;
        self.remember(e, sha.clone());
        Ok(sha)
    }

    /// Records the sha256 of `e`, hashed just now: in the cache file, or only for this run
    /// when the file is too fresh to trust its key later.
    pub fn remember(&mut self, e: &Entry, sha: String) {
        if self.now_ns - e.key.mtime_ns > RACY_NS && self.now_ns - e.key.ctime_ns > RACY_NS {
            self.file.entries.insert(e.rel.clone(), (e.key, sha));
            self.dirty = true;
        } else {
            self.fresh.insert(e.rel.clone(), (e.key, sha));
        }
    }

    /// Records `sha` as the content of `e`, a file runner itself has just written, checked
    /// and renamed into place (an install, a received file), so that nothing hashes it again.
    /// Cached although fresh: its key was taken right after runner's rename, which gave the
    /// path a new inode, so only a writer rewriting that inode in place, to the same size,
    /// within the same timestamp tick, would go unseen.
    pub fn seed(&mut self, e: &Entry, sha: String) {
        self.file.entries.insert(e.rel.clone(), (e.key, sha));
        self.dirty = true;
    }

    /// Hashes on every core what the cache lacks of `entries`, and remembers it.
    pub fn fill(&mut self, entries: &[Entry]) {
        let root = self.root.clone();
        let todo: Vec<(&Path, &Entry)> = entries
            .iter()
            .filter(|e| !self.is_cached(e))
            .map(|e| (root.as_path(), e))
            .collect();
        // A file that failed is hashed again when asked for, and fails there with its error.
        for ((_, e), sha) in todo.iter().zip(hash_many(&todo, &|_| {})) {
            if let Ok(sha) = sha {
                self.remember(e, sha);
            }
        }
    }

    /// Whether `e` is an archive already found readable with its current key.
    pub fn zip_ok(&self, e: &Entry) -> bool {
        self.file.zip_ok.get(&e.rel) == Some(&e.key)
    }

    /// Records that `e` read fine as a zip (not for files too fresh to trust their key).
    pub fn mark_zip_ok(&mut self, e: &Entry) {
        if self.now_ns - e.key.mtime_ns > RACY_NS && self.now_ns - e.key.ctime_ns > RACY_NS {
            self.file.zip_ok.insert(e.rel.clone(), e.key);
            self.dirty = true;
        }
    }

    /// Drops entries for files no longer present, so the cache does not grow forever.
    pub fn retain(&mut self, present: &[Entry]) {
        let names: std::collections::HashSet<&str> =
            present.iter().map(|e| e.rel.as_str()).collect();
        let before = self.file.entries.len();
        self.file.entries.retain(|k, _| names.contains(k.as_str()));
        let zips = self.file.zip_ok.len();
        self.file.zip_ok.retain(|k, _| names.contains(k.as_str()));
        self.dirty |= before != self.file.entries.len() || zips != self.file.zip_ok.len();
    }

    /// Writes the cache back (temp + rename) if anything changed; failures only warn.
    pub fn save(mut self) {
        if !self.dirty {
            return;
        }
        self.file.version = CACHE_VERSION;
        let write = || -> std::io::Result<()> {
            fs::create_dir_all(self.path.parent().unwrap())?;
            // Workers sharing a source save side by side: each writes its own temp.
            static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tmp = self
                .path
                .with_extension(format!("{}-{n}.tmp", std::process::id()));
            fs::write(&tmp, serde_json::to_vec(&self.file)?)?;
            fs::rename(&tmp, &self.path)
        };
        if let Err(e) = write() {
            tracing::warn!(
                path = %self.path.display(),
                "{}",
                crate::t!("inventory-cannot-save-cache", error = e.to_string())
            );
        }
        self.dirty = false;
    }
}

/// Metadata of a single file (no cache), for files runner writes itself.
pub fn meta_of(path: &Path) -> Result<FileMeta> {
    let md = fs::symlink_metadata(path).map_err(Error::io("stat", path))?;
    Ok(FileMeta {
        sha256: hash_file(path, &mut |_| {})?,
        size: md.size(),
        mode: md.mode() & 0o7777,
        mtime_ns: md.mtime() * 1_000_000_000 + md.mtime_nsec(),
    })
}

/// Index of a walk by file name, for the "same name anywhere in the deploy dir" rule.
pub fn by_name(entries: &[Entry]) -> BTreeMap<&str, Vec<usize>> {
    let mut m: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        let name = e.rel.rsplit('/').next().unwrap_or(&e.rel);
        m.entry(name).or_default().push(i);
    }
    m
}
