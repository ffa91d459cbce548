//! `runner plugin list`, `check <wasm>`, `wit -o DIR` and `call <wasm> <hook>`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::{self, Allow};
use crate::error::{Error, ExitCode, Result};
use crate::history::FileRecord;
use crate::hook::Hook;
use crate::inventory::FileMeta;
use crate::outcome::Outcome;
use crate::plan::Change;
use crate::plugin::{Batch, Decision, HookEvent, Level, Loaded, PluginHost};
use crate::report::{self, PluginRow};

use super::Globals;

/// What a plugin declares it needs but the operator has not granted, as runner.toml's `allow`
/// names it (`plugin list --json` has it too).
fn missing_grants(p: &Loaded) -> Vec<String> {
    let a = &p.spec.allow;
    let mut out = Vec::new();
    for e in &p.info.needs.exec {
        if !a.exec.contains(e) {
            out.push(format!("exec {e}"));
        }
    }
    for d in &p.info.needs.dirs {
        let d = Path::new(d);
        if !a.dirs.iter().chain(&a.rw).any(|g| g == d) {
            out.push(format!("dir {}", d.display()));
        }
    }
    for h in &p.info.needs.http {
        if !a.http.contains(h) {
            out.push(format!("http {h}"));
        }
    }
    out
}

/// What the operator granted, as runner.toml's `allow` names it (`dirs` read-only, `rw`).
fn granted(a: &Allow) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(a.exec.iter().map(|e| format!("exec {e}")));
    // en: the grant's kind and mode as in runner.toml (allow.dirs, allow.rw), like `exec`, `http`
    out.extend(a.dirs.iter().map(|d| format!("dir {} (ro)", d.display())));
    // en: as above
    out.extend(a.rw.iter().map(|d| format!("dir {} (rw)", d.display())));
    out.extend(a.http.iter().map(|h| format!("http {h}")));
    out
}

pub fn list(g: &Globals) -> Result<ExitCode> {
    let (_, cfg) = g.load()?;
    let host = PluginHost::load(&cfg, 1)?;
    if g.ui.json {
        let rows: Vec<serde_json::Value> = host
            .plugins
            .iter()
            .map(|p| {
                serde_json::json!({
                    "name": p.spec.name,
                    "wasm": p.spec.wasm,
                    "sha256": p.sha256,
                    "version": p.info.version,
                    // en: a JSON value, the WIT package as `wit/` names it
                    "wit": format!("runner:plugin@{}", p.wit),
                    "hooks": p.hooks,
                    "concurrent": p.info.concurrent,
                    "on_error": p.spec.on_error,
                    "timeout": humantime::format_duration(p.spec.timeout).to_string(),
                    "memory": p.spec.memory,
                    "allow": p.spec.allow,
                    "needs": {
                        "exec": p.info.needs.exec,
                        "dirs": p.info.needs.dirs,
                        "http": p.info.needs.http,
                    },
                    "not_granted": missing_grants(p),
                })
            })
            .collect();
        report::print_json("plugins", &rows);
        return Ok(ExitCode::DONE);
    }
    if host.plugins.is_empty() {
        println!("{}", crate::t!("plugin-none"));
        return Ok(ExitCode::DONE);
    }
    let rows: Vec<PluginRow> = host
        .plugins
        .iter()
        .map(|p| PluginRow {
            name: p.spec.name.clone(),
            wasm: p.spec.wasm.display().to_string(),
            on_error: p.spec.on_error.to_string(),
            version: p.info.version.clone(),
            wit: p.wit.clone(),
            hooks: p.hooks.iter().map(|h| h.name().to_string()).collect(),
            granted: granted(&p.spec.allow),
            missing: missing_grants(p),
        })
        .collect();
    report::plugin_table(&rows);
    Ok(ExitCode::DONE)
}

/// Where `plugin check` and `plugin call` cache compiled plugins: the configured state dir when
/// there is a config.
fn compile_cache_dir(g: &Globals) -> std::path::PathBuf {
    g.load()
        .map(|(_, c)| c.state_dir)
        .unwrap_or_else(|_| std::env::temp_dir().join("runner-plugin-check"))
}

/// A plugin's name before it has said its own: the file's stem.
fn stem(wasm: &Path) -> String {
    wasm.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".into())
}

