//! One release per app per host: an flock'd file under `state_dir/locks` naming its holder;
//! one fleet roll per app on the central box, under `state_dir/locks/fleet`.
//!
//! The kernel drops an flock when its holder dies, so a lock file that still names a holder
//! but can be locked was left by a dead process: it is taken over with a warning.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub user: String,
    pub since: String,
    pub command: String,
}

/// A held lock; dropping it clears the holder and releases the flock.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
}

/// What acquiring found: the lock, and the holder of a stale lock it took over.
pub struct Acquired {
    pub lock: Lock,
    pub stale: Option<Holder>,
}

/// What a lock guards.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Releases of an app on this host.
    App(&'a str),
    /// Fleet rolls of an app from this box (its own dir: no app name can collide with it).
    Fleet(&'a str),
}

/// The lock file of `scope`: `locks/<app>.lock`, `locks/fleet/<app>.lock`.
fn path(state_dir: &Path, scope: Scope) -> PathBuf {
    match scope {
        Scope::App(app) => state_dir.join("locks").join(format!("{app}.lock")),
        Scope::Fleet(app) => state_dir.join("locks/fleet").join(format!("{app}.lock")),
    }
}

/// Takes the lock of `scope` or fails with `Error::Locked` naming the holder.
pub fn acquire(state_dir: &Path, scope: Scope, command: &str) -> Result<Acquired> {
    let path = path(state_dir, scope);
    let dir = path.parent().expect("a lock file has a dir");
    fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
    let name = match scope {
        Scope::App(app) | Scope::Fleet(app) => app,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(Error::io("open", &path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let h = read_holder(&mut file).unwrap_or(Holder {
                pid: 0,
                user: "?".into(),
                since: "?".into(),
                command: "?".into(),
            });
            return Err(Error::Locked {
                app: name.to_string(),
                pid: h.pid,
                user: h.user,
                since: h.since,
            });
        }
        Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", &path)(e)),
    }
    let stale = read_holder(&mut file);
    let me = Holder {
        pid: std::process::id(),
        user: crate::host::user(),
        since: jiff::ZonedDateTime::now()
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        command: command.to_string(),
    };
    let body = serde_json::to_vec(&me).unwrap_or_default();
    (|| -> std::io::Result<()> {
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&body)?;
        file.flush()
    })()
    .map_err(Error::io("write", &path))?;
    Ok(Acquired {
        lock: Lock { file, path },
        stale,
    })
}

/// The holder of `scope`'s lock while its process lives (read only: the lock is not touched,
/// so probing never gets in the way of a release starting).
pub fn live_holder(state_dir: &Path, scope: Scope) -> Option<Holder> {
    let mut file = File::open(path(state_dir, scope)).ok()?;
    let h = read_holder(&mut file)?;
    Path::new(&format!("/proc/{}", h.pid)).exists().then_some(h)
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut s = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut s).ok()?;
    serde_json::from_str(&s).ok()
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Err(e) = self.file.set_len(0) {
            tracing::warn!(
                path = %self.path.display(),
                "{}",
                crate::t!("lock-cannot-clear", error = e.to_string())
            );
        }
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_roll_and_an_app_named_like_its_lock_do_not_collide() {
        let state = std::env::temp_dir().join(format!("runner-lock-{}", std::process::id()));
        let app = acquire(&state, Scope::App("x.fleet"), "release").unwrap();
        let fleet = acquire(&state, Scope::Fleet("x"), "fleet release").unwrap();
        assert!(matches!(
            acquire(&state, Scope::Fleet("x"), "fleet release"),
            Err(Error::Locked { .. })
        ));
        assert!(state.join("locks/fleet/x.lock").is_file());
        drop((app, fleet));
        let _ = fs::remove_dir_all(&state);
    }
}
