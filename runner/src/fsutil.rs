//! Durable writes: a file replaced so that a crash leaves the old or the new content, never a
//! torn one, and the directory entries that make a rename durable.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// `p` made absolute against the current dir (not resolving symlinks), or as given if the
/// current dir cannot be read.
pub fn absolute(p: impl AsRef<Path>) -> PathBuf {
    let p = p.as_ref();
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The temp name a new file is prepared under: hidden, in the target's directory.
pub fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    target.with_file_name(format!(".{name}.runner-tmp"))
}

/// Writes `body` to `path` so that a crash leaves either the old or the new content.
pub fn write_durably(path: &Path, body: &[u8]) -> Result<()> {
    let dir = path.parent().expect("a file path has a parent");
    fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
    let tmp = dir.join(format!(
        ".{}.runner-tmp",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    let mut f = fs::File::create(&tmp).map_err(Error::io("create", &tmp))?;
    f.write_all(body).map_err(Error::io("write", &tmp))?;
    f.sync_all().map_err(Error::io("fsync", &tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(Error::io("rename", path))?;
    fsync_dir(dir)
}

/// fsyncs a directory so that renames and unlinks in it are durable.
pub fn fsync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsync", dir))
}
