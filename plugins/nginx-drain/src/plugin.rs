//! The component: runner's hooks mapped onto upstream edits, `nginx -t` and reloads.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::config::Config;
use crate::upstream::{self, Drain, Undrain};

wit_bindgen::generate!({ path: "../../wit/0.1.0", world: "plugin" });

use runner::plugin::host::{self, Level};
use runner::plugin::types::Capabilities;

/// State key: "1" while the upstream file holds a `down` this plugin added for `server` (one
/// key per server: a fleet release drains several hosts under one release id).
fn drained_key(server: &str) -> String {
    format!("drained:{server}")
}

struct NginxDrain;

export!(NginxDrain);

impl Guest for NginxDrain {
    fn describe() -> Info {
        Info {
            name: "nginx-drain".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            hooks: [
                "before-restart",
                "after-verify",
                "after-rollback",
                "release-end",
                "before-host",
                "after-host",
            ]
            .map(String::from)
            .to_vec(),
            // The upstream file's directory is only known from config: the operator grants it.
            needs: Capabilities {
                exec: vec!["nginx".to_string()],
                dirs: vec![],
                http: vec![],
            },
        }
    }

    fn handle(event: Event) -> Decision {
        let config = || Config::for_host(&event.config, &event.host);
        match event.hook.as_str() {
            // On a host (before-restart) or on the central box around each host of a fleet
            // release (before-host).
            "before-restart" | "before-host" => match config() {
                Ok(config) => drain(&config, event.dry_run),
                Err(e) => Decision::Abort(format!("nginx-drain: {e}")),
            },
            "after-verify" | "after-rollback" | "release-end" | "after-host" => {
                let config = match config() {
                    Ok(c) => c,
                    Err(e) => {
                        log(Level::Error, &format!("nginx-drain: {e}"));
                        return Decision::Proceed;
                    }
                };
                if host::state_get(&drained_key(&config.server)).as_deref() != Some("1") {
                    return Decision::Proceed;
                }
                if event.hook == "after-verify" && event.error.is_some() {
                    // A rollback follows: keep traffic away until after-rollback or release-end.
                    log(
                        Level::Info,
                        "verify failed; the server stays drained until the rollback is done",
                    );
                    return Decision::Proceed;
                }
                if event.hook == "after-host"
                    && event.error.is_some()
                    && event.outcome.as_deref() == Some("rolled-back")
                {
                    // Its release failed, but the host put its previous build back and verified
                    // it: healthy, so back in rotation.
                    log(
                        Level::Info,
                        &format!(
                            "{} rolled back to its verified previous build; {} goes back in",
                            event.host, config.server
                        ),
                    );
                } else if event.hook == "after-host" && event.error.is_some() {
                    // The host failed and may not serve the old build either: traffic stays
                    // away until someone looks (the fleet release stops and reports it).
                    log(
                        Level::Warn,
                        &format!(
                            "{} failed; {} stays down in {}",
                            event.host, config.server, config.upstream
                        ),
                    );
                    return Decision::Proceed;
                }
                match undrain(&config) {
                    Ok(()) => {}
                    // Failing an after-hook would roll back a release that may be fine, and the
                    // state stays "1" so release-end tries again: say so loudly and go on.
                    Err(e) => log(Level::Error, &e),
                }
                Decision::Proceed
            }
            _ => Decision::Proceed,
        }
    }
}

