//! `runner plugin list` and `runner plugin check <wasm>`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::{self, Allow};
use crate::error::{ExitCode, Result};
use crate::plugin::{Loaded, PluginHost};
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

pub fn check(g: &Globals, wasm: &Path) -> Result<ExitCode> {
    // The compile cache of the configured state dir is used when there is a config.
    let state_dir = g
        .load()
        .map(|(_, c)| c.state_dir)
        .unwrap_or_else(|_| std::env::temp_dir().join("runner-plugin-check"));
    let host = PluginHost::empty(&state_dir)?;
    let spec = config::Plugin {
        name: wasm
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "plugin".into()),
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

/// `runner plugin wit`: the WIT package of `version` as `<out>/plugin.wit`, or of every version
/// as `<out>/<version>/plugin.wit`; prints each file written.
pub fn wit(g: &Globals, version: Option<&str>, out: &Path) -> Result<ExitCode> {
    use crate::plugin::wit::WIT_FILES;
    let files: Vec<(std::path::PathBuf, &str)> = match version {
        Some(v) => {
            let Some((_, text)) = WIT_FILES.iter().find(|(known, _)| *known == v) else {
                let known: Vec<&str> = WIT_FILES.iter().map(|(k, _)| *k).collect();
                return Err(crate::error::Error::Usage(crate::t!(
                    "plugin-wit-unknown-version",
                    version = v,
                    known = known.join(", ")
                )));
            };
            vec![(out.join("plugin.wit"), *text)]
        }
        None => WIT_FILES
            .iter()
            .map(|(v, text)| (out.join(v).join("plugin.wit"), *text))
            .collect(),
    };
    for (path, text) in &files {
        let dir = path.parent().expect("a file in a dir");
        std::fs::create_dir_all(dir).map_err(crate::error::Error::io("create", dir))?;
        std::fs::write(path, text).map_err(crate::error::Error::io("write", path))?;
        if !g.ui.quiet {
            println!("{}", path.display());
        }
    }
    Ok(ExitCode::DONE)
}
