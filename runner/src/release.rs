//! The release, top to bottom: lock → plan → backup → install → restart → verify, with a hook
//! point before and after each step, and the rollback that undoes it. Each step's work lives in
//! its own module; this file only sequences them, journals progress and records history.
//! `execute` is the release as a list of steps; `Run::around` is what every step shares:
//! before-hook, the step, the after-hook told the step's error, and why the release stops.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::backup::{self, Manifest};
use crate::config::{App, Config, Restart};
use crate::error::{Error, Result};
use crate::history::{self, Record, StepRecord};
use crate::hook::Hook;
use crate::i18n::Text;
use crate::interrupt::{self, InFlight};
use crate::inventory;
use crate::journal::{self, Journal, Kind, Phase};
use crate::outcome::{Outcome, Report};
use crate::plan::{self, Action, Change, Plan, PlanOptions};
use crate::plugin::{HookEvent, PluginHost, Verdict};
use crate::preflight::{self, Work};
use crate::report::{self, Event, Ui};
use crate::text;
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

pub struct Ctx<'a> {
    pub cfg: &'a Config,
    pub ui: Ui,
    /// Loaded plugins; `None` when none are configured.
    pub plugins: Option<&'a PluginHost>,
}

/// What a hook call is about: the release (or sync batch, or fleet roll) it belongs to.
pub struct At<'a> {
    pub release_id: &'a str,
    pub app: &'a str,
    /// This host's name; a sync target's URL; a fleet host's address.
    pub host: &'a str,
    /// On a fleet's central hooks: the batch.
    pub batch: Option<crate::plugin::Batch<'a>>,
    pub changes: &'a [Change],
    pub dry_run: bool,
}

impl Ctx<'_> {
    /// A hook point: every plugin subscribed to `hook` is called. The one place a hook event
    /// is made.
    pub fn call(
        &self,
        hook: Hook,
        at: &At,
        error: Option<&str>,
        outcome: Option<Outcome>,
    ) -> Verdict {
        if !at.release_id.is_empty() {
            self.ui.event(&Event::Point {
                point: hook,
                release: at.release_id.to_string(),
            });
        }
        let Some(plugins) = self.plugins else {
            return Verdict::Proceed;
        };
        let ev = HookEvent {
            hook,
            release_id: at.release_id,
            app: at.app,
            host: at.host,
            batch: at.batch,
            changes: at.changes,
            dry_run: at.dry_run,
            error,
            outcome,
        };
        plugins.call(&ev, &self.ui)
    }

    fn lock(&self, app: &str, command: &str) -> Result<lock::Lock> {
        let acquired = lock::acquire(&self.cfg.state_dir, lock::Scope::App(app), command)?;
        if let Some(h) = acquired.stale {
            self.ui.warn(crate::t!(
                "release-lock-taken-over",
                app = app,
                pid = h.pid,
                user = &h.user,
                command = &h.command,
                since = &h.since
            ));
        }
        Ok(acquired.lock)
    }
}

/// The reason to stop, if a hook said abort.
pub fn aborted(v: Verdict) -> Option<String> {
    match v {
        Verdict::Abort { reason, .. } => Some(reason),
        _ => None,
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
            "{}  {}",
            console::style(&app.name).bold(),
            crate::t!(
                "release-resuming",
                id = j.id.as_str(),
                phase = format!("{:?}", j.phase)
            )
        ));
        return execute(ctx, app, j, opts, true, Vec::new());
    }
    let t = Instant::now();
    preflight::check(app, Work::Release, !opts.no_restart)?;
    tracing::debug!(micros = t.elapsed().as_micros() as u64, "pre-flight checks");
    let id = new_id(ctx.cfg, &app.name);
    let host = crate::host::hostname();
    let gate = |hook: Hook, changes: &[Change]| {
        let at = At {
            release_id: &id,
            app: &app.name,
            host: &host,
            batch: None,
            changes,
            dry_run: opts.dry_run,
        };
        match aborted(ctx.call(hook, &at, None, None)) {
            Some(reason) => Err(Error::Release {
                app: app.name.clone(),
                message: text!("release-nothing-touched", reason = reason),
            }),
            None => Ok(()),
        }
    };
    gate(Hook::BeforePlan, &[])?;
    let plan = plan::plan_release(
        ctx.cfg,
        app,
        PlanOptions {
            entries: opts.entries,
        },
    )?;
    gate(Hook::AfterPlan, &plan.pending())?;
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
    preflight::check(app, Work::Other, !opts.no_restart)?;
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

