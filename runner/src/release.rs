//! The release, top to bottom: lock → plan → backup → install → restart → verify, with a hook
//! point before and after each step, and the rollback that undoes it. Each step's work lives in
//! its own module; this file only sequences them, journals progress and records history.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::backup::{self, Manifest};
use crate::config::{App, Config, Restart};
use crate::error::{Error, Result};
use crate::history::{self, FileRecord, Outcome, Record, StepRecord};
use crate::inventory;
use crate::journal::{self, Journal, Kind, Phase};
use crate::plan::{self, Action, Change, Plan, PlanOptions};
use crate::plugin::{HookEvent, PluginHost, Verdict};
use crate::report::{self, Ui};
use crate::{install, lock, restart, verify};

/// Flags of `release`, `common` and `rollback`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub dry_run: bool,
    pub no_restart: bool,
    pub no_rollback: bool,
    /// Ask before changing anything (a terminal without `--yes`).
    pub confirm: bool,
    pub entries: bool,
}

/// What happened to one app, for the summary line and `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub app: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    pub outcome: String,
    pub files: usize,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
}

impl Report {
    fn quiet(app: &str, outcome: &str, plan: Option<Plan>) -> Report {
        Report {
            app: app.to_string(),
            id: None,
            kind: None,
            outcome: outcome.to_string(),
            files: 0,
            duration_ms: 0,
            error: None,
            plan,
        }
    }

    fn done_word(&self) -> &'static str {
        match self.kind {
            Some(Kind::Rollback) => "rolled back",
            Some(Kind::Common) => "installed common libs",
            _ => "released",
        }
    }

    /// Whether this report means exit code 1.
    pub fn failed(&self) -> bool {
        matches!(
            self.outcome.as_str(),
            "rolled-back" | "rollback-failed" | "failed"
        )
    }
}

pub struct Ctx<'a> {
    pub cfg: &'a Config,
    pub ui: Ui,
    /// Loaded plugins; `None` when none are configured.
    pub plugins: Option<&'a PluginHost>,
}

impl Ctx<'_> {
    /// A hook point of a journaled release: every plugin subscribed to `name` is called.
    fn hook(&self, name: &str, j: &Journal, error: Option<&str>, outcome: Option<&str>) -> Verdict {
        self.hook_at(name, &j.id, &j.app, &j.changes, false, error, outcome)
    }

    #[allow(clippy::too_many_arguments)]
    fn hook_at(
        &self,
        name: &str,
        id: &str,
        app: &str,
        changes: &[Change],
        dry_run: bool,
        error: Option<&str>,
        outcome: Option<&str>,
    ) -> Verdict {
        self.ui
            .event(&serde_json::json!({"event": "point", "point": name, "release": id}));
        let Some(plugins) = self.plugins else {
            return Verdict::Proceed;
        };
        let host = crate::hostname();
        let ev = HookEvent {
            hook: name,
            release_id: id,
            app,
            host: &host,
            changes,
            dry_run,
            error,
            outcome,
        };
        plugins.call(&ev, &self.ui)
    }

    fn lock(&self, app: &str, command: &str) -> Result<lock::Lock> {
        let acquired = lock::acquire(&self.cfg.state_dir, app, command)?;
        if let Some(h) = acquired.stale {
            self.ui.warn(format!(
                "{app}: took over a lock left by pid {} ({}, {}, since {}), which is no longer running",
                h.pid, h.user, h.command, h.since
            ));
        }
        Ok(acquired.lock)
    }
}

/// `runner release <app>`: finish an interrupted release, or plan and carry out a new one.
pub fn release(ctx: &Ctx, app: &App, opts: Options) -> Result<Report> {
    let _lock = ctx.lock(&app.name, "release")?;
    if let Some(j) = journal::load(&ctx.cfg.state_dir, &app.name)? {
        if opts.dry_run {
            return Err(Error::Interrupted {
                app: app.name.clone(),
                release: j.id,
            });
        }
        ctx.ui.line(format!(
            "{}  resuming interrupted release {} (it got to: {:?})",
            console::style(&app.name).bold(),
            j.id,
            j.phase
        ));
        return execute(ctx, app, j, opts, true);
    }
    let id = new_id(ctx.cfg, &app.name);
    let gate = |hook: &str, changes: &[Change]| match ctx.hook_at(
        hook,
        &id,
        &app.name,
        changes,
        opts.dry_run,
        None,
        None,
    ) {
        Verdict::Abort { reason, .. } => Err(Error::Release {
            app: app.name.clone(),
            message: format!("{reason}; nothing was touched"),
        }),
        _ => Ok(()),
    };
    gate("before-plan", &[])?;
    let plan = plan::plan_release(
        ctx.cfg,
        app,
        PlanOptions {
            entries: opts.entries,
        },
    )?;
    gate("after-plan", &plan.pending())?;
    start(ctx, app, plan, Kind::Release, opts, id)
}

