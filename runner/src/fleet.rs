//! Fleet release: `runner release <app>` on the central box, for an app with `hosts`. Per host,
//! over one ssh connection to `runner agent --stdio --app <app>` there: sync the central staging
//! dir into the host's staging dir, then run `runner release <app> --local` there and follow its
//! events. Hosts go in rolling batches with a barrier (a batch starts only when every host of
//! the previous one has verified); `before-host`/`after-host` plugin hooks run here around each
//! host (where `nginx-drain` takes the host out of the upstream).

use std::io::IsTerminal;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
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
use crate::release::{At, Ctx, Options, aborted};
use crate::report::{self, Event, first_line};
use crate::sync::{Guard, Session};

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
                    .map_err(|_| bad(format!("bad percentage `{s}`")))?;
                if !(p > 0.0 && p <= 100.0) {
                    return Err(bad(format!("`{s}` is not within 0-100%")));
                }
                (n as f64 * p / 100.0).ceil() as usize
            } else {
                s.parse::<usize>()
                    .map_err(|_| bad(format!("bad batch size `{s}`")))?
            };
            if size == 0 {
                return Err(bad(format!("batch `{s}` is empty")));
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

/// Why one host's release did not go through (its report's `error`).
#[derive(Debug, thiserror::Error)]
enum HostError {
    #[error("cannot connect to {to}: {}", transport(.source))]
    Connect { to: String, source: Error },
    #[error(
        "{source} (is runner {} installed there as `{agent}`? --install-agent copies this one)",
        env!("CARGO_PKG_VERSION")
    )]
    NoAgent { source: Error, agent: String },
    #[error("{source}; installing runner there failed too: {install}")]
    Install { source: Error, install: Box<Error> },
    #[error("sync: {0}")]
    Sync(#[source] Error),
    #[error(
        "{source} (the release there is journaled: `runner history {app}` on the host shows where it stopped)"
    )]
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
        format!("\n    its log ended: {}", log.join("\n      "))
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
            let width = hosts.iter().map(|h| h.len()).max().unwrap_or(8);
            let style = ProgressStyle::with_template(&format!(
                "{{spinner}} {{prefix:<{width}}}  {{msg:<40}} {{elapsed:>4}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bars = hosts
                .iter()
                .map(|h| {
                    let b = m.add(ProgressBar::new_spinner());
                    b.set_style(style.clone());
                    b.set_prefix(h.clone());
                    b.set_message("waiting");
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
            bars[i].set_message(state.to_string());
            bars[i].enable_steady_tick(Duration::from_millis(120));
        } else if self.json {
            report::emit(&Event::Host {
                host: self.hosts[i].clone(),
                state: state.to_string(),
            });
        } else if !self.quiet {
            eprintln!("  {}: {state}", self.hosts[i]);
        }
    }

    fn done(&self, i: usize, r: &HostReport) {
        let word = match &r.error {
            Some(e) => format!("{}: {}", r.outcome, first_line(e)),
            None => r.outcome.to_string(),
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

/// One roll in progress: what every host's release shares.
struct Roll<'a> {
    ctx: &'a Ctx<'a>,
    app: &'a App,
    fleet: &'a FleetFlags,
    opts: Options,
    id: String,
    view: View,
}

/// Rolls a release of `app` over its hosts.
pub fn release(ctx: &Ctx, app: &App, fleet: &FleetFlags, opts: Options) -> Result<FleetReport> {
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
            "fleet release",
        )?)
    };
    if let Some(h) = acquired.as_ref().and_then(|a| a.stale.as_ref()) {
        ctx.ui.warn(format!(
            "{}: took over a fleet lock left by pid {} ({}), which is no longer running",
            app.name, h.pid, h.user
        ));
    }
    let id = crate::release::new_id(cfg, &app.name);
    let t0 = Instant::now();
    let started = jiff::Timestamp::now().to_string();
    if !ctx.ui.json && !ctx.ui.quiet {
        let sizes: Vec<String> = sizes.iter().map(|s| s.to_string()).collect();
        eprintln!(
            "{} {} on {} hosts in batches of {} ({id})",
            console::style("fleet release").bold(),
            app.name,
            hosts.len(),
            sizes.join(", "),
        );
    }
    if opts.confirm
        && !crate::release::confirm(&format!(
            "Release {} on {} hosts ({})?",
            app.name,
            hosts.len(),
            hosts.join(", ")
        ))?
    {
        return Err(Error::Cancelled);
    }
    let roll = Roll {
        ctx,
        app,
        fleet,
        opts,
        id,
        view: View::new(&hosts, ctx.ui.json, ctx.ui.quiet),
    };
    let (mut reports, stopped) = roll.batches(&sizes);
    let mut outcome = if reports.iter().all(|r| r.outcome.ok()) {
        Outcome::Success
    } else {
        Outcome::Failed
    };
    if stopped && fleet.rollback_on_failure {
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
    };
    if !opts.dry_run {
        record(ctx, &report, started).save(&cfg.state_dir)?;
    }
    drop(acquired);
    Ok(report)
}

