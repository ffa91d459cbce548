//! `runner release a b c -j N` (and `--all -j N`, `restart -j N`): N apps at once, each in a
//! runner process of its own (`runner release <app> --local --yes --events`), so each keeps its
//! own lock, journal, record and signal handling, exactly as when run alone. Their event lines
//! come back here and are printed prefixed by the app; a table sums them up at the end.
//!
//! Signals: each app's process runs in a process group of its own, and this one passes every
//! SIGINT/SIGTERM it gets on to each of them — a terminal's Ctrl-C and a `kill` of this pid
//! alike reach every app once (a first asks each to stop at its next safe point, a second to
//! stop at once), and this process waits for them and prints the table.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::Ordering;

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
    // en: an internal error (exit 4) is for a bug report
    let exe = std::env::current_exe().map_err(Error::internal("runner (its own path)"))?;
    let width = apps.iter().map(|a| a.name.len()).max().unwrap_or(0);
    let running: Mutex<Vec<u32>> = Mutex::new(Vec::new());
    let received = std::sync::atomic::AtomicI32::new(0);
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    // en: an internal error (exit 4) is for a bug report
    .map_err(Error::internal("the signal handler"))?;
    let signals_handle = signals.handle();
    let spawn = Spawn {
        exe: &exe,
        config,
        task,
        options,
        width,
        ui,
        running: &running,
    };
    // In the order the apps were named.
    let done: Vec<Done> = std::thread::scope(|s| {
        s.spawn(|| {
            for sig in signals.forever() {
                let _ = received.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
                forward(sig, &running);
            }
        });
        let ran = crate::threads::map_at_once(apps.len(), jobs, |i| {
            // No new app once a signal came.
            (received.load(Ordering::SeqCst) == 0).then(|| one(&spawn, apps[i]))
        });
        // Every app is done: the signal thread may end.
        signals_handle.close();
        ran.into_iter().flatten().collect()
    });
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
                    crate::t!("release-not-started"),
                    String::new(),
                    d.error.clone().unwrap_or_default(),
                ),
            })
            .collect();
        println!();
        report::apps_table(&rows);
    }
    if let sig @ 1.. = received.load(Ordering::SeqCst) {
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
/// What every app's process is started with.
struct Spawn<'a> {
    exe: &'a Path,
    config: &'a Path,
    task: RunKind,
    options: RunOptions,
    /// The longest app name: the prefix's width.
    width: usize,
    ui: Ui,
    /// The apps' processes running now, for `forward`.
    running: &'a Mutex<Vec<u32>>,
}

fn one(sp: &Spawn, app: &App) -> Done {
    let Spawn {
        exe,
        config,
        task,
        options,
        width,
        ui,
        running,
    } = *sp;
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
        // Its own process group: a terminal's Ctrl-C reaches it through `forward`, once.
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            done.error = Some(crate::t!("release-cannot-start", error = e.to_string()));
            return done;
        }
    };
    let pid = child.id();
    running.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
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
    running
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|p| *p != pid);
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

/// Passes `sig` on to every app's process still running.
fn forward(sig: i32, running: &Mutex<Vec<u32>>) {
    let Some(signal) = rustix::process::Signal::from_named_raw(sig) else {
        return;
    };
    for pid in running.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        if let Some(pid) = rustix::process::Pid::from_raw(*pid as i32) {
            let _ = rustix::process::kill_process(pid, signal);
        }
    }
}

fn summary(r: &Report) -> String {
    match (&r.outcome, &r.error) {
        (Outcome::Success, _) => format!("{} {}", r.outcome, r.id.as_deref().unwrap_or("")),
        (o, Some(e)) => format!("{o}: {}", first_line(e)),
        (o, None) => o.to_string(),
    }
}