/// `runner common`: install the staged common libs into `app` where it has them.
pub fn common(ctx: &Ctx, app: &App, opts: Options) -> Result<Report> {
    let _lock = ctx.lock(&app.name, "common")?;
    if let Some(j) = journal::load(&ctx.cfg.state_dir, &app.name)? {
        return Err(Error::Interrupted {
            app: app.name.clone(),
            release: j.id,
        });
    }
    let plan = plan::plan_common(
        ctx.cfg,
        app,
        PlanOptions {
            entries: opts.entries,
        },
    )?;
    let id = new_id(ctx.cfg, &app.name);
    start(ctx, app, plan, Kind::Common, opts, id)
}

fn start(
    ctx: &Ctx,
    app: &App,
    plan: Plan,
    kind: Kind,
    opts: Options,
    id: String,
) -> Result<Report> {
    if let Some(p) = plan.problems.first() {
        ctx.ui.plan(&plan);
        return Err(Error::BadJar {
            app: app.name.clone(),
            path: p.path.clone(),
            reason: p.reason.clone(),
        });
    }
    let changes = plan.pending();
    ctx.ui.plan(&plan);
    if changes.is_empty() {
        return Ok(Report::quiet(&app.name, "no-change", None));
    }
    if opts.dry_run {
        return Ok(Report::quiet(&app.name, "dry-run", Some(plan)));
    }
    if opts.confirm
        && !confirm(&format!(
            "release {} file(s) to {}?",
            changes.len(),
            app.name
        ))?
    {
        return Ok(Report::quiet(&app.name, "cancelled", None));
    }
    let journal = new_journal(ctx.cfg, app, id, kind, changes, !opts.no_restart, None);
    execute(ctx, app, journal, opts, false)
}

pub(crate) fn confirm(prompt: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(true)
        .interact()
        .map_err(|e| Error::Usage(format!("prompt: {e}")))
}

fn new_journal(
    cfg: &Config,
    app: &App,
    id: String,
    kind: Kind,
    changes: Vec<Change>,
    restart: bool,
    reverts: Option<String>,
) -> Journal {
    Journal {
        backup: backup::dir(&cfg.backup_root, &app.name, &id),
        id,
        app: app.name.clone(),
        kind,
        phase: Phase::Planned,
        user: crate::user(),
        pid: std::process::id(),
        started: jiff::Timestamp::now().to_string(),
        deploy: app.deploy.clone(),
        restart: restart && !matches!(app.restart, Restart::None),
        reverts,
        failure: None,
        changes,
    }
}

/// `20261127T0542-pdms-3f2a`: local time to the minute, the app, 4 hex digits.
pub(crate) fn new_id(cfg: &Config, app: &str) -> String {
    let stamp = jiff::ZonedDateTime::now()
        .strftime("%Y%m%dT%H%M")
        .to_string();
    let mut salt = 0u64;
    loop {
        let seed = format!(
            "{stamp}{app}{}{:?}{salt}",
            std::process::id(),
            Instant::now()
        );
        let id = format!(
            "{stamp}-{app}-{}",
            &inventory::hash_bytes(seed.as_bytes())[..4]
        );
        if !backup::dir(&cfg.backup_root, app, &id).exists() {
            return id;
        }
        salt += 1;
    }
}

/// Step timings and the history record a release builds as it goes.
struct Run<'a> {
    ctx: &'a Ctx<'a>,
    t0: Instant,
    steps: Vec<StepRecord>,
}