/// The central history record of a roll: each host's outcome.
fn record(ctx: &Ctx, report: &FleetReport, started: String) -> Record {
    Record {
        id: report.id.clone(),
        app: report.app.clone(),
        kind: Kind::Release,
        host: crate::host::hostname(),
        user: crate::host::user(),
        started,
        finished: jiff::Timestamp::now().to_string(),
        duration_ms: report.duration_ms,
        outcome: report.outcome,
        reverts: None,
        back_to: None,
        // A host's error names the host already.
        error: report
            .hosts
            .iter()
            .find_map(|h| h.error.as_deref().map(|e| first_line(e).to_string())),
        resumed: false,
        files: Vec::new(),
        steps: Vec::new(),
        hooks: ctx.plugins.map(|p| p.take_calls()).unwrap_or_default(),
        hosts: report.hosts.clone(),
    }
}

impl Roll<'_> {
    /// Every batch in turn; once more hosts failed than `--max-fail` allows, the rest are
    /// skipped. Returns each host's report and whether the roll stopped.
    fn batches(&self, sizes: &[usize]) -> (Vec<HostReport>, bool) {
        let hosts = &self.view.hosts;
        let results: Vec<Mutex<Option<HostReport>>> =
            hosts.iter().map(|_| Mutex::new(None)).collect();
        let set = |i: usize, r: HostReport| {
            self.view.done(i, &r);
            *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        };
        let mut failed = 0;
        let mut stopped = false;
        let mut start = 0;
        for (b, size) in sizes.iter().enumerate() {
            let batch = start..start + size;
            start += size;
            if stopped {
                for i in batch {
                    set(i, HostReport::new(&hosts[i], HostOutcome::Skipped));
                }
                continue;
            }
            let pause = self.fleet.pause.unwrap_or_default();
            if b > 0 && !pause.is_zero() {
                std::thread::sleep(pause);
            }
            self.batch(batch.clone(), &set);
            failed += batch
                .filter(|i| {
                    results[*i]
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .as_ref()
                        .is_some_and(|r| !r.outcome.ok())
                })
                .count();
            // A dry run is a check of the whole fleet: it visits every host.
            stopped = !self.opts.dry_run && failed > self.fleet.max_fail.unwrap_or(0);
        }
        let reports = results
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .expect("every host has a report")
            })
            .collect();
        (reports, stopped)
    }

    /// The barrier: every host of the batch finishes before the next batch starts. At most
    /// PARALLEL hosts are in flight at once (each is an ssh client and a thread here).
    fn batch(&self, batch: Range<usize>, set: &(dyn Fn(usize, HostReport) + Sync)) {
        let next = AtomicUsize::new(batch.start);
        std::thread::scope(|s| {
            for _ in 0..batch.len().min(PARALLEL) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= batch.end {
                            break;
                        }
                        set(i, self.host(i, RunKind::Release));
                    }
                });
            }
        });
    }

    /// Puts the hosts already released back, newest first, each drained like a release.
    /// How many were put back, and whether every one of them is back.
    fn roll_back(&self, reports: &mut [HostReport]) -> (usize, bool) {
        let mut all_back = true;
        let mut back = 0;
        for i in (0..reports.len()).rev() {
            if reports[i].outcome != HostOutcome::Verified {
                continue;
            }
            self.view.state(i, "rolling back");
            let r = self.host(i, RunKind::Rollback);
            if r.outcome.ok() {
                back += 1;
                reports[i].outcome = HostOutcome::RolledBack;
            } else {
                all_back = false;
                reports[i].outcome = HostOutcome::RollbackFailed;
                reports[i].error = r.error;
            }
            self.view.done(i, &reports[i]);
        }
        (back, all_back)
    }

    /// A central hook around one host; the host's address is the event's `host`.
    fn hook(
        &self,
        hook: Hook,
        host: &str,
        error: Option<&str>,
        outcome: Option<Outcome>,
    ) -> Option<String> {
        let at = At {
            release_id: &self.id,
            app: &self.app.name,
            host,
            changes: &[],
            dry_run: self.opts.dry_run,
        };
        aborted(self.ctx.call(hook, &at, error, outcome))
    }

    /// Host `i`: connect, before-host hook, sync, release (or rollback) there, after-host hook.
    /// A host that cannot be reached is never drained: an ssh hiccup must not take a healthy
    /// server out of its load balancer.
    fn host(&self, i: usize, task: RunKind) -> HostReport {
        let to = &self.app.hosts[i];
        let host = &self.view.hosts[i];
        let state = |s: &str| self.view.state(i, s);
        let t = Instant::now();
        let mut r = HostReport::new(host, HostOutcome::Failed);
        state("connecting");
        let session = match connect(self.ctx.cfg, self.app, to, self.fleet) {
            Ok(s) => s,
            Err(e) => {
                r.error = Some(e.to_string());
                r.ms = t.elapsed().as_millis() as u64;
                return r;
            }
        };
        r.connect_ms = t.elapsed().as_millis() as u64;
        state("draining");
        if let Some(reason) = self.hook(Hook::BeforeHost, host, None, None) {
            session.close(true);
            r.error = Some(reason);
            r.ms = t.elapsed().as_millis() as u64;
            return r;
        }
        r.drained = self
            .ctx
            .plugins
            .is_some_and(|p| p.subscribed(Hook::BeforeHost));
        if let Err(e) = self.on_host(session, task, &state, &mut r) {
            r.error = Some(format!("{host}: {e}"));
            if r.outcome == HostOutcome::Verified {
                r.outcome = HostOutcome::Failed;
            }
        }
        state("restoring");
        // A host whose release failed but whose previous build is back and verified is
        // healthy: told `rolled-back`, a drain plugin puts it back in rotation.
        let healthy = (r.release == Some(Outcome::RolledBack)).then_some(Outcome::RolledBack);
        if let Some(reason) = self.hook(Hook::AfterHost, host, r.error.clone().as_deref(), healthy)
            && r.error.is_none()
        {
            r.outcome = HostOutcome::Failed;
            r.error = Some(reason);
        }
        r.ms = t.elapsed().as_millis() as u64;
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
            RunKind::Rollback => "rolling back",
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
fn run_options(opts: Options) -> RunOptions {
    RunOptions {
        dry_run: opts.dry_run,
        no_restart: opts.no_restart,
        no_rollback: opts.no_rollback,
    }
}

/// What a host's `--events` stream has told so far: its report, the end of its start-up log.
#[derive(Default)]
struct Follow {
    report: Option<Report>,
    log_tail: Vec<String>,
    /// The failed build's last lines, once the host began rolling back.
    failed_tail: Option<Vec<String>>,
}

impl Follow {
    fn line(&mut self, line: &str, state: &dyn Fn(&str)) {
        // A line this runner cannot read (a newer host's event) is passed over.
        let Ok(ev) = serde_json::from_str::<Event>(line) else {
            return;
        };
        match ev {
            Event::Point { point, .. } => match point {
                Hook::BeforeBackup => state("backing up"),
                Hook::BeforeInstall => state("installing"),
                Hook::BeforeRestart => state("restarting"),
                Hook::BeforeVerify => state("verifying"),
                Hook::BeforeRollback => {
                    state("rolling back");
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
            .or_else(|| {
                let s = stderr.trim();
                (!s.is_empty()).then(|| s.lines().last().unwrap_or(s).to_string())
            })
            .unwrap_or_else(|| format!("runner {} exited with {code}", task.command()));
        let log = match self.failed_tail {
            Some(mut failed) => {
                if !self.log_tail.is_empty() {
                    failed.push("— after the rollback —".into());
                    failed.extend(self.log_tail);
                }
                failed
            }
            None => self.log_tail,
        };
        Err(HostError::Failed { why, log })
    }
}

/// Opens the agent session on `to` for `app` (ssh, batch mode). A host without this
/// runner's agent gets it copied there with `--install-agent`, else a message saying how.
fn connect(
    cfg: &Config,
    app: &App,
    to: &SshTarget,
    fleet: &FleetFlags,
) -> std::result::Result<Session, HostError> {
    match Session::open_app(to, &cfg.fleet, &app.name) {
        Ok(s) => Ok(s),
        Err(e @ (Error::AgentMissing { .. } | Error::AgentVersion { .. })) => {
            if !fleet.install_agent {
                return Err(HostError::NoAgent {
                    source: e,
                    agent: cfg.fleet.agent.clone(),
                });
            }
            let agent = match crate::sync::install_agent(to, &cfg.fleet.ssh_options) {
                Ok(agent) => agent,
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
            Session::open_app(to, &via, &app.name).map_err(|source| HostError::Connect {
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
