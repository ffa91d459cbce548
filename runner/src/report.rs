//! What a person sees: plan tables, step lines, live log lines, summaries, the tables of
//! `history`, `sync`, `plugin list` and a fleet roll, errors; and what a program sees: the
//! `--events` lines and `--json` documents.

use std::collections::BTreeMap;
use std::time::Duration;

use comfy_table::presets::{ASCII_BORDERS_ONLY_CONDENSED, NOTHING, UTF8_BORDERS_ONLY};
use comfy_table::{Cell, Color, ContentArrangement, Table};
use console::style;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::history::Record;
use crate::hook::Hook;
use crate::journal::Kind;
use crate::outcome::{FleetReport, HostOutcome, HostReport, Report};
use crate::plan::{Action, Change, Plan};
use crate::sync::SyncReport;

/// One line of `--events` (what a fleet release reads from each host) or of a fleet roll's
/// `--json` stream: what the terminal shows, as data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A hook point was reached (whether or not a plugin is subscribed to it).
    Point { point: Hook, release: String },
    /// A step finished.
    Step {
        step: String,
        ok: bool,
        detail: String,
    },
    /// A line of the app's start-up log.
    Log { line: String },
    /// An app's release ended.
    Report { report: Report },
    /// An app's release could not run.
    Error { message: String, code: u8 },
    /// A host of a fleet roll changed state.
    Host { host: String, state: String },
    /// A host of a fleet roll is done.
    HostDone { report: HostReport },
    /// The fleet roll is done.
    Fleet { report: FleetReport },
}

/// The version of every `--json` document and `--events` line (`docs/json.md`). A field may be
/// added without a new version; one renamed, retyped or removed makes version 2.
pub const SCHEMA: u32 = 1;

/// An event line as it is written: the event with the schema version.
#[derive(Serialize)]
struct Line<'a> {
    schema: u32,
    #[serde(flatten)]
    ev: &'a Event,
}