/// A planned release: shown, confirmed, journaled and carried out.
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
        return Err(if p.bad_zip {
            Error::BadJar {
                app: app.name.clone(),
                path: p.path.clone(),
                reason: p.reason.to_string(),
            }
        } else {
            Error::Plan {
                app: app.name.clone(),
                path: p.path.clone(),
                reason: p.reason.to_string(),
            }
        });
    }
    let changes = plan.pending();
    ctx.ui.plan(&plan);
    if changes.is_empty() {
        return Ok(Report::quiet(&app.name, Outcome::NoChange, None));
    }
    preflight::symlinks(app, &changes)?;
    if opts.dry_run {
        return Ok(Report::quiet(&app.name, Outcome::DryRun, Some(plan)));
    }
    if opts.confirm
        && !confirm(&crate::t!(
            "confirm-release",
            n = changes.len(),
            app = app.name.as_str()
        ))?
    {
        return Ok(Report::quiet(&app.name, Outcome::Cancelled, None));
    }
    let journal = new_journal(ctx.cfg, app, id, kind, changes, !opts.no_restart, None);
    execute(ctx, app, journal, opts, false, plan.warnings)
}

pub(crate) fn confirm(prompt: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    Ok(dialoguer::Confirm::new()
        .with_prompt(prompt)
        // An Enter by habit must not release: the answer is yes only when typed.
        .default(false)
        .interact()?)
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
        user: crate::host::user(),
        pid: std::process::id(),
        started: jiff::Timestamp::now().to_string(),
        deploy: app.deploy.clone(),
        restart: restart && !matches!(app.restart, Restart::None),
        reverts,
        back_to: None,
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

/// Carries a journaled release from wherever it stands to its end. A new release starts at
/// `Planned`; a resumed one skips the phases its journal says are durable.
fn execute(
    ctx: &Ctx,
    app: &App,
    j: Journal,
    opts: Options,
    resumed: bool,
    warnings: Vec<Text>,
) -> Result<Report> {
    let _in_flight = InFlight::new(&app.name);
    let mut run = Run::new(ctx, app, j, resumed);
    run.warnings = warnings;
    if !resumed {
        run.announce();
        run.j.save(&ctx.cfg.state_dir)?;
        crate::fault::point("journal-planned");
        if let Err(stop) = run.gate(Hook::ReleaseStart) {
            return run.abandon(stop);
        }
    }
    if run.j.phase == Phase::RollingBack {
        let failure = run.j.failure.clone().unwrap_or_default();
        return run.roll_back(Text::new(move || failure.clone()));
    }
    if run.j.phase <= Phase::Planned
        && let Err(stop) = run.around(Hook::BeforeBackup, "backup", Run::backup)
    {
        return run.abandon(stop);
    }
    if run.j.phase <= Phase::Prepared
        && let Err(stop) = run.around(Hook::BeforeInstall, "install", Run::install)
    {
        // Installed files are rolled back; a failed install has put back what it did.
        return if run.j.phase < Phase::Committed {
            run.abandon(stop)
        } else {
            run.roll_back(said(stop))
        };
    }
    if run.j.restart {
        if let Err(stop) = run.restart_and_verify(true) {
            // A stop asked for by a signal always puts the old build back.
            if opts.no_rollback && interrupt::requested().is_none() {
                let msg =
                    Text::new(move || crate::t!("release-no-rollback", stop = stop.to_string()));
                return run.finish(Outcome::Failed, Some(msg));
            }
            return run.roll_back(said(stop));
        }
    } else if matches!(app.restart, Restart::None) {
        run.warnings.push(text!("release-no-restart-configured"));
    } else {
        ctx.ui
            .step(true, "restart", crate::t!("release-restart-skipped"));
    }
    run.finish(Outcome::Success, None)
}

/// Why a step stops the release.
enum Stop {
    /// A hook said abort.
    Aborted(String),
    /// The step failed.
    Failed(Error),
    /// SIGINT or SIGTERM, seen at a safe point.
    Interrupted(i32),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Aborted(reason) => f.write_str(reason),
            Stop::Failed(e) => e.fmt(f),
            Stop::Interrupted(sig) => f.write_str(&crate::t!(
                "release-stopped-by",
                signal = interrupt::name(*sig)
            )),
        }
    }
}