impl Run<'_> {
    fn step<T>(&mut self, name: &str, f: impl FnOnce() -> Result<(T, String)>) -> Result<T> {
        let t = Instant::now();
        let r = f();
        let ms = t.elapsed().as_millis() as u64;
        let (ok, detail) = match &r {
            Ok((_, d)) => (true, format!("{d}  {}", report::secs(t.elapsed()))),
            Err(e) => (false, e.to_string()),
        };
        self.ctx.ui.step(ok, name, &detail);
        self.steps.push(StepRecord {
            step: name.to_string(),
            ok,
            ms,
            detail,
        });
        r.map(|(v, _)| v)
    }

    fn finish(
        self,
        j: &Journal,
        outcome: Outcome,
        error: Option<String>,
        resumed: bool,
    ) -> Result<Report> {
        let cfg = self.ctx.cfg;
        let outcome_name = outcome.name();
        if let Some(reason) =
            aborted(
                self.ctx
                    .hook("release-end", j, error.as_deref(), Some(outcome_name)),
            )
        {
            self.ctx
                .ui
                .warn(format!("{reason} (ignored: the release has ended)"));
        }
        let hooks = self.ctx.plugins.map(|p| p.take_calls()).unwrap_or_default();
        let rec = Record {
            id: j.id.clone(),
            app: j.app.clone(),
            kind: j.kind,
            host: crate::hostname(),
            user: j.user.clone(),
            started: j.started.clone(),
            finished: jiff::Timestamp::now().to_string(),
            duration_ms: self.t0.elapsed().as_millis() as u64,
            outcome,
            reverts: j.reverts.clone(),
            error: error.clone(),
            resumed,
            files: j
                .changes
                .iter()
                .map(|c| FileRecord {
                    path: c.path.clone(),
                    action: c.action,
                    old_sha256: c.old.as_ref().map(|m| m.sha256.clone()),
                    new_sha256: c.new.as_ref().map(|m| m.sha256.clone()),
                    size: c
                        .new
                        .as_ref()
                        .or(c.old.as_ref())
                        .map(|m| m.size)
                        .unwrap_or(0),
                })
                .collect(),
            steps: self.steps,
            hooks,
            hosts: Vec::new(),
        };
        rec.save(&cfg.state_dir)?;
        j.remove(&cfg.state_dir)?;
        if outcome == Outcome::Success {
            prune(cfg, &j.app);
        }
        Ok(Report {
            app: j.app.clone(),
            id: Some(j.id.clone()),
            kind: Some(j.kind),
            outcome: outcome_name.to_string(),
            files: j.changes.len(),
            duration_ms: rec.duration_ms,
            error,
            plan: None,
        })
    }
}

/// Removes backups beyond `keep_releases`, keeping the one a rollback would need.
fn prune(cfg: &Config, app: &str) {
    let records = history::load(&cfg.state_dir, Some(app)).unwrap_or_default();
    let protect: Vec<&str> = history::last_revertible(&records)
        .map(|r| r.id.as_str())
        .into_iter()
        .collect();
    for id in backup::prune(&cfg.backup_root, app, cfg.keep_releases, &protect) {
        tracing::info!(app, id, "pruned old backup");
    }
}

