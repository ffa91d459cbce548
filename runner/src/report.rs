//! What a person sees: plan tables, step lines, live log lines, progress bars, summaries.

use std::io::IsTerminal;
use std::time::Duration;

use comfy_table::{Cell, Color, Table, presets::UTF8_BORDERS_ONLY};
use console::style;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::plan::{Action, Change, Plan};

/// Hashing or copying below this many bytes is quick enough to need no bar.
const BAR_THRESHOLD: u64 = 64 << 20;

/// A byte-count progress bar on stderr, shown only in a terminal and for big jobs.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn bytes(label: &str, total: u64) -> Progress {
        if total < BAR_THRESHOLD || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        // One shared set of bars: targets synced in parallel each get a line.
        static BARS: std::sync::OnceLock<MultiProgress> = std::sync::OnceLock::new();
        let bar = BARS
            .get_or_init(MultiProgress::new)
            .add(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>16} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(label.to_string());
        Progress(Some(bar))
    }

    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// Output settings shared by every command.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ui {
    pub json: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// Progress as JSON lines on stdout instead of human output (`--events`).
    pub events: bool,
}

pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(8)]
}

pub fn size(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

pub fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

impl Ui {
    /// Prints a line of human output (suppressed by `--json` and `-q`).
    pub fn line(&self, s: impl AsRef<str>) {
        if !self.json && !self.quiet && !self.events {
            println!("{}", s.as_ref());
        }
    }

    /// One `--events` line on stdout (flushed: a fleet release watches it live).
    pub fn event(&self, v: &serde_json::Value) {
        if self.events {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{v}");
            let _ = out.flush();
        }
    }

    pub fn warn(&self, s: impl AsRef<str>) {
        eprintln!(
            "{} {}",
            style("runner: warning:").yellow().bold(),
            s.as_ref()
        );
    }

    /// A step finished: `  ✓ backup    3 files  12 ms`.
    pub fn step(&self, ok: bool, step: &str, detail: impl AsRef<str>) {
        if self.events {
            self.event(&serde_json::json!({"event": "step", "step": step, "ok": ok,
                "detail": detail.as_ref()}));
            return;
        }
        let mark = if ok {
            style("✓").green().bold()
        } else {
            style("✗").red().bold()
        };
        self.line(format!("  {mark} {:<9} {}", step, detail.as_ref()));
    }

    /// A line of the app's start-up log, shown live while verifying.
    pub fn log_line(&self, line: &str) {
        if self.events {
            self.event(&serde_json::json!({"event": "log", "line": line}));
        } else if !self.json && !self.quiet {
            println!("  {} {}", style("│").dim(), style(line).dim());
        }
    }

    /// The plan as a table: added / modified / removed (and unchanged with `-v`).
    pub fn plan(&self, plan: &Plan) {
        if self.json || self.quiet {
            return;
        }
        let header = format!(
            "{}  {} added, {} modified, {} removed, {} unchanged",
            style(&plan.app).bold(),
            plan.count(Action::Added),
            plan.count(Action::Modified),
            plan.count(Action::Removed),
            plan.count(Action::Unchanged),
        );
        println!("{header}");
        for p in &plan.problems {
            println!(
                "  {} {}: {}",
                style("invalid").red().bold(),
                p.path.display(),
                p.reason
            );
        }
        let rows: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| self.verbose || c.action != Action::Unchanged)
            .collect();
        if rows.is_empty() {
            return;
        }
        let mut t = Table::new();
        t.load_style(UTF8_BORDERS_ONLY);
        t.set_header(vec!["", "path", "size", "sha256"]);
        for c in rows {
            let (label, color) = match c.action {
                Action::Added => ("added", Color::Green),
                Action::Modified => ("modified", Color::Yellow),
                Action::Removed => ("removed", Color::Red),
                Action::Unchanged => ("unchanged", Color::DarkGrey),
            };
            let sizes = match (&c.old, &c.new) {
                (Some(o), Some(n)) if o.size != n.size => {
                    format!("{} → {}", size(o.size), size(n.size))
                }
                (_, Some(n)) => size(n.size),
                (Some(o), None) => size(o.size),
                _ => String::new(),
            };
            let shas = match (&c.old, &c.new) {
                (Some(o), Some(n)) if o.sha256 != n.sha256 => {
                    format!("{} → {}", short(&o.sha256), short(&n.sha256))
                }
                (_, Some(n)) => short(&n.sha256).to_string(),
                (Some(o), None) => short(&o.sha256).to_string(),
                _ => String::new(),
            };
            let mut path = c.path.clone();
            if let Some(d) = &c.entries {
                let limit = if self.verbose { usize::MAX } else { 20 };
                let lines: Vec<String> = d
                    .added
                    .iter()
                    .map(|e| format!("  + {e}"))
                    .chain(d.removed.iter().map(|e| format!("  - {e}")))
                    .chain(d.changed.iter().map(|e| format!("  ~ {e}")))
                    .collect();
                let n = lines.len();
                for l in lines.into_iter().take(limit) {
                    path.push('\n');
                    path.push_str(&l);
                }
                if n > limit {
                    path.push_str(&format!("\n  … {} more (-v)", n - limit));
                }
                if n == 0 {
                    path.push_str("\n  (same entries; metadata only)");
                }
            }
            t.add_row(vec![
                Cell::new(label).fg(color),
                Cell::new(path),
                Cell::new(sizes),
                Cell::new(shas),
            ]);
        }
        println!("{t}");
    }
}