/// A release in progress: its journal, its step timings, and the history record it builds.
struct Run<'a> {
    ctx: &'a Ctx<'a>,
    app: &'a App,
    j: Journal,
    resumed: bool,
    /// Rolling back: a hook's abort is logged and the built-in step goes on (a rollback that
    /// a plugin could stop would leave the app half-released).
    rolling_back: bool,
    /// Said with the summary, and kept in the report.
    warnings: Vec<Text>,
    t0: Instant,
    steps: Vec<StepRecord>,
}

impl<'a> Run<'a> {
    fn new(ctx: &'a Ctx<'a>, app: &'a App, j: Journal, resumed: bool) -> Run<'a> {
        Run {
            ctx,
            app,
            j,
            resumed,
            rolling_back: false,
            warnings: Vec::new(),
            t0: Instant::now(),
            steps: Vec::new(),
        }
    }

    fn announce(&self) {
        let what = match self.j.kind {
            Kind::Restart => crate::t!("announce-restart", id = self.j.id.as_str()),
            k => crate::t!(
                "announce",
                kind = k.shown(),
                id = self.j.id.as_str(),
                n = self.j.changes.len()
            ),
        };
        self.ctx
            .ui
            .line(format!("{}  {what}", console::style(&self.app.name).bold()));
    }

    /// A hook point of this release.
    fn hook(&self, hook: Hook, error: Option<&str>, outcome: Option<Outcome>) -> Verdict {
        let host = crate::host::hostname();
        let at = At {
            release_id: &self.j.id,
            app: &self.j.app,
            host: &host,
            batch: None,
            changes: &self.j.changes,
            dry_run: false,
        };
        self.ctx.call(hook, &at, error, outcome)
    }

    /// A hook point with no step of its own: an abort stops the release.
    fn gate(&self, hook: Hook) -> std::result::Result<(), Stop> {
        match aborted(self.hook(hook, None, None)) {
            Some(reason) => Err(Stop::Aborted(reason)),
            None => Ok(()),
        }
    }

    /// One step and its hook points: the before-hook (abort stops here; skip tells the step a
    /// plugin did it), the step, timed and shown, then the after-hook, told the step's error
    /// when it failed (its answer is moot then) or else able to abort.
    fn around<T>(
        &mut self,
        before: Hook,
        name: &str,
        step: impl FnOnce(&mut Self, Option<&str>) -> Result<(T, Text)>,
    ) -> std::result::Result<T, Stop> {
        // The safe point before every step.
        if let Some(sig) = interrupt::requested() {
            return Err(Stop::Interrupted(sig));
        }
        let done_by = match self.hook(before, None, None) {
            Verdict::Abort { reason, .. } if self.rolling_back => {
                self.ignored(&reason);
                None
            }
            Verdict::Abort { reason, .. } => return Err(Stop::Aborted(reason)),
            Verdict::Skip { plugin } => Some(plugin),
            Verdict::Proceed => None,
        };
        // And after the before-hook, which may have taken its time.
        if let Some(sig) = interrupt::requested() {
            return Err(Stop::Interrupted(sig));
        }
        match self.timed(name, |run| step(run, done_by.as_deref())) {
            Ok(v) => match aborted(self.hook(before.after(), None, None)) {
                Some(reason) if self.rolling_back => {
                    self.ignored(&reason);
                    Ok(v)
                }
                Some(reason) => Err(Stop::Aborted(reason)),
                None => Ok(v),
            },
            Err(e) => {
                let _ = self.hook(before.after(), Some(&e.to_string()), None);
                Err(Stop::Failed(e))
            }
        }
    }

    fn ignored(&self, reason: &str) {
        self.ctx
            .ui
            .warn(crate::t!("ignored-rollback-goes-on", reason = reason));
    }

    /// A step with no hook points of its own (the restore of a rollback).
    fn step<T>(&mut self, name: &str, f: impl FnOnce(&Journal) -> Result<(T, Text)>) -> Result<T> {
        self.timed(name, |run| f(&run.j))
    }

    /// Runs a step's work, timed, shown and recorded with its detail (or its error).
    fn timed<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Self) -> Result<(T, Text)>,
    ) -> Result<T> {
        let t = Instant::now();
        let r = f(self);
        // Shown in the chosen language, recorded in English.
        let took = report::secs(t.elapsed());
        let (ok, shown, detail) = match &r {
            Ok((_, d)) => (
                true,
                format!("{d}  {took}"),
                format!("{}  {took}", d.english()),
            ),
            Err(e) => (false, e.to_string(), crate::i18n::english(|| e.to_string())),
        };
        self.ctx.ui.step(ok, name, &shown);
        self.steps.push(StepRecord {
            step: name.to_string(),
            ok,
            ms: t.elapsed().as_millis() as u64,
            detail,
        });
        r.map(|(v, _)| v)
    }

    /// Every file about to be replaced or removed, copied to the backup with its manifest.
    fn backup(&mut self, _: Option<&str>) -> Result<(usize, Text)> {
        let j = &mut self.j;
        let manifest = Manifest {
            id: j.id.clone(),
            app: j.app.clone(),
            kind: j.kind,
            created: j.started.clone(),
            deploy: j.deploy.clone(),
            changes: j.changes.clone(),
        };
        let state = &self.ctx.cfg.state_dir;
        let n = backup::run(&j.backup, &manifest)
            .and_then(|n| j.set_phase(state, Phase::BackedUp).map(|()| n))
            .inspect_err(|_| {
                let _ = std::fs::remove_dir_all(&j.backup);
            })?;
        Ok((n, text!("release-backed-up", n = n, backup = &j.backup)))
    }

    /// New files written beside their targets, then renamed over them. A partial commit is
    /// put back (the backup is complete by now).
    fn install(&mut self, _: Option<&str>) -> Result<(usize, Text)> {
        let state = &self.ctx.cfg.state_dir;
        let j = &mut self.j;
        let installed = (|| {
            if j.phase <= Phase::BackedUp {
                install::prepare(&j.deploy, &j.changes)?;
                j.set_phase(state, Phase::Prepared)?;
            }
            let n = install::commit(&j.deploy, &j.changes)?;
            install::seed_cache(state, &j.deploy, &j.changes);
            j.set_phase(state, Phase::Committed)?;
            Ok(n)
        })();
        match installed {
            Ok(n) => Ok((n, text!("release-files", n = n))),
            Err(e) => {
                if let Err(re) = install::restore(&j.deploy, &j.backup, &j.changes) {
                    self.ctx.ui.warn(crate::t!(
                        "release-restore-failed",
                        app = &self.app.name,
                        error = re.to_string()
                    ));
                }
                Err(e)
            }
        }
    }

    /// Restarts the app and waits for it to be up. `journaled`: record the `Restarted` phase
    /// (not while rolling back, whose journal must keep saying so until the old build is
    /// verified).
    fn restart_and_verify(&mut self, journaled: bool) -> std::result::Result<(), Stop> {
        // Before the hook: a plugin that restarts the app itself (and waits for it) must not
        // have its start-up lines land before the mark.
        let mut mark = self.app.log.as_deref().map(verify::mark);
        self.around(Hook::BeforeRestart, "restart", |run, done_by| {
            let (app, state) = (run.app, &run.ctx.cfg.state_dir);
            if journaled && run.j.phase < Phase::Restarted {
                run.j.set_phase(state, Phase::Restarted)?;
            }
            if let Some(plugin) = done_by {
                return Ok(((), text!("release-done-by-plugin", plugin = plugin)));
            }
            // runner restarts it: the mark moves up to now. Lines written since the first mark
            // came from the process being replaced — after a failed verify, the failed build
            // still starting up during the before-restart hooks (a drain waits seconds) — and
            // its "Started …" must not count as the restored build being up.
            if let Some(log) = app.log.as_deref() {
                mark = Some(verify::mark(log));
            }
            let out = state.join("logs").join(format!("{}-restart.log", run.j.id));
            restart::run(&app.restart, app.restart_timeout, &out).map_err(|message| {
                Error::Step {
                    app: app.name.clone(),
                    step: "restart",
                    message: Box::new(Text::new(move || message.to_string())),
                }
            })?;
            let shown = restart_shown(&app.restart);
            Ok(((), Text::new(move || shown.clone())))
        })?;
        self.around(Hook::BeforeVerify, "verify", |run, done_by| {
            if let Some(plugin) = done_by {
                return Ok(((), text!("release-done-by-plugin", plugin = plugin)));
            }
            let (app, ui) = (run.app, run.ctx.ui);
            let proof = verify::run(app, mark, app.ready_timeout, &mut |l| ui.log_line(l))
                .map_err(|message| Error::Step {
                    app: app.name.clone(),
                    step: "verify",
                    message: Box::new(Text::new(move || message.to_string())),
                })?;
            Ok(((), proof))
        })
    }

    /// A step failed before the app was touched for good: record it and give up.
    fn abandon(self, stop: Stop) -> Result<Report> {
        install::clean_temps(&self.j.deploy, &self.j.changes);
        let msg = match stop {
            Stop::Aborted(reason) => said(Stop::Failed(release_error(self.app, reason))),
            Stop::Failed(_) => said(stop),
            Stop::Interrupted(_) => Text::new(move || {
                crate::t!("release-stopped-before-install", stop = stop.to_string())
            }),
        };
        self.finish(Outcome::Failed, Some(msg))
    }

    /// The new build failed: put the backup back, restart the old build and verify it. When
    /// the restart never began (a hook aborted after the install or before the restart), the
    /// old process still runs the old build: the files are put back and nothing is restarted.
    fn roll_back(mut self, failure: Text) -> Result<Report> {
        let ctx = self.ctx;
        if self.j.phase != Phase::RollingBack {
            if self.j.phase < Phase::Restarted {
                self.j.restart = false;
            }
            self.j.failure = Some(failure.english());
            self.j.set_phase(&ctx.cfg.state_dir, Phase::RollingBack)?;
        }
        self.rolling_back = true;
        interrupt::mask();
        ctx.ui.line(format!(
            "{}  {}\n  {}",
            console::style(&self.app.name).bold(),
            crate::t!("rolling-back-after"),
            console::style(failure.to_string()).red()
        ));
        let recorded = failure.english();
        if let Some(reason) = aborted(self.hook(Hook::BeforeRollback, Some(&recorded), None)) {
            self.ignored(&reason);
        }
        let restored = self.step("restore", restore);
        let outcome = match restored {
            Err(_) => Outcome::RollbackFailed,
            Ok(_) if !self.j.restart => Outcome::RolledBack,
            Ok(_) => match self.restart_and_verify(false) {
                Ok(()) => Outcome::RolledBack,
                Err(_) => Outcome::RollbackFailed,
            },
        };
        if let Some(reason) = aborted(self.hook(Hook::AfterRollback, Some(&recorded), None)) {
            ctx.ui
                .warn(crate::t!("ignored-rollback-done", reason = reason));
        }
        let backup = self.j.backup.clone();
        let restarted = self.j.restart;
        let msg = Text::new(move || {
            let failure = failure.to_string();
            match outcome {
                Outcome::RolledBack if !restarted => {
                    crate::t!("release-rolled-back-not-restarted", failure = failure)
                }
                Outcome::RolledBack => crate::t!("release-rolled-back-up", failure = failure),
                _ => crate::t!(
                    "release-rollback-failed",
                    failure = failure,
                    backup = &backup
                ),
            }
        });
        self.finish(outcome, Some(msg))
    }

    /// The end: `release-end`, the history record, the journal removed, old backups pruned,
    /// the summary line.
    fn finish(self, outcome: Outcome, said_error: Option<Text>) -> Result<Report> {
        // Recorded, reported in JSON and told to plugins in English; shown as chosen.
        let error = said_error.as_ref().map(Text::english);
        let ctx = self.ctx;
        let outcome = match (outcome, interrupt::received()) {
            (Outcome::Failed | Outcome::RolledBack, Some(_)) => Outcome::Interrupted,
            (o, _) => o,
        };
        let cfg = ctx.cfg;
        if let Some(reason) = aborted(self.hook(Hook::ReleaseEnd, error.as_deref(), Some(outcome)))
        {
            ctx.ui
                .warn(crate::t!("ignored-release-ended", reason = reason));
        }
        let hooks = ctx.plugins.map(|p| p.take_calls()).unwrap_or_default();
        if let Some(p) = ctx.plugins {
            p.forget(&self.j.id);
        }
        let j = &self.j;
        let duration_ms = self.t0.elapsed().as_millis() as u64;
        let rec = Record::from_journal(j, outcome, error.clone(), self.resumed, duration_ms)
            .with_steps(self.steps, hooks);
        rec.save(&cfg.state_dir)?;
        // What the deploy dir holds now, for `runner status` to tell drift by: after a release,
        // common install or rollback that went through. Not after a restart or a release put
        // back (the tree is as it was, drift and all), nor a failed rollback or a stop
        // half-way (runner does not know the tree then).
        if outcome == Outcome::Success
            && j.kind != Kind::Restart
            && let Err(e) = crate::manifest::record(&cfg.state_dir, self.app, &j.id)
        {
            ctx.ui.warn(crate::t!(
                "release-manifest-failed",
                app = &j.app,
                error = e.to_string()
            ));
        }
        j.remove(&cfg.state_dir)?;
        if outcome == Outcome::Success {
            prune(cfg, &j.app);
        }
        let report = Report {
            app: j.app.clone(),
            id: Some(j.id.clone()),
            kind: Some(j.kind),
            outcome,
            files: j.changes.len(),
            duration_ms,
            error,
            plan: None,
            warnings: self.warnings.iter().map(Text::english).collect(),
        };
        summary(ctx, &report, said_error.as_ref(), &self.warnings);
        Ok(report)
    }
}