/// Carries a journaled release from wherever it stands to its end. A new release starts at
/// `Planned`; a resumed one skips the phases its journal says are durable.
fn execute(ctx: &Ctx, app: &App, mut j: Journal, opts: Options, resumed: bool) -> Result<Report> {
    let state = &ctx.cfg.state_dir;
    let mut run = Run {
        ctx,
        t0: Instant::now(),
        steps: Vec::new(),
    };
    if !resumed {
        ctx.ui.line(format!(
            "{}  {} {} ({} files)",
            console::style(&app.name).bold(),
            kind_name(j.kind),
            j.id,
            j.changes.len()
        ));
        j.save(state)?;
        crate::fault::point("journal-planned");
        if let Some(reason) = aborted(ctx.hook("release-start", &j, None, None)) {
            return abandon(run, &j, release_error(app, reason), resumed);
        }
    }

    if j.phase == Phase::RollingBack {
        let failure = j.failure.clone().unwrap_or_default();
        return roll_back_failed(run, app, &mut j, failure, resumed);
    }

    if j.phase <= Phase::Planned {
        if let Some(reason) = aborted(ctx.hook("before-backup", &j, None, None)) {
            return abandon(run, &j, release_error(app, reason), resumed);
        }
        let manifest = Manifest {
            id: j.id.clone(),
            app: j.app.clone(),
            kind: j.kind,
            created: j.started.clone(),
            deploy: j.deploy.clone(),
            changes: j.changes.clone(),
        };
        let backed = run.step("backup", || {
            let n = backup::run(&j.backup, &manifest)?;
            Ok((n, format!("{n} files → {}", j.backup.display())))
        });
        if let Err(e) = backed {
            let _ = std::fs::remove_dir_all(&j.backup);
            let _ = ctx.hook("after-backup", &j, Some(&e.to_string()), None);
            return abandon(run, &j, e, resumed);
        }
        j.set_phase(state, Phase::BackedUp)?;
        if let Some(reason) = aborted(ctx.hook("after-backup", &j, None, None)) {
            return abandon(run, &j, release_error(app, reason), resumed);
        }
    }

    if j.phase <= Phase::Prepared {
        if let Some(reason) = aborted(ctx.hook("before-install", &j, None, None)) {
            return abandon(run, &j, release_error(app, reason), resumed);
        }
        let installed = run.step("install", || {
            if j.phase <= Phase::BackedUp {
                install::prepare(&j.deploy, &j.changes)?;
                j.set_phase(state, Phase::Prepared)?;
            }
            let n = install::commit(&j.deploy, &j.changes)?;
            Ok((n, format!("{n} files")))
        });
        if let Err(e) = installed {
            // A partial commit is put back; the backup is complete at this point.
            if let Err(re) = install::restore(&j.deploy, &j.backup, &j.changes) {
                ctx.ui.warn(format!(
                    "{}: restoring after a failed install: {re}",
                    app.name
                ));
            }
            let _ = ctx.hook("after-install", &j, Some(&e.to_string()), None);
            return abandon(run, &j, e, resumed);
        }
        j.set_phase(state, Phase::Committed)?;
        if let Some(reason) = aborted(ctx.hook("after-install", &j, None, None)) {
            return roll_back_failed(run, app, &mut j, reason, resumed);
        }
    }

    if j.restart {
        if let Err(failure) = restart_and_verify(&mut run, app, &mut j, true) {
            if opts.no_rollback {
                let msg = format!("{failure}; the new files stay in place (--no-rollback)");
                return run.finish(&j, Outcome::Failed, Some(msg), resumed);
            }
            return roll_back_failed(run, app, &mut j, failure, resumed);
        }
    } else if !matches!(app.restart, Restart::None) {
        ctx.ui.step(true, "restart", "skipped (--no-restart)");
    }
    let report = run.finish(&j, Outcome::Success, None, resumed)?;
    summary(ctx, &report);
    Ok(report)
}

/// The reason to stop, if a hook said abort.
fn aborted(v: Verdict) -> Option<String> {
    match v {
        Verdict::Abort { reason, .. } => Some(reason),
        _ => None,
    }
}

fn release_error(app: &App, message: String) -> Error {
    Error::Release {
        app: app.name.clone(),
        message,
    }
}

fn restart_shown(r: &Restart) -> String {
    match r {
        Restart::None => String::new(),
        Restart::Restart(argv) => argv.join(" "),
        Restart::StopStart { stop, start } => format!("{}; {}", stop.join(" "), start.join(" ")),
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Release => "release",
        Kind::Common => "common libs",
        Kind::Rollback => "rollback",
    }
}

/// Restarts the app and waits for it to be up. The error is the reason it is not.
/// `journaled`: record the `Restarted` phase (not while rolling back, whose journal must keep
/// saying so until the old build is verified).
fn restart_and_verify(
    run: &mut Run,
    app: &App,
    j: &mut Journal,
    journaled: bool,
) -> std::result::Result<(), String> {
    let ctx = run.ctx;
    let state = &ctx.cfg.state_dir;
    // Before the hook: a plugin that restarts the app itself (and waits for it) must not
    // have its start-up lines land before the mark.
    let mark = app.log.as_deref().map(verify::mark);
    let restarted_by = match ctx.hook("before-restart", j, None, None) {
        Verdict::Abort { reason, .. } => return Err(reason),
        Verdict::Skip { plugin } => Some(plugin),
        Verdict::Proceed => None,
    };
    if journaled && j.phase < Phase::Restarted {
        j.set_phase(state, Phase::Restarted)
            .map_err(|e| e.to_string())?;
    }
    let out = state.join("logs").join(format!("{}-restart.log", j.id));
    run.step("restart", || {
        if let Some(plugin) = &restarted_by {
            return Ok(((), format!("done by plugin {plugin}")));
        }
        restart::run(&app.restart, app.restart_timeout, &out).map_err(|message| Error::Step {
            app: app.name.clone(),
            step: "restart",
            message: message.to_string(),
        })?;
        Ok(((), restart_shown(&app.restart)))
    })
    .map_err(|e| {
        let e = e.to_string();
        // After-hooks of a failed step still run, told why it failed.
        let _ = ctx.hook("after-restart", j, Some(&e), None);
        e
    })?;
    if let Some(reason) = aborted(ctx.hook("after-restart", j, None, None)) {
        return Err(reason);
    }
    let verified_by = match ctx.hook("before-verify", j, None, None) {
        Verdict::Abort { reason, .. } => return Err(reason),
        Verdict::Skip { plugin } => Some(plugin),
        Verdict::Proceed => None,
    };
    let ui = ctx.ui;
    run.step("verify", || {
        if let Some(plugin) = &verified_by {
            return Ok(((), format!("done by plugin {plugin}")));
        }
        let proof = verify::run(app, mark, app.ready_timeout, &mut |l| ui.log_line(l)).map_err(
            |message| Error::Step {
                app: app.name.clone(),
                step: "verify",
                message: message.to_string(),
            },
        )?;
        Ok(((), proof))
    })
    .map_err(|e| {
        let e = e.to_string();
        let _ = ctx.hook("after-verify", j, Some(&e), None);
        e
    })?;
    if let Some(reason) = aborted(ctx.hook("after-verify", j, None, None)) {
        return Err(reason);
    }
    Ok(())
}

