//! Installing files without ever writing over a file in place: each new file is written to a
//! temp name beside its target (never ending in `.jar`, so no classpath glob picks it up),
//! fsynced, then renamed over the target; directories are fsynced after the renames.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::fsutil::{fsync_dir, temp_path};
use crate::inventory::{self, FileMeta};
use crate::plan::{Action, Change};

/// Writes `src` to `tmp`, checking its sha256 against `want` while copying, with `want`'s
/// mode and mtime, the owner of `like` (when root), fsynced.
fn write_temp(src: &Path, tmp: &Path, want: &FileMeta, like: Option<&Path>) -> Result<()> {
    if let Some(dir) = tmp.parent() {
        fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
    }
    let mut r = File::open(src).map_err(Error::io("open", src))?;
    let mut w = File::create(tmp).map_err(Error::io("create", tmp))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = r.read(&mut buf).map_err(Error::io("read", src))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        w.write_all(&buf[..n]).map_err(Error::io("write", tmp))?;
    }
    let actual = hex::encode(h.finalize());
    if actual != want.sha256 {
        drop(w);
        let _ = fs::remove_file(tmp);
        return Err(Error::Changed {
            path: src.to_path_buf(),
            expected: want.sha256.clone(),
            actual,
        });
    }
    w.set_permissions(fs::Permissions::from_mode(want.mode))
        .map_err(Error::io("chmod", tmp))?;
    let mtime = UNIX_EPOCH + Duration::from_nanos(want.mtime_ns.max(0) as u64);
    // en: an op code, which Error::Io shows in the chosen language
    w.set_modified(mtime).map_err(Error::io("set mtime", tmp))?;
    if rustix::process::geteuid().is_root()
        && let Some(md) = like.and_then(|p| fs::metadata(p).ok())
    {
        std::os::unix::fs::fchown(&w, Some(md.uid()), Some(md.gid()))
            .map_err(Error::io("chown", tmp))?;
    }
    w.sync_all().map_err(Error::io("fsync", tmp))?;
    Ok(())
}

/// Copies `src` to `dst` durably (temp + fsync + rename), checking its content is `want`.
pub fn copy_verified(src: &Path, dst: &Path, want: &FileMeta) -> Result<()> {
    let tmp = temp_path(dst);
    write_temp(src, &tmp, want, None)?;
    fs::rename(&tmp, dst).map_err(Error::io("rename", dst))?;
    fsync_dir(dst.parent().expect("a file has a parent"))
}

/// Writes every new file of `changes` to its temp name in `deploy`. Nothing visible changes.
pub fn prepare(deploy: &Path, changes: &[Change]) -> Result<usize> {
    let mut n = 0;
    for c in changes {
        let (Some(src), Some(new)) = (&c.source, &c.new) else {
            continue;
        };
        if !matches!(c.action, Action::Added | Action::Modified) {
            continue;
        }
        let target = deploy.join(&c.path);
        let like = if target.exists() {
            target.clone()
        } else {
            deploy.to_path_buf()
        };
        write_temp(src, &temp_path(&target), new, Some(&like))?;
        n += 1;
        crate::fault::point("prepare-file");
    }
    Ok(n)
}

/// Renames each prepared file over its target and removes what the release removes.
/// Safe to run again after a crash: a target already holding the new content is left alone.
pub fn commit(deploy: &Path, changes: &[Change]) -> Result<usize> {
    let mut dirs = BTreeSet::new();
    let mut n = 0;
    for c in changes {
        let target = deploy.join(&c.path);
        match c.action {
            Action::Added | Action::Modified => {
                let tmp = temp_path(&target);
                let new = c
                    .new
                    .as_ref()
                    .expect("an added or modified file has new content");
                if tmp.exists() {
                    fs::rename(&tmp, &target).map_err(Error::io("rename", &target))?;
                } else if !holds(&target, new) {
                    // The release records this error in its history: English (shown so too).
                    return Err(Error::Changed {
                        path: target,
                        expected: new.sha256.clone(),
                        actual: crate::i18n::english(|| crate::t!("install-neither")),
                    });
                }
            }
            Action::Removed => match fs::remove_file(&target) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", &target)(e)),
            },
            Action::Unchanged => continue,
        }
        dirs.insert(target.parent().expect("a file has a parent").to_path_buf());
        n += 1;
        crate::fault::point("commit-file");
    }
    for d in dirs {
        fsync_dir(&d)?;
    }
    Ok(n)
}

/// Puts back the deployed files a release changed, from its backup: replaced and removed
/// files get their old content, added files are removed. Skips files already restored.
pub fn restore(deploy: &Path, backup: &Path, changes: &[Change]) -> Result<usize> {
    let mut dirs = BTreeSet::new();
    let mut n = 0;
    for c in changes {
        let target = deploy.join(&c.path);
        let _ = fs::remove_file(temp_path(&target));
        match (c.action, &c.old) {
            (Action::Modified | Action::Removed, Some(old)) => {
                if holds(&target, old) {
                    continue;
                }
                let tmp = temp_path(&target);
                write_temp(
                    &backup.join("files").join(&c.path),
                    &tmp,
                    old,
                    Some(&target),
                )?;
                fs::rename(&tmp, &target).map_err(Error::io("rename", &target))?;
            }
            (Action::Added, _) => match fs::remove_file(&target) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("remove", &target)(e)),
            },
            _ => continue,
        }
        dirs.insert(target.parent().expect("a file has a parent").to_path_buf());
        n += 1;
        crate::fault::point("restore-file");
    }
    for d in dirs {
        fsync_dir(&d)?;
    }
    Ok(n)
}

/// Seeds the deploy dir's hash cache with the files a commit just put in place, whose content
/// was checked as it was written: the manifest a release records at its end, and the next
/// plan, hash none of them again.
pub fn seed_cache(state_dir: &Path, deploy: &Path, changes: &[Change]) {
    let mut cache = inventory::HashCache::open(state_dir, deploy);
    for c in changes {
        if let (Action::Added | Action::Modified, Some(new)) = (c.action, &c.new)
            && let Ok(e) = inventory::stat(deploy, &c.path)
            && e.size == new.size
        {
            cache.seed(&e, new.sha256.clone());
        }
    }
    cache.save();
}

/// Removes temp files a crashed prepare left behind.
pub fn clean_temps(deploy: &Path, changes: &[Change]) {
    for c in changes {
        let _ = fs::remove_file(temp_path(&deploy.join(&c.path)));
    }
}

/// Whether `path` is a file with exactly `meta`'s content.
fn holds(path: &Path, meta: &FileMeta) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == meta.size)
        && inventory::hash_file(path, &mut |_| {}).is_ok_and(|h| h == meta.sha256)
}
