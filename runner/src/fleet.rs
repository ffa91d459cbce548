//! Fleet release: `runner release <app>` on the central box, for an app with `hosts`. Per host,
//! over one ssh connection to `runner agent --stdio --app <app>` there: sync the central staging
//! dir into the host's staging dir, then run `runner release <app> --local` there and follow its
//! events. Hosts go in rolling batches with a barrier (a batch starts only when every host of
//! the previous one has verified); `before-host`/`after-host` plugin hooks run here around each
//! host (where `nginx-drain` takes the host out of the upstream).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::cli::FleetFlags;
use crate::config::{App, Config, SyncTarget, parse_host};
use crate::error::{Error, Result};
use crate::history::{Outcome, Record};
use crate::journal::Kind;
use crate::plugin::{HookEvent, Verdict};
use crate::release::{Ctx, Options};
use crate::sync::{Session, Url};

/// What happened on one host.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct HostReport {
    pub host: String,
    /// verified | no-change | failed | rolled-back | skipped | unreachable
    pub outcome: String,
    /// The release id on the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub files: usize,
    /// Wall time for this host, and the parts of it: the ssh connection up to the agent's
    /// hello, the sync, and the release as the host timed it.
    pub ms: u64,
    #[serde(default)]
    pub connect_ms: u64,
    #[serde(default)]
    pub sync_ms: u64,
    #[serde(default)]
    pub release_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl HostReport {
    /// A host with nothing done yet (no id, no files, no times).
    fn new(host: &str, outcome: &str) -> HostReport {
        HostReport {
            host: host.to_string(),
            outcome: outcome.to_string(),
            id: None,
            files: 0,
            ms: 0,
            connect_ms: 0,
            sync_ms: 0,
            release_ms: 0,
            error: None,
        }
    }

    fn ok(&self) -> bool {
        matches!(self.outcome.as_str(), "verified" | "no-change" | "dry-run")
    }
}

/// The whole roll.
#[derive(Debug, Clone, Serialize)]
pub struct FleetReport {
    pub app: String,
    pub id: String,
    pub outcome: String,
    pub duration_ms: u64,
    pub hosts: Vec<HostReport>,
}

impl FleetReport {
    pub fn failed(&self) -> bool {
        self.outcome != "success"
    }
}