/// The rollback's restore step: the backup put back over the deploy dir.
fn restore(j: &Journal) -> Result<(usize, Text)> {
    let n = install::restore(&j.deploy, &j.backup, &j.changes)?;
    Ok((n, text!("release-restored-from", n = n, backup = &j.backup)))
}

/// Removes backups beyond `keep_releases`, keeping the one a rollback would need.
fn prune(cfg: &Config, app: &str) {
    let records = history::load(&cfg.state_dir, Some(app)).unwrap_or_default();
    let protect: Vec<&str> = history::last_revertible(&records)
        .map(|r| r.id.as_str())
        .into_iter()
        .collect();
    for id in backup::prune(&cfg.backup_root, app, cfg.keep_releases, &protect) {
        tracing::info!(app, id, "{}", crate::t!("release-pruned"));
    }
}

/// A stop as a message: shown in the chosen language, recorded in English.
fn said(stop: Stop) -> Text {
    Text::new(move || stop.to_string())
}

fn release_error(app: &App, message: String) -> Error {
    Error::Release {
        app: app.name.clone(),
        message: message.into(),
    }
}

fn restart_shown(r: &Restart) -> String {
    match r {
        Restart::None => String::new(),
        Restart::Restart(argv) => argv.join(" "),
        Restart::StopStart { stop, start } => format!("{}; {}", stop.join(" "), start.join(" ")),
    }
}