/// Verification failed: put the backup back, restart the old build and verify it.
fn roll_back_failed(
    mut run: Run,
    app: &App,
    j: &mut Journal,
    failure: String,
    resumed: bool,
) -> Result<Report> {
    let ctx = run.ctx;
    if j.phase != Phase::RollingBack {
        j.failure = Some(failure.clone());
        j.set_phase(&ctx.cfg.state_dir, Phase::RollingBack)?;
    }
    ctx.ui.line(format!(
        "{}  {} — rolling back to the previous build",
        console::style(&app.name).bold(),
        console::style(&failure).red()
    ));
    if let Some(reason) = aborted(ctx.hook("before-rollback", j, Some(&failure), None)) {
        ctx.ui
            .warn(format!("{reason} (ignored: the rollback goes on)"));
    }
    let restored = run.step("restore", || {
        let n = install::restore(&j.deploy, &j.backup, &j.changes)?;
        Ok((n, format!("{n} files from {}", j.backup.display())))
    });
    let outcome = match restored {
        Err(_) => Outcome::RollbackFailed,
        Ok(_) => match restart_and_verify(&mut run, app, j, false) {
            Ok(()) => Outcome::RolledBack,
            Err(_) => Outcome::RollbackFailed,
        },
    };
    if let Some(reason) = aborted(ctx.hook("after-rollback", j, Some(&failure), None)) {
        ctx.ui
            .warn(format!("{reason} (ignored: the rollback is done)"));
    }
    let msg = match outcome {
        Outcome::RolledBack => format!("{failure}; rolled back to the previous build, which is up"),
        _ => format!(
            "{failure}; ROLLBACK FAILED too — the app needs a look (backup: {})",
            j.backup.display()
        ),
    };
    let report = run.finish(j, outcome, Some(msg), resumed)?;
    summary(ctx, &report);
    Ok(report)
}

/// A step failed before the app was touched for good: record it and give up.
fn abandon(run: Run, j: &Journal, e: Error, resumed: bool) -> Result<Report> {
    install::clean_temps(&j.deploy, &j.changes);
    let ctx = run.ctx;
    let msg = e.to_string();
    let report = run.finish(j, Outcome::Failed, Some(msg), resumed)?;
    summary(ctx, &report);
    Ok(report)
}

fn summary(ctx: &Ctx, r: &Report) {
    let took = report::secs(std::time::Duration::from_millis(r.duration_ms));
    let app = console::style(&r.app).bold();
    match r.outcome.as_str() {
        "success" => ctx.ui.line(format!(
            "{app}  {} {} in {took}",
            console::style(r.done_word()).green().bold(),
            r.id.as_deref().unwrap_or("")
        )),
        other => ctx.ui.line(format!(
            "{app}  {} {}: {}",
            console::style(other).red().bold(),
            r.id.as_deref().unwrap_or(""),
            r.error.as_deref().unwrap_or("")
        )),
    }
}