/// before-restart: mark our server down, test, reload, wait.
fn drain(c: &Config, dry_run: bool) -> Decision {
    let original = match fs::read_to_string(&c.upstream) {
        Ok(text) => text,
        Err(e) => {
            return Decision::Abort(format!(
                "cannot read {}: {e} (grant its directory with allow.dirs and allow.rw)",
                c.upstream
            ));
        }
    };
    let (text, blocks) = match upstream::mark_down(&original, &c.server) {
        Drain::NotFound => {
            return Decision::Abort(format!(
                "no `server {}` line in any upstream of {}",
                c.server, c.upstream
            ));
        }
        Drain::AlreadyDown => {
            log(
                Level::Info,
                &format!(
                    "{} is already down in {}; nothing to drain",
                    c.server, c.upstream
                ),
            );
            return Decision::Proceed;
        }
        Drain::LastServer { block } => {
            log(
                Level::Warn,
                &format!(
                    "{} is the only server up in upstream {block} of {}: not draining it, \
                     requests during the restart may fail",
                    c.server, c.upstream
                ),
            );
            return Decision::Proceed;
        }
        Drain::Marked { text, blocks } => (text, blocks.join(", ")),
    };
    if dry_run {
        log(
            Level::Info,
            &format!(
                "dry run: would mark {} down in upstream {blocks} of {}",
                c.server, c.upstream
            ),
        );
        return Decision::Proceed;
    }

    // Recorded before the edit: if this hook dies half-way, the after-hooks still put it back.
    host::state_set(&drained_key(&c.server), "1");
    if let Err(e) = write_atomic(&c.upstream, &text) {
        host::state_set(&drained_key(&c.server), "0");
        return Decision::Abort(format!("cannot write {}: {e}", c.upstream));
    }
    for (what, argv) in [("nginx -t", &c.test), ("nginx reload", &c.reload)] {
        if let Err(e) = run(argv) {
            match write_atomic(&c.upstream, &original) {
                Ok(()) => host::state_set(&drained_key(&c.server), "0"),
                Err(w) => log(Level::Error, &format!("cannot restore {}: {w}", c.upstream)),
            }
            return Decision::Abort(format!("{what} failed: {e}"));
        }
    }
    log(
        Level::Info,
        &format!(
            "marked {} down in upstream {blocks} and reloaded nginx; draining for {} ms",
            c.server, c.drain_ms
        ),
    );
    host::sleep(c.drain_ms);
    Decision::Proceed
}

/// after-verify, after-rollback, release-end: remove our `down` again.
fn undrain(c: &Config) -> Result<(), String> {
    let drained = fs::read_to_string(&c.upstream).map_err(|e| {
        format!(
            "{} is still down: cannot read {}: {e}",
            c.server, c.upstream
        )
    })?;
    let (text, blocks) = match upstream::mark_up(&drained, &c.server) {
        Undrain::NotFound => {
            host::state_set(&drained_key(&c.server), "0");
            log(
                Level::Warn,
                &format!(
                    "no `server {}` line left in {}; nothing to restore",
                    c.server, c.upstream
                ),
            );
            return Ok(());
        }
        Undrain::AlreadyUp => {
            host::state_set(&drained_key(&c.server), "0");
            log(
                Level::Info,
                &format!("{} is already up in {}", c.server, c.upstream),
            );
            return Ok(());
        }
        Undrain::Restored { text, blocks } => (text, blocks.join(", ")),
    };
    let still_down = |e: String| {
        format!(
            "{} is still down in {}: {e}; remove its `down` and reload nginx by hand",
            c.server, c.upstream
        )
    };
    write_atomic(&c.upstream, &text).map_err(|e| still_down(format!("cannot write it: {e}")))?;
    for (what, argv) in [("nginx -t", &c.test), ("nginx reload", &c.reload)] {
        if let Err(e) = run(argv) {
            // Put the file back in step with what nginx runs, so the next try sees it down.
            if let Err(w) = write_atomic(&c.upstream, &drained) {
                log(Level::Error, &format!("cannot restore {}: {w}", c.upstream));
            }
            return Err(still_down(format!("{what} failed: {e}")));
        }
    }
    host::state_set(&drained_key(&c.server), "0");
    log(
        Level::Info,
        &format!(
            "marked {} up again in upstream {blocks} and reloaded nginx",
            c.server
        ),
    );
    Ok(())
}

/// Runs an argv through the host; a non-zero status is an error carrying its output.
fn run(argv: &[String]) -> Result<(), String> {
    let out = host::exec(&argv[0], &argv[1..])?;
    if out.status == 0 {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let said = if stderr.trim().is_empty() {
        stdout.trim()
    } else {
        stderr.trim()
    };
    Err(format!(
        "exit status {}: {}",
        out.status,
        truncate(said, 2000)
    ))
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Writes a temp file beside `path` and renames it over, so nginx never reads half a file. The
/// temp name ends in `.tmp`, not `.conf`, so an `include conf.d/*.conf` never picks it up.
fn write_atomic(path: &str, text: &str) -> std::io::Result<()> {
    let path = Path::new(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.runner.tmp"));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

fn log(level: Level, message: &str) {
    host::log(level, message);
}
