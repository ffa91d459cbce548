//! The component: runner's hooks mapped onto upstream edits, `nginx -t` and reloads.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::config::Config;
use crate::upstream::{self, Drain, Undrain};

// The same source builds against WIT 0.2.0 (this crate) and 0.1.0 (`nginx-drain-v0-1`, which
// sets `wit_0_1`: the compat build runner's tests load beside this one).
#[cfg(wit_0_1)]
use runner_plugin::v0_1 as wit;
#[cfg(not(wit_0_1))]
use runner_plugin::v0_2 as wit;
use wit::{Capabilities, Decision, Event, Level, host};

/// It runs `nginx -t` and `nginx -s reload`; the upstream file's directory is only known from
/// config: the operator grants it.
fn needs() -> Capabilities {
    Capabilities {
        exec: vec!["nginx".to_string()],
        dirs: vec![],
        http: vec![],
    }
}

// It edits one upstream file: runner makes its calls wait for each other (not `concurrent`).
#[cfg(not(wit_0_1))]
runner_plugin::plugin! {
    name: "nginx-drain",
    hooks: HOOKS,
    needs: needs(),
    concurrent: false,
    handle: handle,
}
#[cfg(wit_0_1)]
runner_plugin::plugin_v0_1! {
    name: "nginx-drain",
    hooks: HOOKS,
    needs: needs(),
    handle: handle,
}

/// State key: "1" while the upstream file holds a `down` this plugin added for `server` (one
/// key per server: a fleet release drains several hosts under one release id).
fn drained_key(server: &str) -> String {
    format!("drained:{server}")
}

fn is_drained(server: &str) -> bool {
    host::state_get(&drained_key(server)).as_deref() == Some("1")
}

/// On a host: around the restart. On a fleet's central box: 0.2.0 drains a whole batch at once
/// (one `nginx -t`, one reload) and puts each host back after it verified; 0.1.0 has no batch
/// hooks and drains host by host.
#[cfg(not(wit_0_1))]
const HOOKS: &[&str] = &[
    "before-restart",
    "after-verify",
    "after-rollback",
    "release-end",
    "before-batch",
    "after-host",
    "after-batch",
];
#[cfg(wit_0_1)]
const HOOKS: &[&str] = &[
    "before-restart",
    "after-verify",
    "after-rollback",
    "release-end",
    "before-host",
    "after-host",
];

/// One hook call.
fn handle(event: Event) -> Decision {
    let config = || Config::for_host(&event.config, &event.host);
    match event.hook.as_str() {
        // On a host (before-restart) or on the central box around one host of a fleet
        // release (before-host).
        "before-restart" | "before-host" => match config() {
            Ok(c) => {
                let server = [c.server.clone()];
                drain(&c, &server, event.dry_run)
            }
            Err(e) => Decision::Abort(format!("nginx-drain: {e}")),
        },
        #[cfg(not(wit_0_1))]
        "before-batch" => match batch_config(&event) {
            Ok((c, servers)) => drain(&c, &servers, event.dry_run),
            Err(e) => Decision::Abort(format!("nginx-drain: {e}")),
        },
        #[cfg(not(wit_0_1))]
        "after-batch" => {
            // The safety net: a host of the batch whose release did not fail but is still
            // drained (a plugin after this one refused the batch) goes back in.
            let (c, servers) = match batch_config(&event) {
                Ok(got) => got,
                Err(e) => {
                    log(Level::Error, &format!("nginx-drain: {e}"));
                    return Decision::Proceed;
                }
            };
            let failed: Vec<String> = event.batch.iter().flat_map(|b| b.failed.clone()).collect();
            let hosts = event.batch.iter().flat_map(|b| b.hosts.clone());
            let back: Vec<String> = hosts
                .zip(servers)
                .filter(|(h, s)| !failed.contains(h) && is_drained(s))
                .map(|(_, s)| s)
                .collect();
            if let Err(e) = undrain(&c, &back) {
                log(Level::Error, &e);
            }
            Decision::Proceed
        }
        "after-verify" | "after-rollback" | "release-end" | "after-host" => {
            let c = match config() {
                Ok(c) => c,
                Err(e) => {
                    log(Level::Error, &format!("nginx-drain: {e}"));
                    return Decision::Proceed;
                }
            };
            if !is_drained(&c.server) || !back_in(&event, &c) {
                return Decision::Proceed;
            }
            // Failing an after-hook would roll back a release that may be fine, and the
            // state stays "1" so release-end tries again: say so loudly and go on.
            if let Err(e) = undrain(&c, std::slice::from_ref(&c.server)) {
                log(Level::Error, &e);
            }
            Decision::Proceed
        }
        _ => Decision::Proceed,
    }
}

/// Whether an after-hook puts our drained server back now.
fn back_in(event: &Event, c: &Config) -> bool {
    if event.error.is_none() {
        return true;
    }
    match (event.hook.as_str(), event.outcome.as_deref()) {
        // A rollback follows: keep traffic away until after-rollback or release-end.
        ("after-verify", _) => {
            log(
                Level::Info,
                "verify failed; the server stays drained until the rollback is done",
            );
            false
        }
        // Its release failed, but the host put its previous build back and verified it, or
        // nothing was done on it: healthy, so back in rotation.
        ("after-host", Some(outcome @ ("rolled-back" | "cancelled"))) => {
            let why = if outcome == "rolled-back" {
                "rolled back to its verified previous build"
            } else {
                "was not released"
            };
            log(
                Level::Info,
                &format!("{} {why}; {} goes back in", event.host, c.server),
            );
            true
        }
        // The host failed and may not serve the old build either: traffic stays away until
        // someone looks (the fleet release stops and reports it).
        ("after-host", _) => {
            log(
                Level::Warn,
                &format!(
                    "{} failed; {} stays down in {}",
                    event.host, c.server, c.upstream
                ),
            );
            false
        }
        _ => true,
    }
}