/// Batch sizes for `n` hosts from `--batch`: `N`, `N%` or a ramp `1,25%,100%` whose last step
/// repeats until every host has had its turn.
pub fn batches(spec: &str, n: usize) -> std::result::Result<Vec<usize>, String> {
    let steps: Vec<usize> = spec
        .split(',')
        .map(|s| {
            let s = s.trim();
            let size = if let Some(p) = s.strip_suffix('%') {
                let p: f64 = p.parse().map_err(|_| format!("bad percentage `{s}`"))?;
                if !(p > 0.0 && p <= 100.0) {
                    return Err(format!("`{s}` is not within 0-100%"));
                }
                (n as f64 * p / 100.0).ceil() as usize
            } else {
                s.parse::<usize>()
                    .map_err(|_| format!("bad batch size `{s}`"))?
            };
            if size == 0 {
                return Err(format!("batch `{s}` is empty"));
            }
            Ok(size)
        })
        .collect::<std::result::Result<_, _>>()?;
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
            println!(
                "{}",
                serde_json::json!({"event": "host", "host": self.hosts[i], "state": state})
            );
        } else if !self.quiet {
            eprintln!("  {}: {state}", self.hosts[i]);
        }
    }

    fn done(&self, i: usize, r: &HostReport) {
        let word = match &r.error {
            Some(e) => format!("{}: {}", r.outcome, first_line(e)),
            None => r.outcome.clone(),
        };
        if let Some((_, bars)) = &self.bars {
            bars[i].finish_with_message(word);
        } else if self.json {
            println!("{}", serde_json::json!({"event": "host-done", "report": r}));
        } else if !self.quiet {
            eprintln!("  {}: {word}", self.hosts[i]);
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// Rolls a release of `app` over its hosts.
pub fn release(ctx: &Ctx, app: &App, fleet: &FleetFlags, opts: Options) -> Result<FleetReport> {
    let cfg = ctx.cfg;
    let hosts = app.hosts.clone();
    let sizes = batches(&fleet.batch, hosts.len()).map_err(Error::Usage)?;
    // One fleet roll of an app at a time (the hosts lock their own releases too).
    let acquired = crate::lock::acquire(
        &cfg.state_dir,
        &format!("{}.fleet", app.name),
        "fleet release",
    )?;
    if let Some(h) = &acquired.stale {
        ctx.ui.warn(format!(
            "{}: took over a fleet lock left by pid {} ({}), which is no longer running",
            app.name, h.pid, h.user
        ));
    }
    let id = crate::release::new_id(cfg, &app.name);
    let t0 = Instant::now();
    let started = jiff::Timestamp::now().to_string();
    if !ctx.ui.json && !ctx.ui.quiet {
        eprintln!(
            "{} {} on {} hosts in batches of {} ({})",
            console::style("fleet release").bold(),
            app.name,
            hosts.len(),
            sizes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            id
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
        return Err(Error::Usage("cancelled".into()));
    }
    let view = View::new(&hosts, ctx.ui.json, ctx.ui.quiet);
    let results: Vec<Mutex<Option<HostReport>>> = hosts.iter().map(|_| Mutex::new(None)).collect();
    let mut failed = 0;
    let mut stopped = false;
    let mut start = 0;
    for (b, size) in sizes.iter().enumerate() {
        let batch = start..start + size;
        start += size;
        if stopped {
            for i in batch {
                let r = HostReport::new(&hosts[i], "skipped");
                view.done(i, &r);
                *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            }
            continue;
        }
        if b > 0 && !fleet.pause.is_zero() {
            std::thread::sleep(fleet.pause);
        }
        // The barrier: every host of the batch finishes before the next batch starts. At most
        // PARALLEL hosts are in flight at once (each is an ssh client and a thread here).
        let next = std::sync::atomic::AtomicUsize::new(batch.start);
        std::thread::scope(|s| {
            for _ in 0..(*size).min(PARALLEL) {
                let (view, results, hosts, id, next, end) =
                    (&view, &results, &hosts, &id, &next, batch.end);
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= end {
                            break;
                        }
                        let r =
                            host_release(ctx, app, &hosts[i], id, "release", opts, fleet, &|st| {
                                view.state(i, st)
                            });
                        view.done(i, &r);
                        *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                    }
                });
            }
        });
        failed += batch
            .clone()
            .filter(|i| {
                results[*i]
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .as_ref()
                    .is_some_and(|r| !r.ok())
            })
            .count();
        if failed > fleet.max_fail {
            stopped = true;
        }
    }
    let mut reports: Vec<HostReport> = results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every host has a report")
        })
        .collect();
    let mut outcome = if failed == 0 { "success" } else { "failed" };
    if stopped && fleet.rollback_on_failure {
        // Put the hosts already released back, newest first, each drained like a release.
        let mut all_back = true;
        for i in (0..reports.len()).rev() {
            if reports[i].outcome != "verified" {
                continue;
            }
            view.state(i, "rolling back");
            let r = host_release(ctx, app, &hosts[i], &id, "rollback", opts, fleet, &|st| {
                view.state(i, st)
            });
            if r.ok() {
                reports[i].outcome = "rolled-back".into();
            } else {
                all_back = false;
                reports[i].outcome = "rollback-failed".into();
                reports[i].error = r.error;
            }
            view.done(i, &reports[i]);
        }
        if all_back {
            outcome = "rolled-back";
        }
    }
    if let Some((m, _)) = &view.bars {
        let _ = m.clear();
    }
    let report = FleetReport {
        app: app.name.clone(),
        id: id.clone(),
        outcome: outcome.into(),
        duration_ms: t0.elapsed().as_millis() as u64,
        hosts: reports,
    };
    let record = Record {
        id,
        app: app.name.clone(),
        kind: Kind::Release,
        host: crate::hostname(),
        user: crate::user(),
        started,
        finished: jiff::Timestamp::now().to_string(),
        duration_ms: report.duration_ms,
        outcome: match outcome {
            "success" => Outcome::Success,
            "rolled-back" => Outcome::RolledBack,
            _ => Outcome::Failed,
        },
        reverts: None,
        error: report.hosts.iter().find_map(|h| {
            h.error
                .as_ref()
                .map(|e| format!("{}: {}", h.host, first_line(e)))
        }),
        resumed: false,
        files: Vec::new(),
        steps: Vec::new(),
        hooks: ctx.plugins.map(|p| p.take_calls()).unwrap_or_default(),
        hosts: report.hosts.clone(),
    };
    if !opts.dry_run {
        record.save(&cfg.state_dir)?;
    }
    drop(acquired);
    Ok(report)
}