/// `runner rollback <app> [--to <id>]`: undo an interrupted release, or put back the files of
/// the last (or named) release from its backup — itself a release, with its own backup.
pub fn rollback(ctx: &Ctx, app: &App, to: Option<&str>, opts: Options) -> Result<Report> {
    let _lock = ctx.lock(&app.name, "rollback")?;
    if let Some(j) = journal::load(&ctx.cfg.state_dir, &app.name)? {
        return undo_interrupted(ctx, app, j);
    }
    let records = history::load(&ctx.cfg.state_dir, Some(&app.name))?;
    let target = match to {
        Some(id) => records
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| Error::Usage(format!("{}: no release {id} in the history", app.name)))?,
        None => history::last_revertible(&records).ok_or_else(|| Error::Release {
            app: app.name.clone(),
            message: "no successful release to roll back".into(),
        })?,
    };
    let dir = backup::dir(&ctx.cfg.backup_root, &app.name, &target.id);
    let manifest = backup::load(&dir).map_err(|e| Error::Release {
        app: app.name.clone(),
        message: format!("the backup of {} is gone ({e})", target.id),
    })?;
    let changes = reverse(&manifest, &dir)?;
    let plan = Plan {
        app: app.name.clone(),
        staging: dir.join("files"),
        deploy: manifest.deploy.clone(),
        changes,
        problems: Vec::new(),
    };
    ctx.ui.line(format!(
        "{}  rolling back {}",
        console::style(&app.name).bold(),
        target.id
    ));
    ctx.ui.plan(&plan);
    let changes = plan.pending();
    if changes.is_empty() {
        return Ok(Report::quiet(&app.name, "no-change", None));
    }
    if opts.dry_run {
        return Ok(Report::quiet(&app.name, "dry-run", Some(plan)));
    }
    if opts.confirm && !confirm(&format!("roll {} back to before {}?", app.name, target.id))? {
        return Ok(Report::quiet(&app.name, "cancelled", None));
    }
    let j = new_journal(
        ctx.cfg,
        app,
        new_id(ctx.cfg, &app.name),
        Kind::Rollback,
        changes,
        !opts.no_restart,
        Some(target.id.clone()),
    );
    execute(ctx, app, j, opts, false)
}

/// The changes that take the deploy dir from after a release back to before it.
fn reverse(m: &Manifest, dir: &Path) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    for c in &m.changes {
        let target = m.deploy.join(&c.path);
        let current = if target.is_file() {
            Some(inventory::meta_of(&target)?)
        } else {
            None
        };
        let want = match c.action {
            Action::Modified | Action::Removed => c.old.clone(),
            Action::Added => None,
            Action::Unchanged => continue,
        };
        let action = match (&current, &want) {
            (Some(cur), Some(w)) if cur.sha256 == w.sha256 => Action::Unchanged,
            (Some(_), Some(_)) => Action::Modified,
            (None, Some(_)) => Action::Added,
            (Some(_), None) => Action::Removed,
            (None, None) => continue,
        };
        out.push(Change {
            action,
            path: c.path.clone(),
            source: want.as_ref().map(|_| dir.join("files").join(&c.path)),
            old: current,
            new: want,
            entries: None,
        });
    }
    Ok(out)
}

/// Undoes a release that was interrupted: whatever it installed is put back from its backup.
fn undo_interrupted(ctx: &Ctx, app: &App, j: Journal) -> Result<Report> {
    ctx.ui.line(format!(
        "{}  undoing interrupted {} {} (it got to: {:?})",
        console::style(&app.name).bold(),
        kind_name(j.kind),
        j.id,
        j.phase
    ));
    let mut run = Run {
        ctx,
        t0: Instant::now(),
        steps: Vec::new(),
    };
    if j.phase >= Phase::BackedUp {
        run.step("restore", || {
            let n = install::restore(&j.deploy, &j.backup, &j.changes)?;
            Ok((n, format!("{n} files from {}", j.backup.display())))
        })?;
    } else {
        install::clean_temps(&j.deploy, &j.changes);
        let _ = std::fs::remove_dir_all(&j.backup);
    }
    let mut j = j;
    if j.restart
        && j.phase >= Phase::Restarted
        && let Err(e) = restart_and_verify(&mut run, app, &mut j, false)
    {
        let report = run.finish(&j, Outcome::RollbackFailed, Some(e), false)?;
        summary(ctx, &report);
        return Ok(report);
    }
    let report = run.finish(
        &j,
        Outcome::Undone,
        Some("interrupted, then undone".into()),
        false,
    )?;
    ctx.ui.line(format!(
        "{}  {} {}",
        console::style(&app.name).bold(),
        console::style("undone").green().bold(),
        j.id
    ));
    Ok(report)
}