/// A batch's config (the upstream file, test and reload are shared keys) and each of its
/// hosts' server, in the batch's order.
#[cfg(not(wit_0_1))]
fn batch_config(event: &Event) -> Result<(Config, Vec<String>), String> {
    let hosts = event
        .batch
        .as_ref()
        .map(|b| b.hosts.as_slice())
        .unwrap_or_default();
    let Some(first) = hosts.first() else {
        return Err(format!("{} without the batch's hosts", event.hook));
    };
    let c = Config::for_host(&event.config, first)?;
    let servers = hosts
        .iter()
        .map(|h| Config::for_host(&event.config, h).map(|c| c.server))
        .collect::<Result<_, _>>()?;
    Ok((c, servers))
}

/// Marks `servers` down in one edit, `nginx -t`, one reload, and waits the drain period.
fn drain(c: &Config, servers: &[String], dry_run: bool) -> Decision {
    let original = match fs::read_to_string(&c.upstream) {
        Ok(text) => text,
        Err(e) => {
            return Decision::Abort(format!(
                "cannot read {}: {e} (grant its directory with allow.dirs and allow.rw)",
                c.upstream
            ));
        }
    };
    let addrs: Vec<&str> = servers.iter().map(String::as_str).collect();
    let (text, marked, blocks) = match upstream::mark_down(&original, &addrs) {
        Drain::NotFound(server) => {
            return Decision::Abort(format!(
                "no `server {server}` line in any upstream of {}",
                c.upstream
            ));
        }
        Drain::WholeUpstream { block, up } => {
            return Decision::Abort(format!(
                "draining {} would leave upstream {block} of {} with no server up (it has {up}): \
                 nginx-drain keeps one in rotation; release in smaller batches (--batch {})",
                servers.join(", "),
                c.upstream,
                up - 1
            ));
        }
        Drain::Marked {
            text,
            marked,
            blocks,
            lone,
            already,
        } => {
            for (server, block) in lone {
                log(
                    Level::Warn,
                    &format!(
                        "{server} is the only server up in upstream {block} of {}: not draining \
                         it, requests during its restart may fail",
                        c.upstream
                    ),
                );
            }
            for server in already {
                log(
                    Level::Info,
                    &format!(
                        "{server} is already down in {}; nothing to drain",
                        c.upstream
                    ),
                );
            }
            (text, marked, blocks.join(", "))
        }
    };
    if marked.is_empty() {
        return Decision::Proceed;
    }
    let which = marked.join(", ");
    if dry_run {
        log(
            Level::Info,
            &format!(
                "dry run: would mark {which} down in upstream {blocks} of {}",
                c.upstream
            ),
        );
        return Decision::Proceed;
    }
    let set = |v: &str| {
        marked
            .iter()
            .for_each(|s| host::state_set(&drained_key(s), v))
    };
    // Recorded before the edit: if this hook dies half-way, the after-hooks still put it back.
    set("1");
    if let Err(e) = write_atomic(&c.upstream, &text) {
        set("0");
        return Decision::Abort(format!("cannot write {}: {e}", c.upstream));
    }
    for (what, argv) in [("nginx -t", &c.test), ("nginx reload", &c.reload)] {
        if let Err(e) = run(argv) {
            match write_atomic(&c.upstream, &original) {
                Ok(()) => set("0"),
                Err(w) => log(Level::Error, &format!("cannot restore {}: {w}", c.upstream)),
            }
            return Decision::Abort(format!("{what} failed: {e}"));
        }
    }
    log(
        Level::Info,
        &format!(
            "marked {which} down in upstream {blocks} and reloaded nginx; draining for {} ms",
            c.drain_ms
        ),
    );
    host::sleep(c.drain_ms);
    Decision::Proceed
}

/// Removes our `down` from `servers` in one edit, `nginx -t`, one reload.
fn undrain(c: &Config, servers: &[String]) -> Result<(), String> {
    if servers.is_empty() {
        return Ok(());
    }
    let which = servers.join(", ");
    let drained = fs::read_to_string(&c.upstream)
        .map_err(|e| format!("{which} still down: cannot read {}: {e}", c.upstream))?;
    let mut text = drained.clone();
    let mut blocks: Vec<String> = Vec::new();
    let mut restored: Vec<&String> = Vec::new();
    for server in servers {
        match upstream::mark_up(&text, server) {
            Undrain::NotFound => log(
                Level::Warn,
                &format!(
                    "no `server {server}` line left in {}; nothing to restore",
                    c.upstream
                ),
            ),
            Undrain::AlreadyUp => log(
                Level::Info,
                &format!("{server} is already up in {}", c.upstream),
            ),
            Undrain::Restored { text: t, blocks: b } => {
                text = t;
                blocks.extend(
                    b.into_iter()
                        .filter(|n| !blocks.contains(n))
                        .collect::<Vec<_>>(),
                );
                restored.push(server);
                continue;
            }
        }
        host::state_set(&drained_key(server), "0");
    }
    if restored.is_empty() {
        return Ok(());
    }
    let which: Vec<&str> = restored.iter().map(|s| s.as_str()).collect();
    let which = which.join(", ");
    let still_down = |e: String| {
        format!(
            "{which} still down in {}: {e}; remove the `down` and reload nginx by hand",
            c.upstream
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
    for server in restored {
        host::state_set(&drained_key(server), "0");
    }
    log(
        Level::Info,
        &format!(
            "marked {which} up again in upstream {} and reloaded nginx",
            blocks.join(", ")
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