pub fn check(g: &Globals, wasm: &Path) -> Result<ExitCode> {
    let host = PluginHost::empty(&compile_cache_dir(g))?;
    let spec = config::Plugin {
        name: stem(wasm),
        wasm: wasm.to_path_buf(),
        hooks: Vec::new(),
        on_error: config::OnError::Abort,
        timeout: Duration::from_secs(10),
        memory: 64 << 20,
        allow: Allow::default(),
        config: Default::default(),
    };
    let t = Instant::now();
    let p = host.load_one(spec)?;
    let took = t.elapsed();
    let report = serde_json::json!({
        "wasm": wasm,
        "sha256": p.sha256,
        "name": p.info.name,
        "version": p.info.version,
        // en: a JSON value, the WIT package as `wit/` names it
        "wit": format!("runner:plugin@{}", p.wit),
        "hooks": p.info.hooks,
        "concurrent": p.info.concurrent,
        "needs": { "exec": p.info.needs.exec, "dirs": p.info.needs.dirs, "http": p.info.needs.http },
        "load_ms": took.as_secs_f64() * 1000.0,
        "compiled_from_cache": p.cached,
    });
    if g.ui.json {
        report::print_json("plugin", &report);
        return Ok(ExitCode::DONE);
    }
    let list = |v: &[String]| {
        if v.is_empty() {
            report::none().to_string()
        } else {
            v.join(", ")
        }
    };
    println!(
        "{} {}",
        console::style(crate::t!("plugin-check-ok")).green().bold(),
        crate::t!(
            "plugin-check-built",
            wasm = wasm,
            name = &p.info.name,
            version = &p.info.version,
            wit = &p.wit
        )
    );
    println!(
        "  {}",
        crate::t!(
            "plugin-check-hooks",
            hooks = list(&p.info.hooks),
            calls = if p.info.concurrent {
                crate::t!("plugin-check-concurrent")
            } else {
                crate::t!("plugin-check-serial")
            }
        )
    );
    println!(
        "  {}",
        crate::t!(
            "plugin-check-needs",
            exec = list(&p.info.needs.exec),
            dirs = list(&p.info.needs.dirs),
            http = list(&p.info.needs.http)
        )
    );
    println!(
        "  {}",
        crate::t!(
            "plugin-check-loaded",
            time = report::secs(took),
            how = if p.cached {
                crate::t!("plugin-check-cached")
            } else {
                crate::t!("plugin-check-compiled")
            }
        )
    );
    Ok(ExitCode::DONE)
}

/// The text of the WIT package `version` built into this runner, or a usage error naming those
/// it has.
pub(super) fn wit_text(version: &str) -> Result<&'static str> {
    use crate::plugin::wit::WIT_FILES;
    WIT_FILES
        .iter()
        .find(|(known, _)| *known == version)
        .map(|(_, text)| *text)
        .ok_or_else(|| {
            let known: Vec<&str> = WIT_FILES.iter().map(|(k, _)| *k).collect();
            Error::Usage(crate::t!(
                "plugin-wit-unknown-version",
                version = version,
                known = known.join(", ")
            ))
        })
}

/// The hook named `name`, or a usage error listing them all.
pub(super) fn hook_named(name: &str) -> Result<Hook> {
    Hook::parse(name).ok_or_else(|| {
        Error::Usage(crate::t!(
            "plugin-call-unknown-hook",
            hook = name,
            known = crate::hook::NAMES.join(", ")
        ))
    })
}

/// `runner plugin wit`: the WIT package of `version` as `<out>/plugin.wit`, or of every version
/// as `<out>/<version>/plugin.wit`; prints each file written.
pub fn wit(g: &Globals, version: Option<&str>, out: &Path) -> Result<ExitCode> {
    use crate::plugin::wit::WIT_FILES;
    let files: Vec<(std::path::PathBuf, &str)> = match version {
        Some(v) => vec![(out.join("plugin.wit"), wit_text(v)?)],
        None => WIT_FILES
            .iter()
            .map(|(v, text)| (out.join(v).join("plugin.wit"), *text))
            .collect(),
    };
    for (path, text) in &files {
        let dir = path.parent().expect("a file in a dir");
        std::fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
        std::fs::write(path, text).map_err(Error::io("write", path))?;
        if !g.ui.quiet {
            println!("{}", path.display());
        }
    }
    Ok(ExitCode::DONE)
}

/// What `runner plugin call` is asked to do.
pub struct CallArgs<'a> {
    pub wasm: &'a Path,
    pub hook: &'a str,
    pub app: &'a str,
    /// `key=value` entries of the plugin's config.
    pub set: &'a [String],
    pub event: Option<&'a Path>,
    pub allow: Allow,
    pub timeout: Duration,
    pub memory: &'a str,
}

