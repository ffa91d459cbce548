//! `runner release a b c -j N` (and `--all -j N`, `restart -j N`): N apps at once, each in a
//! runner process of its own (`runner release <app> --local --yes --events`), so each keeps its
//! own lock, journal, record and signal handling, exactly as when run alone. Their event lines
//! come back here and are printed prefixed by the app; a table sums them up at the end.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::agent::protocol::{RunKind, RunOptions};
use crate::config::App;
use crate::error::{Error, ExitCode, Result};
use crate::outcome::{Outcome, Report};
use crate::report::{self, Event, Ui, first_line};

/// How one app's process ended.
struct Done {
    app: String,
    report: Option<Report>,
    /// Its error line when it ended without a report (it could not start).
    error: Option<String>,
    code: i32,
}

/// Runs `task` for each app, `jobs` at a time; the exit code of them all.
pub fn run(
    config: &Path,
    apps: &[&App],
    task: RunKind,
    options: RunOptions,
    jobs: usize,
    ui: Ui,
) -> Result<ExitCode> {
    let exe = std::env::current_exe().map_err(Error::internal("runner (its own path)"))?;
    // The apps' processes get a terminal's Ctrl-C themselves and stop at their safe points;
    // this one waits for them (a second Ctrl-C ends it).
    let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
    let _in_flight = crate::interrupt::InFlight::new(&names.join(", "));
    let width = apps.iter().map(|a| a.name.len()).max().unwrap_or(0);
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Done>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(apps.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(app) = apps.get(i) else { break };
                    let d = one(&exe, config, app, task, options, width, ui);
                    done.lock().unwrap_or_else(|e| e.into_inner()).push(d);
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    // In the order the apps were named.
    done.sort_by_key(|d| apps.iter().position(|a| a.name == d.app));
    let reports: Vec<Report> = done.iter().filter_map(|d| d.report.clone()).collect();
    if ui.json && !ui.events {
        report::print_json("reports", &reports);
    } else if !ui.quiet && !ui.events {
        let rows: Vec<(String, String, String, String)> = done
            .iter()
            .map(|d| match &d.report {
                Some(r) => (
                    r.app.clone(),
                    r.outcome.to_string(),
                    r.id.clone().unwrap_or_default(),
                    r.error
                        .as_deref()
                        .map(first_line)
                        .unwrap_or_default()
                        .to_string(),
                ),
                None => (
                    d.app.clone(),
                    "not started".into(),
                    String::new(),
                    d.error.clone().unwrap_or_default(),
                ),
            })
            .collect();
        println!();
        report::apps_table(&rows);
    }
    if let Some(sig) = crate::interrupt::received() {
        return Ok(crate::interrupt::code(sig));
    }
    // Not started (usage, lock) keeps its own code; a failed release is 1.
    let worst = done
        .iter()
        .filter(|d| d.report.is_none())
        .map(|d| d.code.clamp(0, 255) as u8)
        .max();
    let failed = reports.iter().any(Report::failed);
    Ok(match worst {
        Some(code) if code > 0 => ExitCode(code.max(u8::from(failed))),
        _ => ExitCode::failed_if(failed),
    })
}

/// One app's process, its lines printed as they come, prefixed by the app.
fn one(
    exe: &Path,
    config: &Path,
    app: &App,
    task: RunKind,
    options: RunOptions,
    width: usize,
    ui: Ui,
) -> Done {
    let mut done = Done {
        app: app.name.clone(),
        report: None,
        error: None,
        code: 1,
    };
    let spawned = Command::new(exe)
        .arg("-c")
        .arg(config)
        .args([
            "--color",
            if console::colors_enabled() {
                "always"
            } else {
                "never"
            },
        ])
        .args([task.command(), &app.name, "--local", "--yes", "--events"])
        .args(options.flags())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            done.error = Some(format!("cannot start runner: {e}"));
            return done;
        }
    };
    let prefix = format!("{:<width$}", app.name);
    let say = |line: &str| {
        if !ui.json && !ui.quiet && !ui.events {
            println!("{} {line}", console::style(&prefix).bold());
        }
    };
    // Its stderr (warnings, its own error) is passed on, prefixed, as it comes.
    let mut err = child.stderr.take().expect("piped");
    let name = prefix.clone();
    let quiet = ui.quiet;
    let stderr = std::thread::spawn(move || {
        let mut all = String::new();
        let _ = err.read_to_string(&mut all);
        for line in all.lines().filter(|l| !l.trim().is_empty()) {
            if !quiet || line.contains("warning") || line.starts_with("runner:") {
                eprintln!("{name} {line}");
            }
        }
        all
    });
    for line in BufReader::new(child.stdout.take().expect("piped"))
        .lines()
        .map_while(std::result::Result::ok)
    {
        // With --events the apps' lines go out as they are (each names its release).
        if ui.events {
            println!("{line}");
        }
        match serde_json::from_str::<Event>(&line) {
            Ok(Event::Step { step, ok, detail }) => say(&format!(
                "{} {step:<8} {detail}",
                if ok { "✓" } else { "✗" }
            )),
            Ok(Event::Log { line }) => say(&format!("│ {line}")),
            Ok(Event::Report { report }) => {
                say(&summary(&report));
                done.report = Some(report);
            }
            Ok(Event::Error { message, code }) => {
                done.error = Some(first_line(&message).to_string());
                done.code = code.into();
            }
            _ => {}
        }
    }
    let status = child.wait();
    let stderr = stderr.join().unwrap_or_default();
    if let Ok(s) = status {
        done.code = s.code().unwrap_or(1);
    }
    if done.report.is_none() && done.error.is_none() {
        done.error = stderr
            .lines()
            .find(|l| l.starts_with("runner:"))
            .map(|l| l.trim_start_matches("runner:").trim().to_string());
    }
    done
}

fn summary(r: &Report) -> String {
    match (&r.outcome, &r.error) {
        (Outcome::Success, _) => format!("{} {}", r.outcome, r.id.as_deref().unwrap_or("")),
        (o, Some(e)) => format!("{o}: {}", first_line(e)),
        (o, None) => o.to_string(),
    }
}