/// A central hook around one host; the host's address is the event's `host`.
#[allow(clippy::too_many_arguments)]
fn host_hook(
    ctx: &Ctx,
    name: &str,
    app: &str,
    id: &str,
    host: &str,
    dry_run: bool,
    error: Option<&str>,
) -> Verdict {
    let Some(plugins) = ctx.plugins else {
        return Verdict::Proceed;
    };
    plugins.call(
        &HookEvent {
            hook: name,
            release_id: id,
            app,
            host,
            changes: &[],
            dry_run,
            error,
            outcome: None,
        },
        &ctx.ui,
    )
}

/// One host: before-host hook, connect, sync, release (or rollback) there, after-host hook.
#[allow(clippy::too_many_arguments)]
fn host_release(
    ctx: &Ctx,
    app: &App,
    host: &str,
    fleet_id: &str,
    command: &str,
    opts: Options,
    fleet: &FleetFlags,
    state: &dyn Fn(&str),
) -> HostReport {
    let t = Instant::now();
    let mut r = HostReport::new(host, "failed");
    state("draining");
    if let Verdict::Abort { reason, .. } = host_hook(
        ctx,
        "before-host",
        &app.name,
        fleet_id,
        host,
        opts.dry_run,
        None,
    ) {
        r.error = Some(reason);
        r.ms = t.elapsed().as_millis() as u64;
        return r;
    }
    let res = on_host(ctx.cfg, app, host, command, opts, fleet, state, &mut r);
    if let Err(e) = res {
        r.error = Some(format!("{host}: {e}"));
        if r.outcome == "verified" {
            r.outcome = "failed".into();
        }
    }
    state("restoring");
    let err = r.error.clone();
    if let Verdict::Abort { reason, .. } = host_hook(
        ctx,
        "after-host",
        &app.name,
        fleet_id,
        host,
        opts.dry_run,
        err.as_deref(),
    ) && r.error.is_none()
    {
        r.outcome = "failed".into();
        r.error = Some(reason);
    }
    r.ms = t.elapsed().as_millis() as u64;
    r
}

#[allow(clippy::too_many_arguments)]
fn on_host(
    cfg: &Config,
    app: &App,
    host: &str,
    command: &str,
    opts: Options,
    fleet: &FleetFlags,
    state: &dyn Fn(&str),
    r: &mut HostReport,
) -> std::result::Result<(), String> {
    state("connecting");
    let t = Instant::now();
    let mut session = connect(cfg, app, host, fleet)?;
    r.connect_ms = t.elapsed().as_millis() as u64;
    if command == "release" {
        state("syncing");
        let t = Instant::now();
        session
            .reconcile(cfg, &app.staging, None)
            .map_err(|e| format!("sync: {e}"))?;
        r.sync_ms = t.elapsed().as_millis() as u64;
    }
    state(if command == "release" {
        "releasing"
    } else {
        "rolling back"
    });
    let mut flags = Vec::new();
    if opts.dry_run {
        flags.push("--dry-run".to_string());
    }
    if opts.no_restart {
        flags.push("--no-restart".to_string());
    }
    if opts.no_rollback {
        flags.push("--no-rollback".to_string());
    }
    let mut report: Option<serde_json::Value> = None;
    let mut log_tail: Vec<String> = Vec::new();
    let (code, stderr) = session
        .run(command, &flags, &mut |line| {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                return;
            };
            match v["event"].as_str() {
                Some("point") => match v["point"].as_str() {
                    Some("before-backup") => state("backing up"),
                    Some("before-install") => state("installing"),
                    Some("before-restart") => state("restarting"),
                    Some("before-verify") => state("verifying"),
                    Some("before-rollback") => state("rolling back"),
                    _ => {}
                },
                Some("log") => {
                    log_tail.push(v["line"].as_str().unwrap_or_default().to_string());
                    if log_tail.len() > 5 {
                        log_tail.remove(0);
                    }
                }
                Some("report") => report = Some(v["report"].clone()),
                _ => {}
            }
        })
        .map_err(|e| format!("{e} (the release there is journaled: `runner history {}` on the host shows where it stopped)", app.name))?;
    session.close(true);
    let rep = report.unwrap_or_default();
    r.id = rep["id"].as_str().map(str::to_string);
    r.files = rep["files"].as_u64().unwrap_or(0) as usize;
    r.release_ms = rep["duration_ms"].as_u64().unwrap_or(0);
    let outcome = rep["outcome"].as_str().unwrap_or("");
    r.outcome = match (code, outcome) {
        (0, "success") => "verified".into(),
        (0, "no-change") => "no-change".into(),
        (0, "dry-run") => "dry-run".into(),
        (0, other) if !other.is_empty() => other.to_string(),
        (0, _) => "verified".into(),
        _ => "failed".into(),
    };
    if code != 0 {
        let why = rep["error"]
            .as_str()
            .map(str::to_string)
            .or_else(|| {
                let s = stderr.trim();
                (!s.is_empty()).then(|| s.lines().last().unwrap_or(s).to_string())
            })
            .unwrap_or_else(|| format!("runner {command} exited with {code}"));
        let log = if log_tail.is_empty() {
            String::new()
        } else {
            format!("\n    its log ended: {}", log_tail.join("\n      "))
        };
        return Err(format!("{why}{log}"));
    }
    Ok(())
}