/// An event read from a file: the fields a hook event carries, or a release as `runner history
/// --json` records it (its `id`, and its `files` as the changes). Absent fields take the
/// synthetic event's values.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct EventFile {
    #[serde(alias = "id")]
    release_id: Option<String>,
    app: Option<String>,
    host: Option<String>,
    changes: Vec<Change>,
    files: Vec<FileRecord>,
    dry_run: bool,
    error: Option<String>,
    outcome: Option<Outcome>,
}

impl EventFile {
    /// `path` holds an event, a history record, or the whole `runner history --json` document
    /// (its last, newest record is taken).
    fn read(path: &Path) -> Result<EventFile> {
        let bytes = std::fs::read(path).map_err(Error::io("read", path))?;
        let bad = |e: serde_json::Error| {
            Error::Usage(crate::t!(
                "plugin-call-bad-event",
                path = path.display().to_string(),
                error = e.to_string()
            ))
        };
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).map_err(bad)?;
        if let Some(newest) = v
            .get_mut("records")
            .and_then(|r| r.as_array_mut())
            .and_then(|r| r.pop())
        {
            v = newest;
        }
        if !v.is_object() {
            return Err(Error::Usage(crate::t!(
                "plugin-call-event-not-object",
                path = path.display().to_string()
            )));
        }
        serde_json::from_value(v).map_err(bad)
    }

    fn changes(&self) -> Vec<Change> {
        if !self.changes.is_empty() {
            return self.changes.clone();
        }
        let meta = |sha: &Option<String>, size| {
            sha.as_ref().map(|sha256| FileMeta {
                sha256: sha256.clone(),
                size,
                mode: 0o644,
                mtime_ns: 0,
            })
        };
        self.files
            .iter()
            .map(|f| Change {
                action: f.action,
                path: f.path.clone(),
                source: None,
                old: meta(&f.old_sha256, f.size),
                new: meta(&f.new_sha256, f.size),
                entries: None,
                upgrade_of: None,
            })
            .collect()
    }
}