/// Writes `ev` as one JSON line on stdout, flushed (a fleet release watches it live).
pub fn emit(ev: &Event) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Ok(line) = serde_json::to_string(&Line { schema: SCHEMA, ev }) {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

/// A `--json` document on stdout: `{"schema": 1, "<key>": value}`.
pub fn print_json<T: Serialize + ?Sized>(key: &str, v: &T) {
    print_json_doc(&[(key, serde_json::to_value(v).unwrap_or_default())]);
}

/// A `--json` document of several keys: `{"schema": 1, "<key>": value, …}`.
pub fn print_json_doc(fields: &[(&str, serde_json::Value)]) {
    let mut doc = serde_json::Map::new();
    doc.insert("schema".into(), SCHEMA.into());
    for (k, v) in fields {
        doc.insert(k.to_string(), v.clone());
    }
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
}

/// An error with `--json`: `{"schema": 1, "error": {"kind", "message", "help"}, "exit": N}` on
/// stdout (the human message still goes to stderr). A document: in English, whatever the
/// language.
pub fn print_json_error(e: &Error) {
    let (message, help) = crate::i18n::english(|| (e.to_string(), e.help()));
    let doc = serde_json::json!({
        "schema": SCHEMA,
        "error": {
            "kind": e.kind(),
            "message": message,
            "help": help,
        },
        "exit": e.exit_code().0,
    });
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
}

/// The one place an error reaches the operator: `runner: <message>`, and what to do about it.
pub fn print_error(e: &Error) {
    eprintln!("{} {e}", style("runner:").red().bold());
    if let Some(help) = e.help() {
        eprintln!("  {} {help}", style(crate::t!("report-help")).cyan());
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

    /// One `--events` line on stdout, when asked for.
    pub fn event(&self, ev: &Event) {
        if self.events {
            emit(ev);
        }
    }

    pub fn warn(&self, s: impl AsRef<str>) {
        eprintln!(
            "{} {}",
            style(format!("runner: {}", crate::t!("report-warning")))
                .yellow()
                .bold(),
            s.as_ref()
        );
    }

    /// A step finished: `  ✓ backup    3 files  12 ms`.
    pub fn step(&self, ok: bool, step: &str, detail: impl AsRef<str>) {
        if self.events {
            self.event(&Event::Step {
                step: step.to_string(),
                ok,
                detail: detail.as_ref().to_string(),
            });
            return;
        }
        let mark = if ok {
            style("✓").green().bold()
        } else {
            style("✗").red().bold()
        };
        let width = 9usize.saturating_sub(console::measure_text_width(&step_name(step)));
        self.line(format!(
            "  {mark} {}{} {}",
            step_name(step),
            " ".repeat(width),
            detail.as_ref()
        ));
    }

    /// A line of the app's start-up log, shown live while verifying.
    pub fn log_line(&self, line: &str) {
        if self.events {
            self.event(&Event::Log {
                line: line.to_string(),
            });
        } else if !self.json && !self.quiet {
            println!("  {} {}", style("│").dim(), style(line).dim());
        }
    }

    /// The plan as a table: added / modified / removed (and unchanged with `-v`).
    pub fn plan(&self, plan: &Plan) {
        // Warnings reach stderr even with --json (where they are in the document too).
        for w in &plan.warnings {
            self.warn(format!("{}: {w}", plan.app));
        }
        // With --events stdout is JSON lines only (the report carries the plan's counts).
        if self.json || self.quiet || self.events {
            return;
        }
        let header = format!(
            "{}  {}",
            style(&plan.app).bold(),
            crate::t!(
                "plan-header",
                added = plan.count(Action::Added),
                modified = plan.count(Action::Modified),
                removed = plan.count(Action::Removed),
                unchanged = plan.count(Action::Unchanged)
            )
        );
        println!("{header}");
        for p in &plan.problems {
            println!(
                "  {} {}: {}",
                style(crate::t!("report-invalid")).red().bold(),
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
        let mut t = table(vec![
            String::new(),
            crate::t!("col-path"),
            crate::t!("col-size"),
            "sha256".to_string(),
        ]);
        for c in rows {
            let (label, color) = match c.action {
                Action::Added if c.upgrade_of.is_some() => {
                    (crate::t!("action-upgraded"), Color::Cyan)
                }
                Action::Added => (crate::t!("action-added"), Color::Green),
                Action::Modified => (crate::t!("action-modified"), Color::Yellow),
                Action::Removed => (crate::t!("action-removed"), Color::Red),
                Action::Unchanged => (crate::t!("action-unchanged"), Color::DarkGrey),
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
            let mut path = match &c.upgrade_of {
                Some(old) => format!("{old} → {}", c.path),
                None => c.path.clone(),
            };
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
                    path.push_str(&format!("\n  {}", crate::t!("entries-more", n = n - limit)));
                }
                if n == 0 {
                    path.push_str(&format!("\n  {}", crate::t!("entries-same")));
                }
            }
            t.add_row(vec![
                paint(Cell::new(label), color),
                Cell::new(path),
                Cell::new(sizes),
                Cell::new(shas),
            ]);
        }
        show(&t);
    }
}

/// `cell` in `color`, unless colours are off (`--color never`, `NO_COLOR`, not a terminal).
fn paint(cell: Cell, color: Color) -> Cell {
    if console::colors_enabled() {
        cell.fg(color)
    } else {
        cell
    }
}

/// A table that wraps its cells to fit the terminal's width (piped: as wide as it needs).
/// A table for stdout: in a terminal, boxed (UTF-8 lines when the locale is UTF-8, ASCII
/// otherwise) and wrapped to its width; piped or in a file, plain aligned columns, one line per
/// row, for grep and awk.
fn table<S: Into<String>>(header: Vec<S>) -> Table {
    let mut t = Table::new();
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        t.load_style(if utf8_locale() {
            UTF8_BORDERS_ONLY
        } else {
            ASCII_BORDERS_ONLY_CONDENSED
        });
        t.set_content_arrangement(ContentArrangement::Dynamic);
    } else {
        t.load_style(NOTHING);
        t.set_content_arrangement(ContentArrangement::Disabled);
    }
    t.set_header(header.into_iter().map(Into::into).collect::<Vec<String>>());
    t
}

/// What a cell says for "nothing": a dash, ASCII outside a UTF-8 locale.
pub fn none() -> &'static str {
    if utf8_locale() { "—" } else { "-" }
}

/// Prints a table made by [`table`]; plain columns lose their trailing blanks.
fn show(t: &Table) {
    for line in t.lines() {
        println!("{}", line.trim_end());
    }
}

/// Whether the locale's character set is UTF-8 (`LC_ALL`, else `LC_CTYPE`, else `LANG`, as
/// setlocale reads them); unset means the C locale.
pub fn utf8_locale() -> bool {
    let set = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_default()
        .to_ascii_lowercase();
    set.contains("utf-8") || set.contains("utf8")
}

/// The terminal's width when stdout is one.
fn width() -> Option<usize> {
    width_of(&console::Term::stdout())
}

fn width_of(term: &console::Term) -> Option<usize> {
    let (_, cols) = term.size_checked()?;
    Some(cols as usize)
}

/// `text` wrapped to the width of `term` (when it is a terminal): the first line indented by
/// `first` spaces, the others by `rest`.
fn wrap_for(term: &console::Term, text: &str, first: usize, rest: usize) -> String {
    let (first, rest) = (" ".repeat(first), " ".repeat(rest));
    match width_of(term) {
        Some(w) if w > rest.len().max(first.len()) + 20 => {
            let opts = textwrap::Options::new(w - 1)
                .initial_indent(&first)
                .subsequent_indent(&rest);
            textwrap::fill(text, opts)
        }
        _ => format!("{first}{text}"),
    }
}

/// `text` wrapped for stdout, every line indented by `indent`.
fn wrapped(text: &str, indent: usize) -> String {
    wrap_for(&console::Term::stdout(), text, indent, indent)
}

/// `text` wrapped for stderr (where progress and step lines go), its continuation lines
/// indented.
pub fn wrapped_err(text: &str) -> String {
    wrap_for(&console::Term::stderr(), text, 0, 2)
}

/// An RFC 3339 time as the operator reads it: local, to the second, with the zone's offset.
pub fn local_time(ts: &str) -> String {
    ts.parse::<jiff::Timestamp>()
        .map(|t| {
            t.to_zoned_datetime(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M:%S %:z")
                .to_string()
        })
        .unwrap_or_else(|_| ts.to_string())
}

/// `runner status`: a row per app, then what needs saying at more length.
pub fn status_table(apps: &[crate::cmd::status::AppStatus], verbose: bool) {
    let mut t = table(status_headers(crate::t!("col-app")));
    let mut notes = Vec::new();
    for a in apps {
        let mut row = vec![Cell::new(&a.app)];
        row.extend(status_cells(a));
        t.add_row(row);
        if let Some(l) = &a.last {
            notes.push(crate::t!(
                "status-note-last",
                app = a.app.as_str(),
                id = l.id.as_str(),
                at = local_time(&l.finished),
                outcome = l.outcome.shown()
            ));
        }
        if let Some(b) = a.busy.as_ref().filter(|b| b.state == "interrupted") {
            notes.push(crate::t!(
                "status-note-interrupted",
                app = a.app.as_str(),
                id = b.id.as_deref().unwrap_or("?"),
                user = b.user.as_str(),
                since = local_time(&b.since)
            ));
        }
        match &a.drift {
            Some(d) if d.count() > 0 && verbose => {
                for line in d.lines() {
                    notes.push(format!("{}: {line}", a.app));
                }
            }
            Some(d) if d.count() > 0 => notes.push(crate::t!(
                "status-note-drift",
                app = a.app.as_str(),
                n = d.count()
            )),
            _ => {}
        }
        for e in &a.errors {
            notes.push(format!("{}: {}", a.app, first_line(e)));
        }
    }
    show(&t);
    for n in notes {
        println!("{}", wrapped(&n, 2));
    }
    for a in apps.iter().filter(|a| !a.hosts.is_empty()) {
        println!();
        hosts_status_table(a);
    }
}

/// The headers of a status table: `first` (app or host), then those of [`status_cells`].
fn status_headers(first: String) -> Vec<String> {
    vec![
        first,
        crate::t!("col-deployed"),
        crate::t!("col-at"),
        crate::t!("col-by"),
        crate::t!("col-drift"),
        crate::t!("col-pending"),
        crate::t!("col-state"),
        crate::t!("col-health"),
    ]
}

/// The cells of one status row after its name: deployed, at, by, drift, pending, state, health.
fn status_cells(a: &crate::cmd::status::AppStatus) -> Vec<Cell> {
    let (id, at, by) = match &a.deployed {
        Some(d) => {
            let id = match d.kind {
                Kind::Release => d.id.clone(),
                other => format!("{} ({})", d.id, other.shown()),
            };
            (id, local_time(&d.finished), d.user.clone())
        }
        None => (none().into(), String::new(), String::new()),
    };
    let fleet = !a.hosts.is_empty();
    let drift = match &a.drift {
        None if fleet => Cell::new(none()),
        None => Cell::new(crate::t!("status-drift-unknown")),
        Some(d) if d.count() == 0 => Cell::new(crate::t!("status-drift-none")),
        Some(d) => paint(
            Cell::new(crate::t!("status-drift-files", n = d.count())),
            Color::Red,
        ),
    };
    let state = match &a.busy {
        None => Cell::new(""),
        Some(b) if b.state == "running" => Cell::new(crate::t!(
            "status-releasing",
            pid = b.pid.unwrap_or_default(),
            user = b.user.as_str()
        )),
        Some(_) => paint(Cell::new(crate::t!("status-interrupted")), Color::Red),
    };
    let health = match &a.health {
        None if fleet => {
            let up = a
                .hosts
                .iter()
                .filter(|h| {
                    h.status
                        .as_ref()
                        .and_then(|s| s.health.as_ref())
                        .is_some_and(|x| x.up)
                })
                .count();
            let cell = Cell::new(crate::t!("status-hosts-up", up = up, n = a.hosts.len()));
            if up == a.hosts.len() {
                paint(cell, Color::Green)
            } else {
                paint(cell, Color::Red)
            }
        }
        None => Cell::new(none()),
        Some(h) if h.up => paint(
            Cell::new(match &h.build {
                Some(b) => crate::t!("status-up-build", build = b.as_str()),
                None => crate::t!("status-up"),
            }),
            Color::Green,
        ),
        Some(h) => paint(
            Cell::new(crate::t!("status-down", why = first_line(&h.answer))),
            Color::Red,
        ),
    };
    vec![
        Cell::new(id),
        Cell::new(at),
        Cell::new(by),
        drift,
        Cell::new(match a.pending {
            Some(n) => n.to_string(),
            None if fleet => none().to_string(),
            None => "?".to_string(),
        }),
        state,
        health,
    ]
}

/// An app with `hosts`: a row per host, as each host's own `runner status` tells it.
fn hosts_status_table(a: &crate::cmd::status::AppStatus) {
    println!("{}", crate::t!("status-on-hosts", app = a.app.as_str()));
    let mut t = table(status_headers(crate::t!("col-host")));
    for h in &a.hosts {
        let mut row = vec![Cell::new(&h.host)];
        match (&h.status, &h.error) {
            (Some(s), _) => row.extend(status_cells(s)),
            (None, e) => {
                row.push(paint(
                    Cell::new(match e {
                        Some(e) => first_line(e).to_string(),
                        None => crate::t!("status-no-status"),
                    }),
                    Color::Red,
                ));
                row.extend((0..6).map(|_| Cell::new("")));
            }
        }
        t.add_row(row);
    }
    show(&t);
}

/// The sync service's status file as `runner status` shows it.
pub fn watch_table(w: &crate::watch::WatchStatus) {
    println!(
        "{}",
        wrapped(
            &crate::t!(
                "status-service",
                pid = w.pid,
                since = local_time(&w.started),
                updated = local_time(&w.updated)
            ),
            0
        )
    );
    let mut t = table(vec![
        crate::t!("col-target"),
        crate::t!("col-state"),
        crate::t!("col-last-synced"),
        crate::t!("col-pending"),
        crate::t!("col-failing-since"),
        crate::t!("col-error"),
    ]);
    for x in &w.targets {
        let shown = match x.state.as_str() {
            "ok" => crate::t!("watch-ok"),
            "pending" => crate::t!("watch-pending"),
            "failing" => crate::t!("watch-failing"),
            "waiting" => crate::t!("watch-waiting"),
            "starting" => crate::t!("watch-starting"),
            other => other.to_string(),
        };
        let state = match x.state.as_str() {
            "ok" => paint(Cell::new(shown), Color::Green),
            "failing" | "waiting" => paint(Cell::new(shown), Color::Red),
            _ => Cell::new(shown),
        };
        t.add_row(vec![
            Cell::new(&x.target),
            state,
            Cell::new(x.last_ok.as_deref().map(local_time).unwrap_or_default()),
            Cell::new(x.pending),
            Cell::new(
                x.failing_since
                    .as_deref()
                    .map(local_time)
                    .unwrap_or_default(),
            ),
            Cell::new(x.last_error.as_deref().map(first_line).unwrap_or_default()),
        ]);
    }
    show(&t);
}

pub fn history_table(records: &[Record]) {
    if records.is_empty() {
        println!("{}", crate::t!("history-empty"));
        return;
    }
    let mut t = table(vec![
        crate::t!("col-app"),
        crate::t!("col-id"),
        crate::t!("col-time"),
        crate::t!("col-user"),
        crate::t!("col-kind"),
        crate::t!("col-files"),
        crate::t!("col-outcome"),
        crate::t!("col-duration"),
    ]);
    for r in records {
        let time = local_time(&r.started);
        let kind = match (r.kind, &r.back_to) {
            (Kind::Rollback, Some(x)) => crate::t!("kind-rollback-to", id = x.as_str()),
            (Kind::Rollback, None) => {
                crate::t!("kind-rollback-of", id = r.reverts.as_deref().unwrap_or("?"))
            }
            (k, _) => k.shown(),
        };
        let outcome = r.outcome.shown();
        t.add_row(vec![
            r.app.clone(),
            r.id.clone(),
            time,
            r.user.clone(),
            kind,
            r.files.len().to_string(),
            if r.resumed {
                crate::t!("outcome-resumed", outcome = outcome)
            } else {
                outcome
            },
            secs(Duration::from_millis(r.duration_ms)),
        ]);
    }
    show(&t);
}

/// The end of a command over several apps: one row each, so a failed one does not scroll away.
pub fn apps_table(rows: &[(String, String, String, String)]) {
    let mut t = table(vec![
        crate::t!("col-app"),
        crate::t!("col-outcome"),
        crate::t!("col-release"),
        crate::t!("col-error"),
    ]);
    for (app, outcome, id, error) in rows {
        t.add_row(vec![app, outcome, id, error]);
    }
    show(&t);
}

/// `runner sync`: a row per target, and a total row when there are several.
pub fn sync_table(reports: &[SyncReport], took: Duration) {
    let mut t = table(vec![
        crate::t!("report-col-source"),
        crate::t!("col-target"),
        crate::t!("report-col-sent"),
        crate::t!("report-col-bytes"),
        crate::t!("report-col-wire"),
        crate::t!("report-col-deleted"),
        crate::t!("report-col-unchanged"),
        crate::t!("report-col-skipped"),
        crate::t!("col-time"),
    ]);
    for r in reports {
        t.add_row(vec![
            r.source.display().to_string(),
            r.target.clone(),
            r.sent.to_string(),
            size(r.bytes),
            size(r.wire_sent + r.wire_received),
            r.deleted.to_string(),
            r.unchanged.to_string(),
            r.skipped.len().to_string(),
            secs(Duration::from_millis(r.ms)),
        ]);
    }
    if reports.len() > 1 {
        let sum = |f: fn(&SyncReport) -> u64| reports.iter().map(f).sum::<u64>();
        t.add_row(vec![
            crate::t!("report-targets", n = reports.len()),
            String::new(),
            sum(|r| r.sent as u64).to_string(),
            size(sum(|r| r.bytes)),
            size(sum(|r| r.wire_sent + r.wire_received)),
            sum(|r| r.deleted as u64).to_string(),
            sum(|r| r.unchanged as u64).to_string(),
            sum(|r| r.skipped.len() as u64).to_string(),
            secs(took),
        ]);
    }
    show(&t);
}

/// One row of `runner plugin list`.
pub struct PluginRow {
    pub name: String,
    pub wasm: String,
    pub on_error: String,
    pub version: String,
    pub wit: String,
    pub hooks: Vec<String>,
    pub granted: Vec<String>,
    pub missing: Vec<String>,
}

/// `runner plugin list`.
pub fn plugin_table(rows: &[PluginRow]) {
    let mut t = table(vec![
        crate::t!("report-col-plugin"),
        crate::t!("report-col-version"),
        crate::t!("report-col-hooks"),
        crate::t!("report-col-granted"),
        crate::t!("report-col-not-granted"),
    ]);
    for p in rows {
        t.add_row(vec![
            Cell::new(format!("{}\n{}\non_error = {}", p.name, p.wasm, p.on_error)),
            Cell::new(format!("{}\nWIT {}", p.version, p.wit)),
            Cell::new(p.hooks.join("\n")),
            Cell::new(if p.granted.is_empty() {
                crate::t!("report-nothing")
            } else {
                p.granted.join("\n")
            }),
            if p.missing.is_empty() {
                Cell::new(none())
            } else {
                paint(Cell::new(p.missing.join("\n")), Color::Red)
            },
        ]);
    }
    show(&t);
}

/// A step's name as a person reads it (an `--events` line keeps the English one).
pub(crate) fn step_name(step: &str) -> String {
    match step {
        "backup" => crate::t!("step-backup"),
        "install" => crate::t!("step-install"),
        "restart" => crate::t!("step-restart"),
        "verify" => crate::t!("step-verify"),
        "restore" => crate::t!("step-restore"),
        other => other.to_string(),
    }
}

/// The first line of a (possibly multi-line) message.
pub fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// The table at the end of a fleet roll, and its counts.
pub fn fleet_table(r: &FleetReport) {
    // Under 100 columns the release ids and file counts go (`--json` and the history have
    // them), and each error is a wrapped line under the table instead of a squeezed column.
    let wide = width().is_none_or(|w| w >= 100);
    let mut t = table(if wide {
        vec![
            crate::t!("col-host"),
            crate::t!("col-outcome"),
            crate::t!("col-release"),
            crate::t!("col-files"),
            crate::t!("col-time"),
            crate::t!("col-error"),
        ]
    } else {
        vec![
            crate::t!("col-host"),
            crate::t!("col-outcome"),
            crate::t!("col-time"),
        ]
    });
    for h in &r.hosts {
        let error = h.error.as_deref().map(first_line).unwrap_or_default();
        let time = secs(Duration::from_millis(h.ms));
        t.add_row(if wide {
            vec![
                h.host.clone(),
                h.outcome.shown(),
                h.id.clone().unwrap_or_default(),
                h.files.to_string(),
                time,
                error.to_string(),
            ]
        } else {
            vec![h.host.clone(), h.outcome.shown(), time]
        });
    }
    show(&t);
    if !wide {
        for h in &r.hosts {
            if let Some(e) = &h.error {
                println!("{}", wrapped(&format!("{}: {}", h.host, first_line(e)), 2));
            }
        }
    }
    // By name, in the order of the English names whatever the language.
    let counts: BTreeMap<&str, (HostOutcome, usize)> =
        r.hosts.iter().fold(BTreeMap::new(), |mut m, h| {
            m.entry(h.outcome.name()).or_insert((h.outcome, 0)).1 += 1;
            m
        });
    let outcome = style(r.outcome.label()).bold();
    let outcome = if r.failed() {
        outcome.red()
    } else {
        outcome.green()
    };
    println!(
        "{} {}",
        style(crate::t!("report-fleet")).bold(),
        crate::t!(
            "report-fleet-done",
            app = &r.app,
            id = &r.id,
            outcome = outcome.to_string(),
            time = secs(Duration::from_millis(r.duration_ms))
        )
    );
    println!(
        "  {}",
        counts
            .values()
            .map(|(o, n)| crate::t!("report-fleet-count", n = n, outcome = o.label()))
            .collect::<Vec<_>>()
            .join(&crate::t!("report-list-sep"))
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_keep_the_names_a_fleet_reads() {
        let ev = Event::Point {
            point: Hook::BeforeRestart,
            release: "r1".into(),
        };
        let line = serde_json::to_string(&ev).unwrap();
        assert_eq!(
            line,
            r#"{"event":"point","point":"before-restart","release":"r1"}"#
        );
        let back: Event = serde_json::from_str(&line).unwrap();
        assert!(matches!(
            back,
            Event::Point {
                point: Hook::BeforeRestart,
                ..
            }
        ));
        let line = serde_json::to_string(&Event::Step {
            step: "install".into(),
            ok: true,
            detail: "3 files".into(),
        })
        .unwrap();
        assert_eq!(
            line,
            r#"{"event":"step","step":"install","ok":true,"detail":"3 files"}"#
        );
        let line = serde_json::to_string(&Event::Error {
            message: "m".into(),
            code: 3,
        })
        .unwrap();
        assert_eq!(line, r#"{"event":"error","message":"m","code":3}"#);
        // As a host writes it, with the schema field.
        let report = r#"{"schema":1,"event":"report","report":{"app":"svc","outcome":"rolled-back","file_count":2,"duration_ms":5}}"#;
        let Event::Report { report } = serde_json::from_str(report).unwrap() else {
            panic!("a report");
        };
        assert_eq!(report.outcome, crate::outcome::Outcome::RolledBack);
        assert!(report.failed());
    }
}