fn done_word(k: Option<Kind>) -> String {
    match k {
        Some(Kind::Rollback) => crate::t!("done-rolled-back"),
        Some(Kind::Common) => crate::t!("done-common"),
        Some(Kind::Restart) => crate::t!("done-restarted"),
        _ => crate::t!("done-released"),
    }
}

fn summary(ctx: &Ctx, r: &Report, error: Option<&Text>, warnings: &[Text]) {
    let took = report::secs(std::time::Duration::from_millis(r.duration_ms));
    let app = console::style(&r.app).bold();
    match r.outcome {
        Outcome::Success => ctx.ui.line(format!(
            "{app}  {} {} {}",
            console::style(done_word(r.kind)).green().bold(),
            r.id.as_deref().unwrap_or(""),
            crate::t!("took", time = took)
        )),
        Outcome::Undone => ctx.ui.line(format!(
            "{app}  {} {}",
            console::style(crate::t!("done-undone")).green().bold(),
            r.id.as_deref().unwrap_or("")
        )),
        other => ctx.ui.line(format!(
            "{app}  {} {}: {}",
            console::style(other.shown()).red().bold(),
            r.id.as_deref().unwrap_or(""),
            error.map(Text::to_string).unwrap_or_default()
        )),
    }
    for w in warnings {
        ctx.ui.warn(format!("{}: {w}", r.app));
    }
}