/// Opens the agent session on `host` for `app` (ssh, batch mode).
fn connect(
    cfg: &Config,
    app: &App,
    host: &str,
    fleet: &FleetFlags,
) -> std::result::Result<Session, String> {
    let h = parse_host(host)?;
    let row = SyncTarget {
        source: app.staging.clone(),
        target: format!("ssh://{host}/{}", app.name),
        password_file: None,
        ssh_options: cfg.fleet.ssh_options.clone(),
        agent: cfg.fleet.agent.clone(),
    };
    let url = Url::Ssh {
        user: h.user,
        host: h.name,
        port: h.port,
        path: String::new(),
    };
    match Session::open_app(&row, &url, &app.name, cfg.fleet.config.as_deref()) {
        Ok(s) => Ok(s),
        Err(e) if fleet.install_agent => {
            let installed = crate::sync::install_agent(&row, &url)
                .map_err(|i| format!("{e}; installing runner there failed too: {i}"))?;
            let row = SyncTarget {
                agent: installed,
                ..row
            };
            Session::open_app(&row, &url, &app.name, cfg.fleet.config.as_deref())
                .map_err(|e| e.to_string())
        }
        Err(e) => {
            // ssh got in, but no (or another) runner answered: say how to fix that.
            let text = e.to_string();
            let no_agent = [
                "not found",
                "No such file",
                "protocol version",
                "Permission denied",
            ]
            .iter()
            .any(|m| text.contains(m))
                && !text.contains("Permission denied (publickey");
            Err(if no_agent {
                format!(
                    "{text} (is runner {} installed there as `{}`? --install-agent copies this one)",
                    env!("CARGO_PKG_VERSION"),
                    cfg.fleet.agent
                )
            } else {
                text
            })
        }
    }
}

/// The final table.
pub fn print_table(r: &FleetReport) {
    use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
    let mut t = Table::new();
    t.load_style(UTF8_BORDERS_ONLY);
    t.set_header(vec!["host", "outcome", "release", "files", "time", "error"]);
    for h in &r.hosts {
        t.add_row(vec![
            h.host.clone(),
            h.outcome.clone(),
            h.id.clone().unwrap_or_default(),
            h.files.to_string(),
            crate::report::secs(Duration::from_millis(h.ms)),
            h.error
                .as_deref()
                .map(first_line)
                .unwrap_or_default()
                .to_string(),
        ]);
    }
    println!("{t}");
    let counts: BTreeMap<&str, usize> = r.hosts.iter().fold(BTreeMap::new(), |mut m, h| {
        *m.entry(h.outcome.as_str()).or_default() += 1;
        m
    });
    println!(
        "{} {} {}: {} in {}",
        console::style("fleet").bold(),
        r.app,
        r.id,
        if r.failed() {
            console::style(r.outcome.clone()).red().bold()
        } else {
            console::style(r.outcome.clone()).green().bold()
        },
        crate::report::secs(Duration::from_millis(r.duration_ms))
    );
    println!(
        "  {}",
        counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
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
