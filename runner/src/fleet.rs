//! Fleet release: `runner release <app>` on the central box, for an app with `hosts`. Per host,
//! over one ssh connection to `runner agent --stdio --app <app>` there: sync the central staging
//! dir into the host's staging dir, then run `runner release <app> --local` there and follow its
//! events. Hosts go in rolling batches with a barrier (a batch starts only when every host of
//! the previous one has verified); `before-host`/`after-host` plugin hooks run here around each
//! host (where `nginx-drain` takes the host out of the upstream).

use std::io::IsTerminal;
use std::ops::Range;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::address::SshTarget;
use crate::agent::protocol::{RunKind, RunOptions};
use crate::cli::FleetFlags;
use crate::config::{App, Config, Fleet};
use crate::error::{Error, Result};
use crate::history::Record;
use crate::hook::Hook;
use crate::journal::Kind;
use crate::lock;
use crate::outcome::{FleetReport, HostOutcome, HostReport, Outcome, Report};
use crate::plugin::Batch;
use crate::release::{At, Ctx, Options, aborted};
use crate::report::{self, Event, first_line};
use crate::sync::{AgentInstall, Guard, Session, install_agent};

/// Batch sizes for `n` hosts from `--batch`: `N`, `N%` or a ramp `1,25%,100%` whose last step
/// repeats until every host has had its turn.
pub fn batches(spec: &str, n: usize) -> Result<Vec<usize>> {
    let steps: Vec<usize> = spec
        .split(',')
        .map(|s| {
            let s = s.trim();
            let bad = |why: String| Error::Usage(format!("--batch: {why}"));
            let size = if let Some(p) = s.strip_suffix('%') {
                let p: f64 = p
                    .parse()
                    .map_err(|_| bad(crate::t!("fleet-batch-bad-percentage", spec = s)))?;
                if !(p > 0.0 && p <= 100.0) {
                    return Err(bad(crate::t!("fleet-batch-out-of-range", spec = s)));
                }
                (n as f64 * p / 100.0).ceil() as usize
            } else {
                s.parse::<usize>()
                    .map_err(|_| bad(crate::t!("fleet-batch-bad-size", spec = s)))?
            };
            if size == 0 {
                return Err(bad(crate::t!("fleet-batch-empty", spec = s)));
            }
            Ok(size)
        })
        .collect::<Result<_>>()?;
    let mut out = Vec::new();
    let mut left = n;
    let mut i = 0;
    while left > 0 {
        let size = steps[i.min(steps.len() - 1)].min(left);
        out.push(size);
        left -= size;
        i += 1;
    }
    Ok(out)
}

/// Why one host's release did not go through (its report's `error`, which is recorded: it is
/// put into words in English).
#[derive(Debug, thiserror::Error)]
enum HostError {
    #[error("{}", crate::t!("fleet-host-connect", to = .to, error = transport(.source)))]
    Connect { to: String, source: Error },
    #[error(
        "{}",
        crate::t!(
            "fleet-host-no-agent",
            error = .source.to_string(),
            version = env!("CARGO_PKG_VERSION"),
            agent = .agent
        )
    )]
    NoAgent { source: Error, agent: String },
    #[error(
        "{}",
        crate::t!("fleet-host-install", error = .source.to_string(), install = .install.to_string())
    )]
    Install { source: Error, install: Box<Error> },
    #[error("{}", crate::t!("fleet-host-sync", error = .0.to_string()))]
    Sync(#[source] Error),
    #[error("{}", crate::t!("fleet-host-lost", error = .source.to_string(), app = .app))]
    Lost { source: Error, app: String },
    /// The host's release failed: why, and the end of its start-up log.
    #[error("{why}{}", log_tail(.log))]
    Failed { why: String, log: Vec<String> },
}