/// `runner restart <app>`: restart and verify, with the hooks of a release's restart and
/// verify (a drain plugin drains the app around it) and `release-end`; recorded in the history
/// as kind `restart`. No file changes, so nothing to roll back: a failed verify ends `failed`.
pub fn restart(ctx: &Ctx, app: &App, opts: Options) -> Result<Report> {
    let _lock = ctx.lock(&app.name, "restart")?;
    if let Some(j) = journal::load(&ctx.cfg.state_dir, &app.name)? {
        return Err(Error::Interrupted {
            app: app.name.clone(),
            release: j.id,
        });
    }
    if matches!(app.restart, Restart::None) {
        return Err(Error::Usage(crate::t!(
            "release-nothing-to-restart",
            app = &app.name
        )));
    }
    preflight::check(app, Work::Other, true)?;
    if opts.dry_run {
        ctx.ui.line(crate::t!(
            "release-would-restart",
            app = console::style(&app.name).bold().to_string(),
            command = restart_shown(&app.restart)
        ));
        return Ok(Report::quiet(&app.name, Outcome::DryRun, None));
    }
    if opts.confirm && !confirm(&crate::t!("confirm-restart", app = app.name.as_str()))? {
        return Ok(Report::quiet(&app.name, Outcome::Cancelled, None));
    }
    let id = new_id(ctx.cfg, &app.name);
    let j = new_journal(ctx.cfg, app, id, Kind::Restart, Vec::new(), true, None);
    let _in_flight = InFlight::new(&app.name);
    let mut run = Run::new(ctx, app, j, false);
    run.announce();
    match run.restart_and_verify(false) {
        Ok(()) => run.finish(Outcome::Success, None),
        Err(stop) => run.finish(Outcome::Failed, Some(said(stop))),
    }
}

