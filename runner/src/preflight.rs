//! Checks before anything is touched: the dirs a release works in exist (it never creates
//! them), the programs it runs are there, the log it follows can appear, the health URL
//! parses. A failure is exit 2 naming the key and the fix; the checks are a few `stat`s.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::config::{App, Restart};
use crate::error::{Error, Result};
use crate::plan::Change;

/// What is about to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// A release from the staging dir.
    Release,
    /// Common libs, or a rollback from a backup: the staging dir is not read.
    Other,
}

/// Every check for `app`; `restart`: whether the app will be restarted.
pub fn check(app: &App, work: Work, restart: bool) -> Result<()> {
    deploy_dir(app)?;
    if work == Work::Release {
        staging_dir(app)?;
    }
    if restart {
        programs(app)?;
    }
    if let Some(log) = &app.log {
        let dir = log.parent().unwrap_or(Path::new("/"));
        if !dir.is_dir() {
            return Err(preflight(
                app,
                "log",
                format!(
                    "the log's dir {} does not exist: runner would wait {} for a log that cannot appear",
                    dir.display(),
                    humantime::format_duration(app.ready_timeout)
                ),
            ));
        }
    }
    if let Some(url) = &app.health
        && let Err(e) = url.parse::<ureq::http::Uri>()
    {
        return Err(preflight(
            app,
            "health",
            format!("`{url}` is not a URL: {e}"),
        ));
    }
    Ok(())
}

/// The deploy dir exists: a missing one is a typo, never something to create.
pub fn deploy_dir(app: &App) -> Result<()> {
    if app.deploy.is_dir() {
        return Ok(());
    }
    Err(Error::MissingDir {
        app: app.name.clone(),
        what: "error-what-deploy-dir",
        path: app.deploy.clone(),
        help: "error-help-deploy-dir",
    })
}

/// The staging dir exists, and is not empty when staging is the whole app (`mirror`).
pub fn staging_dir(app: &App) -> Result<()> {
    if !app.staging.is_dir() {
        return Err(Error::MissingDir {
            app: app.name.clone(),
            what: "error-what-staging-dir",
            path: app.staging.clone(),
            help: "error-help-staging-dir",
        });
    }
    let empty = std::fs::read_dir(&app.staging)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true);
    if app.mirror && empty {
        return Err(preflight(
            app,
            "mirror",
            format!(
                "mirror = true and the staging dir {} is empty: that would remove every deployed file",
                app.staging.display()
            ),
        ));
    }
    Ok(())
}

/// Refuses changes whose deployed path is, or passes through, a symlink inside the deploy dir
/// (the deploy dir itself may be a link: everything behind it is then consistently there).
/// Writing through one would replace a shared file unseen by the backup, and a rollback would
/// then delete it; replacing one would lose the link. Refused, naming it, before anything.
pub fn symlinks(app: &App, changes: &[Change]) -> Result<()> {
    for c in changes {
        let mut cur = app.deploy.clone();
        for part in Path::new(&c.path).components() {
            cur.push(part);
            let Ok(md) = std::fs::symlink_metadata(&cur) else {
                break;
            };
            if md.file_type().is_symlink() {
                let to = std::fs::read_link(&cur)
                    .map(|t| t.display().to_string())
                    .unwrap_or_else(|_| "?".into());
                return Err(preflight(
                    app,
                    "deploy",
                    format!(
                        "{} goes through the symlink {} → {to}; runner does not write through or over \
                         symlinks in a deploy dir (the backup and a rollback would miss what is behind \
                         it): make it a real dir or file, or stage the jar for the app it really belongs to",
                        c.path,
                        cur.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn programs(app: &App) -> Result<()> {
    let argvs: Vec<(&str, &Vec<String>)> = match &app.restart {
        Restart::None => Vec::new(),
        Restart::Restart(argv) => vec![("restart", argv)],
        Restart::StopStart { stop, start } => vec![("stop", stop), ("start", start)],
    };
    for (key, argv) in argvs {
        let Some(program) = argv.first() else {
            continue;
        };
        if executable(program).is_none() {
            return Err(preflight(
                app,
                key,
                format!("`{program}` is not an executable file here (nor on PATH)"),
            ));
        }
    }
    Ok(())
}

/// Where `program` resolves as the kernel's exec would: a path with a `/` as it is, a bare
/// name through `$PATH`; `None` unless it is an executable file.
pub fn executable(program: &str) -> Option<PathBuf> {
    let runnable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return runnable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| runnable(p))
}

fn preflight(app: &App, key: &str, message: String) -> Error {
    Error::Preflight {
        app: app.name.clone(),
        key: format!("apps.{}.{key}", app.name),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_resolve_like_exec() {
        assert!(executable("sh").is_some());
        assert!(executable("/bin/sh").is_some());
        assert!(executable("/etc/passwd").is_none(), "not executable");
        assert!(executable("/etc").is_none(), "a dir");
        assert!(executable("no-such-program-here").is_none());
    }
}
