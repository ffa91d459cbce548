//! `runner init`: a commented `runner.toml` from what is on this machine (see `init.rs`),
//! written only where nothing is, and only once it passes `config check`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, ExitCode, Result};
use crate::init::{self, FoundApp, FoundSync, Guess};
use crate::t;

use super::Globals;

/// What `runner init` was asked.
pub struct InitArgs {
    pub out: PathBuf,
    pub deploy_root: PathBuf,
    pub staging: PathBuf,
    pub backup_root: PathBuf,
    pub state_dir: PathBuf,
    pub scripts: Vec<PathBuf>,
    pub force: bool,
}

pub fn run(g: &Globals, a: &InitArgs) -> Result<ExitCode> {
    if a.out.exists() && !a.force {
        return Err(Error::Usage(t!("init-exists", path = &a.out)));
    }
    let apps = init::apps(&a.deploy_root);
    let scripts = a
        .scripts
        .iter()
        .map(|p| {
            Ok((
                p.clone(),
                std::fs::read_to_string(p).map_err(Error::io("read", p))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let (syncs, unread) = init::syncs_from_scripts(&scripts);
    let text = render(a, &apps, &syncs, &unread);
    // Written beside the target, checked as runner will read it, then renamed over.
    let dir = a
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.init-tmp",
        a.out.file_name().unwrap_or_default().to_string_lossy()
    ));
    std::fs::write(&tmp, &text).map_err(Error::io("write", &tmp))?;
    if let Err(e) = crate::config::load(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Internal(t!(
            "init-check-failed",
            error = e.to_string()
        )));
    }
    std::fs::rename(&tmp, &a.out).map_err(Error::io("rename", &a.out))?;
    g.ui.line(t!(
        "init-wrote",
        path = &a.out,
        apps = apps.len(),
        syncs = syncs.len()
    ));
    for u in &unread {
        g.ui.warn(t!("init-not-imported", what = u));
    }
    Ok(ExitCode::DONE)
}

/// A TOML string (quoted and escaped).
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn q_path(p: &Path) -> String {
    q(&p.display().to_string())
}

fn argv(v: &[String]) -> String {
    format!(
        "[{}]",
        v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

/// `key = value  # guessed: why`.
fn line<T>(out: &mut String, key: &str, g: &Guess<T>, show: impl Fn(&T) -> String) {
    let _ = write!(out, "{key} = {}", show(&g.value));
    match &g.why {
        Some(why) => {
            let _ = writeln!(out, "  # {}", t!("init-guessed", why = why));
        }
        None => out.push('\n'),
    }
}

fn render(a: &InitArgs, apps: &[FoundApp], syncs: &[FoundSync], unread: &[String]) -> String {
    let mut out = String::new();
    let from = if a.scripts.is_empty() {
        a.deploy_root.display().to_string()
    } else {
        t!(
            "init-from-scripts",
            root = &a.deploy_root,
            scripts = a
                .scripts
                .iter()
                .map(|s| s.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let header = t!(
        "init-header",
        host = crate::host::hostname(),
        time = jiff::ZonedDateTime::now()
            .strftime("%Y-%m-%d %H:%M %:z")
            .to_string(),
        from = from
    );
    // The comments are the operator's, in their language; the keys and values are runner's.
    for l in header.lines() {
        let _ = writeln!(out, "# {l}");
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "staging     = {}   # {}",
        q_path(&a.staging),
        t!("init-comment-staging")
    );
    let _ = writeln!(out, "deploy_root = {}", q_path(&a.deploy_root));
    let _ = writeln!(
        out,
        "backup_root = {}   # {}",
        q_path(&a.backup_root),
        t!("init-comment-backup-root")
    );
    let _ = writeln!(out, "state_dir   = {}", q_path(&a.state_dir));
    if apps.is_empty() {
        let _ = writeln!(
            out,
            // en: TOML, an example app table
            "\n# {}\n# [apps.pdms]\n# restart = [\"/opt/platform/service_local.sh\", \"pdms\"]",
            t!("init-no-apps", root = &a.deploy_root)
        );
    }
    for app in apps {
        // Quoted: a dir named `pdms.v2` is one app, not a nested table.
        let _ = writeln!(out, "\n[apps.{}]", q(&app.name));
        match &app.restart {
            Some(r) => line(&mut out, "restart", r, |v| argv(v)),
            None => {
                let _ = writeln!(
                    out,
                    "# restart = [\"/path/to/restart-script\", \"{}\"]  # {}",
                    app.name,
                    t!("init-restart-not-found", app = &app.name)
                );
            }
        }
        if let Some(l) = &app.log {
            line(&mut out, "log", l, |p| q_path(p));
        }
        if let Some(h) = &app.health {
            line(&mut out, "health", h, |u| q(u));
        }
    }
    for s in syncs {
        let _ = writeln!(out, "\n[[sync]]  # {}", t!("init-guessed", why = &s.why));
        let _ = writeln!(out, "source = {}", q(&s.source));
        let _ = writeln!(out, "target = {}", q(&s.target));
        if let Some(p) = &s.password_file {
            let _ = writeln!(out, "password_file = {}", q(p));
        }
    }
    if !unread.is_empty() {
        let _ = writeln!(out, "\n# {}", t!("init-not-imported-header"));
        for u in unread {
            let _ = writeln!(out, "#   {u}");
        }
    }
    out
}