/// What the transport said, without the `sync to ssh://…` framing of a sync error.
fn transport(e: &Error) -> String {
    match e {
        Error::Sync { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

fn log_tail(log: &[String]) -> String {
    if log.is_empty() {
        String::new()
    } else {
        format!(
            "\n    {}",
            crate::t!("fleet-host-log-ended", log = log.join("\n      "))
        )
    }
}

/// Hosts of one batch in flight at once.
pub const PARALLEL: usize = 32;

/// The live view: a line per host (state, elapsed) in a terminal, state changes as lines
/// otherwise, JSON events with `--json`.
struct View {
    bars: Option<(MultiProgress, Vec<ProgressBar>)>,
    json: bool,
    quiet: bool,
    hosts: Vec<String>,
}

impl View {
    fn new(hosts: &[String], json: bool, quiet: bool) -> View {
        let bars = (!json && !quiet && std::io::stderr().is_terminal()).then(|| {
            let m = MultiProgress::new();
            // The state takes what the terminal has left and is cut there: a line never wraps
            // (a wrapped line breaks the redraw). A long address is cut to 40 columns.
            let width = hosts.iter().map(|h| h.len()).max().unwrap_or(8).min(40);
            let style = ProgressStyle::with_template(&format!(
                "{{spinner}} {{prefix:<{width}!}} {{elapsed:>4}}  {{wide_msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bars = hosts
                .iter()
                .map(|h| {
                    let b = m.add(ProgressBar::new_spinner());
                    b.set_style(style.clone());
                    b.set_prefix(h.clone());
                    b.set_message(shown_state("waiting"));
                    b
                })
                .collect();
            (m, bars)
        });
        View {
            bars,
            json,
            quiet,
            hosts: hosts.to_vec(),
        }
    }

    fn state(&self, i: usize, state: &str) {
        if let Some((_, bars)) = &self.bars {
            bars[i].set_message(shown_state(state));
            bars[i].enable_steady_tick(Duration::from_millis(120));
        } else if self.json {
            report::emit(&Event::Host {
                host: self.hosts[i].clone(),
                state: state.to_string(),
            });
        } else if !self.quiet {
            eprintln!("  {}: {}", self.hosts[i], shown_state(state));
        }
    }

    fn done(&self, i: usize, r: &HostReport) {
        let word = match &r.error {
            Some(e) => format!("{}: {}", r.outcome.shown(), first_line(e)),
            None => r.outcome.shown(),
        };
        if let Some((_, bars)) = &self.bars {
            bars[i].finish_with_message(word);
        } else if self.json {
            report::emit(&Event::HostDone { report: r.clone() });
        } else if !self.quiet {
            eprintln!("  {}: {word}", self.hosts[i]);
        }
    }

    fn clear(&self) {
        if let Some((m, _)) = &self.bars {
            let _ = m.clear();
        }
    }
}

/// A host's state as the terminal shows it (`--json` keeps the English name).
fn shown_state(state: &str) -> String {
    match state {
        "waiting" => crate::t!("host-waiting"),
        "connecting" => crate::t!("host-connecting"),
        "draining" => crate::t!("host-draining"),
        "syncing" => crate::t!("host-syncing"),
        "releasing" => crate::t!("host-releasing"),
        "backing up" => crate::t!("host-backing-up"), // en: a state's name (--json)
        "installing" => crate::t!("host-installing"),
        "restarting" => crate::t!("host-restarting"),
        "verifying" => crate::t!("host-verifying"),
        "rolling back" => crate::t!("host-rolling-back"), // en: a state's name (--json)
        "restoring" => crate::t!("host-restoring"),
        "asking" => crate::t!("fleet-host-asking"),
        other => other.to_string(),
    }
}

/// One roll in progress: what every host's release shares.
struct Roll<'a> {
    ctx: &'a Ctx<'a>,
    app: &'a App,
    fleet: &'a FleetFlags,
    opts: Options,
    /// What each host runs: a release, or a restart.
    task: RunKind,
    id: String,
    view: View,
}

/// Rolls a release of `app` over its hosts.
pub fn release(ctx: &Ctx, app: &App, fleet: &FleetFlags, opts: Options) -> Result<FleetReport> {
    roll(ctx, app, fleet, opts, RunKind::Release)
}

/// Rolls a restart of `app` over its hosts: `runner restart --local` on each, in the same
/// batches, drained the same way, with no sync and nothing to roll back.
pub fn restart(ctx: &Ctx, app: &App, fleet: &FleetFlags, opts: Options) -> Result<FleetReport> {
    roll(ctx, app, fleet, opts, RunKind::Restart)
}

fn roll(
    ctx: &Ctx,
    app: &App,
    fleet: &FleetFlags,
    opts: Options,
    task: RunKind,
) -> Result<FleetReport> {
    let cfg = ctx.cfg;
    let hosts = crate::address::names(&app.hosts);
    let sizes = batches(fleet.batch.as_deref().unwrap_or("1"), hosts.len())?;
    // One fleet roll of an app at a time (the hosts lock their own releases too). A dry run
    // changes nothing, so it takes no lock: it may check the fleet while a roll is on.
    let acquired = if opts.dry_run {
        None
    } else {
        Some(lock::acquire(
            &cfg.state_dir,
            lock::Scope::Fleet(&app.name),
            match task {
                RunKind::Restart => "fleet restart", // en: the lock file's record of its holder
                _ => "fleet release",                // en: the lock file's record of its holder
            },
        )?)
    };
    if let Some(h) = acquired.as_ref().and_then(|a| a.stale.as_ref()) {
        ctx.ui.warn(crate::t!(
            "fleet-lock-taken-over",
            app = &app.name,
            pid = h.pid,
            user = &h.user
        ));
    }
    let id = crate::release::new_id(cfg, &app.name);
    let t0 = Instant::now();
    let started = jiff::Timestamp::now().to_string();
    if !ctx.ui.json && !ctx.ui.quiet {
        let sizes: Vec<String> = sizes.iter().map(|s| s.to_string()).collect();
        let title = match task {
            RunKind::Restart => crate::t!("fleet-title-restart"),
            _ => crate::t!("fleet-title-release"),
        };
        eprintln!(
            "{}",
            report::wrapped_err(&crate::t!(
                "fleet-announce",
                title = console::style(title).bold().to_string(),
                app = &app.name,
                n = hosts.len(),
                sizes = sizes.join(", "),
                id = &id,
            ))
        );
    }
    if opts.confirm
        && !crate::release::confirm(&match task {
            RunKind::Restart => crate::t!(
                "fleet-confirm-restart",
                app = &app.name,
                n = hosts.len(),
                hosts = hosts.join(", ")
            ),
            _ => crate::t!(
                "fleet-confirm-release",
                app = &app.name,
                n = hosts.len(),
                hosts = hosts.join(", ")
            ),
        })?
    {
        return Err(Error::Cancelled);
    }
    let roll = Roll {
        ctx,
        app,
        fleet,
        opts,
        task,
        id,
        view: View::new(&hosts, ctx.ui.json, ctx.ui.quiet),
    };
    let (mut reports, stop) = roll.batches(&sizes);
    let mut outcome = if stop.is_none() && reports.iter().all(|r| r.outcome.ok()) {
        Outcome::Success
    } else {
        Outcome::Failed
    };
    // A restart changed no file: there is nothing to roll back.
    if stop.is_some() && fleet.rollback_on_failure && task == RunKind::Release {
        let (back, all_back) = roll.roll_back(&mut reports);
        if back > 0 && all_back {
            outcome = Outcome::RolledBack;
        }
    }
    roll.view.clear();
    let report = FleetReport {
        app: app.name.clone(),
        id: roll.id,
        outcome,
        duration_ms: t0.elapsed().as_millis() as u64,
        hosts: reports,
        error: match stop {
            Some(Stop::Plugin(reason)) => Some(reason),
            _ => None,
        },
    };
    if !opts.dry_run {
        record(ctx, &report, task, started).save(&cfg.state_dir)?;
    }
    drop(acquired);
    Ok(report)
}

/// The central history record of a roll: each host's outcome.
fn record(ctx: &Ctx, report: &FleetReport, task: RunKind, started: String) -> Record {
    Record {
        id: report.id.clone(),
        app: report.app.clone(),
        kind: match task {
            RunKind::Restart => Kind::Restart,
            _ => Kind::Release,
        },
        host: crate::host::hostname(),
        user: crate::host::user(),
        started,
        finished: jiff::Timestamp::now().to_string(),
        duration_ms: report.duration_ms,
        outcome: report.outcome,
        reverts: None,
        back_to: None,
        // A host's error names the host already.
        error: report.error.clone().or_else(|| {
            report
                .hosts
                .iter()
                .find_map(|h| h.error.as_deref().map(|e| first_line(e).to_string()))
        }),
        resumed: false,
        files: Vec::new(),
        steps: Vec::new(),
        hooks: ctx.plugins.map(|p| p.take_calls()).unwrap_or_default(),
        hosts: report.hosts.clone(),
    }
}

/// A host of a batch that connected.
struct Open {
    /// Index into the roll's hosts.
    i: usize,
    session: Session,
    /// When its connect began, and how long it took.
    t: Instant,
    connect_ms: u64,
    /// What `--install-agent` sent it, if runner was installed there.
    installed: Option<AgentInstall>,
}

/// The hosts of a batch that connected, in the batch's order.
struct Connected {
    hosts: Vec<Open>,
    names: Vec<String>,
}

impl Roll<'_> {
    /// Every batch in turn; once more hosts failed than `--max-fail` allows, or a batch hook
    /// aborted, the rest are skipped. Returns each host's report and why the roll stopped.
    fn batches(&self, sizes: &[usize]) -> (Vec<HostReport>, Option<Stop>) {
        let hosts = &self.view.hosts;
        let mut reports: Vec<Option<HostReport>> = vec![None; hosts.len()];
        let mut failed = 0;
        let mut stop = None;
        let mut start = 0;
        for (b, size) in sizes.iter().enumerate() {
            let batch = start..start + size;
            start += size;
            if stop.is_some() {
                for i in batch {
                    let r = HostReport::new(&hosts[i], HostOutcome::Skipped);
                    self.view.done(i, &r);
                    reports[i] = Some(r);
                }
                continue;
            }
            let pause = self.fleet.pause.unwrap_or_default();
            if b > 0 && !pause.is_zero() {
                std::thread::sleep(pause);
            }
            let number = BatchNo {
                number: b + 1,
                of: sizes.len(),
            };
            let (done, aborted) = self.batch(number, batch, self.task);
            for (i, r) in done {
                failed += usize::from(!r.outcome.ok());
                reports[i] = Some(r);
            }
            // A dry run is a check of the whole fleet: it visits every host.
            if self.opts.dry_run {
                continue;
            }
            stop = match aborted {
                Some(reason) => Some(Stop::Plugin(reason)),
                None => (failed > self.fleet.max_fail.unwrap_or(0)).then_some(Stop::Failed),
            };
        }
        let reports = reports
            .into_iter()
            .map(|r| r.expect("every host has a report"))
            .collect();
        (reports, stop)
    }

    /// One batch, with its barrier: every host connects, `before-batch` (the drain) runs for
    /// those that did, each host is released (at most PARALLEL in flight, each an ssh client
    /// and a thread here), and `after-batch` runs once all have finished. Returns each host's
    /// report, and why a batch hook stopped the roll.
    fn batch(
        &self,
        number: BatchNo,
        hosts: Range<usize>,
        task: RunKind,
    ) -> (Vec<(usize, HostReport)>, Option<String>) {
        let done = Mutex::new(Vec::with_capacity(hosts.len()));
        let finish = |i: usize, r: HostReport| {
            if task != RunKind::Rollback {
                self.view.done(i, &r);
            }
            lock(&done).push((i, r));
        };
        let aborted = if self.subscribed(Hook::BeforeBatch) {
            let connected = self.connect(hosts, &finish);
            self.released(number, connected, task, &finish)
        } else {
            self.pipelined(number, hosts, task, &finish)
        };
        let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
        done.sort_by_key(|(i, _)| *i);
        (done, aborted)
    }

    fn subscribed(&self, hook: Hook) -> bool {
        self.ctx.plugins.is_some_and(|p| p.subscribed(hook))
    }

    /// Connects host `i`. Err is its report: it cannot be reached (and is never drained).
    fn open(&self, i: usize) -> std::result::Result<Open, Box<HostReport>> {
        self.view.state(i, "connecting");
        let t = Instant::now();
        match connect(self.ctx.cfg, self.app, &self.app.hosts[i], self.fleet) {
            Ok((session, installed)) => Ok(Open {
                i,
                session,
                t,
                connect_ms: t.elapsed().as_millis() as u64,
                installed,
            }),
            Err(e) => {
                let mut r = HostReport::new(&self.view.hosts[i], HostOutcome::Failed);
                r.error = Some(crate::i18n::english(|| e.to_string()));
                r.ms = t.elapsed().as_millis() as u64;
                Err(Box::new(r))
            }
        }
    }

    /// Connects every host of a batch at once; a host that cannot be reached is finished here.
    fn connect(
        &self,
        hosts: Range<usize>,
        finish: &(dyn Fn(usize, HostReport) + Sync),
    ) -> Connected {
        let sessions: Vec<Mutex<Option<Open>>> = hosts.clone().map(|_| Mutex::new(None)).collect();
        in_parallel(hosts.clone(), |i| match self.open(i) {
            Ok(open) => *lock(&sessions[i - hosts.start]) = Some(open),
            Err(r) => finish(i, *r),
        });
        let mut c = Connected {
            hosts: Vec::new(),
            names: Vec::new(),
        };
        for open in sessions
            .into_iter()
            .filter_map(|s| s.into_inner().unwrap_or_else(|e| e.into_inner()))
        {
            c.names.push(self.view.hosts[open.i].clone());
            c.hosts.push(open);
        }
        c
    }

    /// With a `before-batch` hook: the batch's connected hosts between `before-batch` (which
    /// waits for all of them to connect) and `after-batch`.
    fn released(
        &self,
        number: BatchNo,
        c: Connected,
        task: RunKind,
        finish: &(dyn Fn(usize, HostReport) + Sync),
    ) -> Option<String> {
        if c.hosts.is_empty() {
            return None;
        }
        let batch = Batch {
            number: number.number,
            of: number.of,
            hosts: &c.names,
            failed: &[],
        };
        for open in &c.hosts {
            self.view.state(open.i, "draining");
        }
        if let Some(reason) = self.hook(Hook::BeforeBatch, "", Some(batch), None, None) {
            // No host of the batch is touched; the after-batch hooks put back what the
            // before-batch hooks before the refusing one did.
            for open in c.hosts {
                open.session.close(true);
                let mut r = HostReport::new(&self.view.hosts[open.i], HostOutcome::Skipped);
                r.error = Some(crate::i18n::english(|| {
                    crate::t!("fleet-not-released", reason = &reason)
                }));
                r.connect_ms = open.connect_ms;
                r.agent_install = open.installed;
                r.ms = open.t.elapsed().as_millis() as u64;
                finish(open.i, r);
            }
            let outcome = Some(Outcome::Cancelled);
            self.hook(Hook::AfterBatch, "", Some(batch), Some(&reason), outcome);
            return Some(reason);
        }
        let failed = Mutex::new(Vec::new());
        let work: Vec<Mutex<Option<Open>>> =
            c.hosts.into_iter().map(|h| Mutex::new(Some(h))).collect();
        in_parallel(0..work.len(), |k| {
            if let Some(open) = lock(&work[k]).take() {
                self.run_host(open, task, batch, true, &failed, finish);
            }
        });
        self.after_batch(batch, failed)
    }

    /// Without a `before-batch` hook nothing waits for the batch to connect: each host goes on
    /// as soon as it is connected (the batch in its host hooks' event: all of its hosts).
    fn pipelined(
        &self,
        number: BatchNo,
        hosts: Range<usize>,
        task: RunKind,
        finish: &(dyn Fn(usize, HostReport) + Sync),
    ) -> Option<String> {
        let all = &self.view.hosts[hosts.clone()];
        let batch = Batch {
            number: number.number,
            of: number.of,
            hosts: all,
            failed: &[],
        };
        let (connected, failed) = (Mutex::new(Vec::new()), Mutex::new(Vec::new()));
        in_parallel(hosts, |i| match self.open(i) {
            Ok(open) => {
                lock(&connected).push((i, self.view.hosts[i].clone()));
                self.run_host(open, task, batch, false, &failed, finish);
            }
            Err(r) => finish(i, *r),
        });
        let mut connected = connected.into_inner().unwrap_or_else(|e| e.into_inner());
        if connected.is_empty() {
            return None;
        }
        connected.sort();
        let names: Vec<String> = connected.into_iter().map(|(_, h)| h).collect();
        let batch = Batch {
            hosts: &names,
            ..batch
        };
        self.after_batch(batch, failed)
    }

    /// One connected host's release, timed from its connect; a failure is listed in `failed`.
    fn run_host(
        &self,
        open: Open,
        task: RunKind,
        batch: Batch,
        drained: bool,
        failed: &Mutex<Vec<(usize, String)>>,
        finish: &(dyn Fn(usize, HostReport) + Sync),
    ) {
        let (i, t) = (open.i, open.t);
        let mut r = self.host(open, task, batch);
        r.drained |= drained;
        r.ms = t.elapsed().as_millis() as u64;
        if !r.outcome.ok() {
            lock(failed).push((i, r.host.clone()));
        }
        finish(i, r);
    }

    /// `after-batch`, with the hosts that failed. Returns its abort reason.
    fn after_batch(&self, batch: Batch, failed: Mutex<Vec<(usize, String)>>) -> Option<String> {
        let mut failed = failed.into_inner().unwrap_or_else(|e| e.into_inner());
        failed.sort();
        let failed: Vec<String> = failed.into_iter().map(|(_, h)| h).collect();
        // The hooks' event, in English as the rest of it.
        let error = (!failed.is_empty()).then(|| {
            crate::i18n::english(|| {
                crate::t!(
                    "fleet-batch-failed",
                    failed = failed.len(),
                    n = batch.hosts.len(),
                    hosts = failed.join(", ")
                )
            })
        });
        let outcome = if failed.is_empty() {
            Outcome::Success
        } else {
            Outcome::Failed
        };
        let batch = Batch {
            failed: &failed,
            ..batch
        };
        self.hook(
            Hook::AfterBatch,
            "",
            Some(batch),
            error.as_deref(),
            Some(outcome),
        )
    }

    /// Puts the hosts already released back, newest first, each a batch of its own (drained
    /// like a release). How many were put back, and whether every one of them is back.
    fn roll_back(&self, reports: &mut [HostReport]) -> (usize, bool) {
        let back: Vec<usize> = (0..reports.len())
            .rev()
            .filter(|i| reports[*i].outcome == HostOutcome::Verified)
            .collect();
        let mut all_back = true;
        let mut count = 0;
        for (k, &i) in back.iter().enumerate() {
            self.view.state(i, "rolling back"); // en: a state's name (--json)
            let number = BatchNo {
                number: k + 1,
                of: back.len(),
            };
            let (done, _) = self.batch(number, i..i + 1, RunKind::Rollback);
            let Some((_, r)) = done.into_iter().next() else {
                continue;
            };
            if r.outcome.ok() {
                count += 1;
                reports[i].outcome = HostOutcome::RolledBack;
            } else {
                all_back = false;
                reports[i].outcome = HostOutcome::RollbackFailed;
                reports[i].error = r.error;
            }
            self.view.done(i, &reports[i]);
        }
        (count, all_back)
    }

    /// A central hook: around one host (its address is the event's `host`) or a batch.
    fn hook(
        &self,
        hook: Hook,
        host: &str,
        batch: Option<Batch>,
        error: Option<&str>,
        outcome: Option<Outcome>,
    ) -> Option<String> {
        let at = At {
            release_id: &self.id,
            app: &self.app.name,
            host,
            batch,
            changes: &[],
            dry_run: self.opts.dry_run,
        };
        aborted(self.ctx.call(hook, &at, error, outcome))
    }

    /// Host `i`, connected: before-host hook, sync, release (or rollback) there, after-host
    /// hook. The after-host hooks run whatever happened once the before-host hooks were
    /// called, so a plugin that drained the host can put it back.
    fn host(&self, open: Open, task: RunKind, batch: Batch) -> HostReport {
        let Open {
            i,
            session,
            connect_ms,
            installed,
            ..
        } = open;
        let host = &self.view.hosts[i];
        let state = |s: &str| self.view.state(i, s);
        let mut r = HostReport::new(host, HostOutcome::Failed);
        r.connect_ms = connect_ms;
        r.agent_install = installed;
        if self.subscribed(Hook::BeforeHost) {
            state("draining");
        }
        // How the host ended, for the after-host hooks: `rolled-back` is a failed release whose
        // previous build is back and verified, `cancelled` a host nothing was done on; both
        // are healthy, so a drain plugin puts them back in rotation.
        let healthy = match self.hook(Hook::BeforeHost, host, Some(batch), None, None) {
            Some(reason) => {
                session.close(true);
                r.error = Some(reason);
                Some(Outcome::Cancelled)
            }
            None => {
                // Its before-host hooks went through: a drain plugin took it out.
                r.drained = self.subscribed(Hook::BeforeHost);
                if let Err(e) = self.on_host(session, task, &state, &mut r) {
                    r.error = Some(crate::i18n::english(|| format!("{host}: {e}")));
                    if r.outcome == HostOutcome::Verified {
                        r.outcome = HostOutcome::Failed;
                    }
                }
                (r.release == Some(Outcome::RolledBack)).then_some(Outcome::RolledBack)
            }
        };
        state("restoring");
        let error = r.error.clone();
        if let Some(reason) = self.hook(
            Hook::AfterHost,
            host,
            Some(batch),
            error.as_deref(),
            healthy,
        ) && r.error.is_none()
        {
            r.outcome = HostOutcome::Failed;
            r.error = Some(reason);
        }
        r
    }

    /// Sync (for a release), and run the task on the host, following its events.
    fn on_host(
        &self,
        mut session: Session,
        task: RunKind,
        state: &dyn Fn(&str),
        r: &mut HostReport,
    ) -> std::result::Result<(), HostError> {
        let (cfg, app) = (self.ctx.cfg, self.app);
        if task == RunKind::Release {
            state("syncing");
            let t = Instant::now();
            session
                .reconcile(cfg, &app.staging, None, Guard::AllowDeleteAll)
                .map_err(HostError::Sync)?;
            r.sync_ms = t.elapsed().as_millis() as u64;
        }
        state(match task {
            RunKind::Release => "releasing",
            RunKind::Restart => "restarting",
            RunKind::Status => "asking",
            RunKind::Rollback => "rolling back", // en: a state's name (--json)
        });
        let mut follow = Follow::default();
        let (code, stderr) = session
            .run(task, run_options(self.opts), &mut |line| {
                follow.line(line, state)
            })
            .map_err(|source| HostError::Lost {
                source,
                app: app.name.clone(),
            })?;
        session.close(true);
        follow.settle(task, code, &stderr, r)
    }
}

/// The options of the host's own release (or rollback).
pub(crate) fn run_options(opts: Options) -> RunOptions {
    RunOptions {
        dry_run: opts.dry_run,
        no_restart: opts.no_restart,
        no_rollback: opts.no_rollback,
        lang: Some(crate::i18n::lang()),
    }
}

/// What a host's `--events` stream has told so far: its report, the end of its start-up log.
#[derive(Default)]
struct Follow {
    report: Option<Report>,
    log_tail: Vec<String>,
    /// The failed build's last lines, once the host began rolling back.
    failed_tail: Option<Vec<String>>,
    /// The error the host's runner ended with, when it sent no report.
    error: Option<String>,
}

impl Follow {
    fn line(&mut self, line: &str, state: &dyn Fn(&str)) {
        // A line this runner cannot read (a newer host's event) is passed over.
        let Ok(ev) = serde_json::from_str::<Event>(line) else {
            return;
        };
        match ev {
            Event::Point { point, .. } => match point {
                Hook::BeforeBackup => state("backing up"), // en: a state's name (--json)
                Hook::BeforeInstall => state("installing"),
                Hook::BeforeRestart => state("restarting"),
                Hook::BeforeVerify => state("verifying"),
                Hook::BeforeRollback => {
                    state("rolling back"); // en: a state's name (--json)
                    self.failed_tail = Some(std::mem::take(&mut self.log_tail));
                }
                _ => {}
            },
            Event::Log { line } => {
                self.log_tail.push(line);
                if self.log_tail.len() > 5 {
                    self.log_tail.remove(0);
                }
            }
            Event::Report { report } => self.report = Some(report),
            // A host that fails before its report says why in an error event (in English).
            Event::Error { message, .. } => self.error = Some(message),
            _ => {}
        }
    }

    /// The host's outcome from its exit code and report; Err is why it failed.
    fn settle(
        self,
        task: RunKind,
        code: i32,
        stderr: &str,
        r: &mut HostReport,
    ) -> std::result::Result<(), HostError> {
        let rep = self.report;
        r.id = rep.as_ref().and_then(|p| p.id.clone());
        r.files = rep.as_ref().map_or(0, |p| p.files);
        r.release_ms = rep.as_ref().map_or(0, |p| p.duration_ms);
        r.release = rep.as_ref().map(|p| p.outcome);
        r.outcome = match (code, &rep) {
            (0, Some(p)) => p.outcome.into(),
            (0, None) => HostOutcome::Verified,
            _ => HostOutcome::Failed,
        };
        if code == 0 {
            return Ok(());
        }
        let why = rep
            .and_then(|p| p.error)
            .or(self.error)
            .or_else(|| {
                let s = stderr.trim();
                (!s.is_empty()).then(|| s.lines().last().unwrap_or(s).to_string())
            })
            .unwrap_or_else(|| {
                crate::i18n::english(|| {
                    crate::t!("fleet-host-exited", command = task.command(), code = code)
                })
            });
        let log = match self.failed_tail {
            Some(mut failed) => {
                if !self.log_tail.is_empty() {
                    failed.push(crate::i18n::english(|| {
                        crate::t!("fleet-log-after-rollback")
                    }));
                    failed.extend(self.log_tail);
                }
                failed
            }
            None => self.log_tail,
        };
        Err(HostError::Failed { why, log })
    }
}

/// A mutex's value, even if a thread panicked holding it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Which batch of how many.
#[derive(Clone, Copy)]
struct BatchNo {
    number: usize,
    of: usize,
}

/// Why a roll stopped before its last batch.
enum Stop {
    /// More hosts failed than `--max-fail` allows.
    Failed,
    /// A `before-batch` or `after-batch` hook aborted: its reason.
    Plugin(String),
}

/// Runs `f` for each of `items`, on up to PARALLEL threads at once; returns when all are done.
fn in_parallel(items: Range<usize>, f: impl Fn(usize) + Sync) {
    crate::threads::map_at_once(items.len(), PARALLEL, |k| f(items.start + k));
}

/// Opens the agent session on `to` for `app` (ssh, batch mode). A host without this
/// runner's agent gets it copied there with `--install-agent`, else a message saying how.
fn connect(
    cfg: &Config,
    app: &App,
    to: &SshTarget,
    fleet: &FleetFlags,
) -> std::result::Result<(Session, Option<AgentInstall>), HostError> {
    match Session::open_app(to, &cfg.fleet, &app.name) {
        Ok(s) => Ok((s, None)),
        Err(e @ (Error::AgentMissing { .. } | Error::AgentVersion { .. })) => {
            if !fleet.install_agent {
                return Err(HostError::NoAgent {
                    source: e,
                    agent: cfg.fleet.agent.clone(),
                });
            }
            let f = &cfg.fleet;
            let (agent, sent) = match install_agent(to, &f.ssh_options, f.agent_binary.as_deref()) {
                Ok(installed) => installed,
                Err(install) => {
                    return Err(HostError::Install {
                        source: e,
                        install: Box::new(install),
                    });
                }
            };
            let via = Fleet {
                agent,
                ..cfg.fleet.clone()
            };
            Session::open_app(to, &via, &app.name)
                .map(|s| (s, Some(sent)))
                .map_err(|source| HostError::Connect {
                    to: to.to_string(),
                    source,
                })
        }
        Err(source) => Err(HostError::Connect {
            to: to.to_string(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_specs() {
        assert_eq!(batches("1", 3).unwrap(), vec![1, 1, 1]);
        assert_eq!(batches("25%", 20).unwrap(), vec![5, 5, 5, 5]);
        assert_eq!(batches("1,25%,100%", 20).unwrap(), vec![1, 5, 14]);
        assert_eq!(batches("2", 5).unwrap(), vec![2, 2, 1]);
        assert_eq!(batches("10%", 3).unwrap(), vec![1, 1, 1]);
        assert!(batches("0", 3).is_err());
        assert!(batches("x", 3).is_err());
        assert!(batches("150%", 3).is_err());
    }
}