/// `runner rollback <app> [--to <id>]`: undo an interrupted release, or put back the files of
/// the last (or named) release from its backup — itself a release, with its own backup.
pub fn rollback(ctx: &Ctx, app: &App, to: Option<&str>, opts: Options) -> Result<Report> {
    let _lock = ctx.lock(&app.name, "rollback")?;
    if let Some(j) = journal::load(&ctx.cfg.state_dir, &app.name)? {
        return undo_interrupted(ctx, app, j);
    }
    preflight::check(app, Work::Other, !opts.no_restart)?;
    let records = history::load(&ctx.cfg.state_dir, Some(&app.name))?;
    // Without --to: the last release is undone. With it: every release after `<id>`, newest
    // first, so that the app is as it was right after `<id>`.
    let (undone, target): (Vec<&Record>, &Record) = match to {
        Some(id) => {
            let at = records.iter().position(|r| r.id == id).ok_or_else(|| {
                Error::Usage(crate::t!(
                    "release-no-such-release",
                    app = &app.name,
                    id = id
                ))
            })?;
            let later = records[at + 1..]
                .iter()
                .filter(|r| r.outcome == Outcome::Success && r.hosts.is_empty())
                .collect();
            (later, &records[at])
        }
        None => {
            let last = history::last_revertible(&records).ok_or_else(|| Error::Release {
                app: app.name.clone(),
                message: text!("release-nothing-to-roll-back"),
            })?;
            (vec![last], last)
        }
    };
    let mut backups = Vec::new();
    for r in &undone {
        let dir = backup::dir(&ctx.cfg.backup_root, &app.name, &r.id);
        let manifest = backup::load(&dir).map_err(|e| Error::Release {
            app: app.name.clone(),
            message: text!("release-backup-gone", id = &r.id, error = e.to_string()),
        })?;
        backups.push((manifest, dir));
    }
    let changes = reverse(&app.deploy, &backups)?;
    let plan = Plan {
        app: app.name.clone(),
        staging: ctx.cfg.backup_root.join(&app.name),
        deploy: app.deploy.clone(),
        changes,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    ctx.ui.line(match to {
        Some(_) => crate::t!(
            "release-back-to",
            app = console::style(&app.name).bold().to_string(),
            id = &target.id,
            undone = if undone.is_empty() {
                crate::t!("release-nothing")
            } else {
                undone
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        None => format!(
            "{}  {}",
            console::style(&app.name).bold(),
            crate::t!("rolling-back", id = target.id.as_str())
        ),
    });
    ctx.ui.plan(&plan);
    let changes = plan.pending();
    if changes.is_empty() {
        return Ok(Report::quiet(&app.name, Outcome::NoChange, None));
    }
    preflight::symlinks(app, &changes)?;
    if opts.dry_run {
        return Ok(Report::quiet(&app.name, Outcome::DryRun, Some(plan)));
    }
    let question = match to {
        Some(_) => crate::t!(
            "confirm-rollback-to",
            app = app.name.as_str(),
            id = target.id.as_str()
        ),
        None => crate::t!(
            "confirm-rollback",
            app = app.name.as_str(),
            id = target.id.as_str()
        ),
    };
    if opts.confirm && !confirm(&question)? {
        return Ok(Report::quiet(&app.name, Outcome::Cancelled, None));
    }
    let mut j = new_journal(
        ctx.cfg,
        app,
        new_id(ctx.cfg, &app.name),
        Kind::Rollback,
        changes,
        !opts.no_restart,
        to.is_none().then(|| target.id.clone()),
    );
    j.back_to = to.map(str::to_string);
    execute(ctx, app, j, opts, false, Vec::new())
}

/// The changes that take the deploy dir back to before the releases whose backups these are
/// (oldest first): each path gets the content it had before the oldest of them that touched it.
fn reverse(deploy: &Path, backups: &[(Manifest, PathBuf)]) -> Result<Vec<Change>> {
    let mut before: BTreeMap<&str, (&Change, &Path)> = BTreeMap::new();
    for (m, dir) in backups {
        for c in &m.changes {
            before.entry(&c.path).or_insert((c, dir));
        }
    }
    let mut out = Vec::new();
    for (c, dir) in before.into_values() {
        let target = deploy.join(&c.path);
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
            upgrade_of: None,
        });
    }
    Ok(out)
}

/// Undoes a release that was interrupted: whatever it installed is put back from its backup.
fn undo_interrupted(ctx: &Ctx, app: &App, j: Journal) -> Result<Report> {
    ctx.ui.line(crate::t!(
        "release-undoing",
        app = console::style(&app.name).bold().to_string(),
        kind = j.kind.shown(),
        id = &j.id,
        phase = format!("{:?}", j.phase)
    ));
    let mut run = Run::new(ctx, app, j, false);
    if run.j.phase >= Phase::BackedUp {
        run.step("restore", restore)?;
    } else {
        install::clean_temps(&run.j.deploy, &run.j.changes);
        let _ = std::fs::remove_dir_all(&run.j.backup);
    }
    if run.j.restart
        && run.j.phase >= Phase::Restarted
        && let Err(stop) = run.restart_and_verify(false)
    {
        return run.finish(Outcome::RollbackFailed, Some(said(stop)));
    }
    run.finish(Outcome::Undone, Some(text!("release-undone")))
}