/// `runner plugin call`: one hook of one plugin, in the sandbox a release uses, outside any
/// release. Exit 0 on proceed or skip, 1 on abort, 2 when the call failed.
pub fn call(g: &Globals, a: &CallArgs) -> Result<ExitCode> {
    let hook = hook_named(a.hook)?;
    let memory = config::parse_size(a.memory)
        .ok_or_else(|| Error::Usage(crate::t!("config-invalid-size", value = a.memory)))?;
    let mut settings = std::collections::BTreeMap::new();
    for kv in a.set {
        let (k, v) = kv
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
            .ok_or_else(|| Error::Usage(crate::t!("plugin-call-bad-set", value = kv.as_str())))?;
        settings.insert(k.trim().to_string(), v.to_string());
    }
    let file = match a.event {
        Some(p) => EventFile::read(p)?,
        None => EventFile::default(),
    };
    let host = PluginHost::empty(&compile_cache_dir(g))?;
    let p = host.load_one(config::Plugin {
        name: stem(a.wasm),
        wasm: a.wasm.to_path_buf(),
        hooks: Vec::new(),
        on_error: config::OnError::Abort,
        timeout: a.timeout,
        memory,
        allow: a.allow.clone(),
        config: settings,
    })?;
    if !hook.in_wit(&p.wit) {
        return Err(Error::Usage(crate::t!(
            "plugin-error-hook-too-new",
            hook = hook.name(),
            since = hook.since(),
            wit = &p.wit
        )));
    }
    let release_id = file
        .release_id
        .clone()
        .unwrap_or_else(|| format!("plugin-call-{}", std::process::id()));
    let app = file.app.clone().unwrap_or_else(|| a.app.to_string());
    let host_name = file.host.clone().unwrap_or_else(crate::host::hostname);
    let changes = file.changes();
    let hosts = [host_name.clone()];
    let fleet = matches!(
        hook,
        Hook::BeforeBatch | Hook::AfterBatch | Hook::BeforeHost | Hook::AfterHost
    );
    let ev = HookEvent {
        hook,
        release_id: &release_id,
        app: &app,
        host: &host_name,
        batch: fleet.then_some(Batch {
            number: 1,
            of: 1,
            hosts: &hosts,
            failed: &[],
        }),
        changes: &changes,
        dry_run: file.dry_run,
        error: file.error.as_deref(),
        outcome: file
            .outcome
            .or((hook == Hook::ReleaseEnd).then_some(Outcome::Success)),
    };
    let subscribed = p.info.hooks.iter().any(|h| h == hook.name());
    let trial = host.try_call(&p, &ev);
    let (decision, exit) = match &trial.result {
        Ok(Decision::Proceed) => ("proceed", ExitCode::DONE),
        Ok(Decision::Skip) => ("skip", ExitCode::DONE),
        Ok(Decision::Abort(_)) => ("abort", ExitCode::FAILED),
        Err(_) => ("failed", ExitCode(2)),
    };
    if g.ui.json {
        let doc = serde_json::json!({
            "plugin": p.info.name,
            "wasm": a.wasm,
            "hook": hook.name(),
            "subscribed": subscribed,
            "release_id": release_id,
            "decision": decision,
            "reason": match &trial.result {
                Ok(Decision::Abort(r)) => Some(r),
                _ => None,
            },
            "error": crate::i18n::english(|| trial.result.as_ref().err().map(|e| e.to_string())),
            "logs": trial.logs.iter().map(|(level, message)| serde_json::json!({
                "level": level_name(*level),
                "message": message,
            })).collect::<Vec<_>>(),
            "host_calls": trial.host_calls,
            "host_calls_dropped": trial.host_calls_dropped,
            "output": trial.output,
            "micros": trial.took.as_micros() as u64,
            "peak_memory": trial.peak_memory,
            "memory_limit": memory,
        });
        report::print_json("call", &doc);
        return Ok(exit);
    }
    let head = format!("{} {}", p.info.name, hook.name());
    let verdict = match &trial.result {
        Ok(Decision::Proceed) => {
            console::style(crate::t!("plugin-call-proceed", call = &head)).green()
        }
        Ok(Decision::Skip) => console::style(crate::t!("plugin-call-skip", call = &head)).green(),
        Ok(Decision::Abort(r)) => console::style(crate::t!(
            "plugin-call-abort",
            call = &head,
            reason = r.as_str()
        ))
        .red(),
        Err(e) => console::style(crate::t!(
            "plugin-call-failed",
            call = &head,
            error = e.to_string()
        ))
        .red(),
    };
    println!("{}", verdict.bold());
    if !subscribed {
        println!(
            "  {}",
            crate::t!(
                "plugin-call-not-subscribed",
                plugin = &p.info.name,
                hook = hook.name()
            )
        );
    }
    println!("  {}", crate::t!("plugin-call-logs", n = trial.logs.len()));
    for (level, message) in &trial.logs {
        println!("    {:<5} {message}", level_name(*level));
    }
    println!(
        "  {}",
        crate::t!(
            "plugin-call-host-calls",
            n = trial.host_calls.len() + trial.host_calls_dropped
        )
    );
    for c in &trial.host_calls {
        let result = if c.denied {
            console::style(crate::t!("plugin-call-denied", why = c.result.as_str())).yellow()
        } else {
            console::style(c.result.clone())
        };
        println!("    {:<9} {} → {result}", c.call, c.what);
    }
    if trial.host_calls_dropped > 0 {
        println!(
            "    {}",
            crate::t!("plugin-call-calls-dropped", n = trial.host_calls_dropped)
        );
    }
    // A failed call's error ends with the output already.
    if trial.result.is_ok() && !trial.output.is_empty() {
        let lines: Vec<&str> = trial.output.lines().collect();
        let shown = &lines[lines.len().saturating_sub(OUTPUT_LINES)..];
        println!(
            "  {}",
            crate::t!("plugin-call-output", shown = shown.len(), n = lines.len())
        );
        for line in shown {
            println!("    {line}");
        }
    }
    let took = if trial.took < Duration::from_millis(1) {
        // en: a duration under a millisecond
        format!("{} µs", trial.took.as_micros())
    } else {
        report::secs(trial.took)
    };
    println!(
        "  {}",
        crate::t!(
            "plugin-call-took",
            time = took,
            memory = report::size(trial.peak_memory as u64),
            limit = report::size(memory)
        )
    );
    Ok(exit)
}

/// The last lines of a plugin's output `plugin call` shows (`--json` has the captured 16 KiB).
const OUTPUT_LINES: usize = 20;

/// A log line's level as `plugin call` shows it (the WIT names).
fn level_name(l: Level) -> &'static str {
    match l {
        Level::Trace => "trace",
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    }
}
