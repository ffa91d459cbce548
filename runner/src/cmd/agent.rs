//! `runner agent --stdio (--root <dir> | --app <app>)`: the far end of an `ssh://` or `file://`
//! target, and of a fleet release's session with this host.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;

use crate::agent::{self, AppAgent, ReleaseCache, protocol};
use crate::error::{Error, ExitCode, Result};
use crate::report;

use super::Globals;

/// Serves one session on stdin/stdout (`--mux`: several, see `agent/mux.rs`). Errors are told
/// to the client in the protocol (so it can show why) as well as on stderr, and become the exit
/// code: nothing else reads them.
pub fn run(g: &Globals, root: Option<PathBuf>, app: Option<String>, mux: bool) -> ExitCode {
    if mux {
        return run_mux(g);
    }
    let (root, app, cache) = match served(g, root, app) {
        Ok(s) => s,
        Err(e) => {
            let mut out = std::io::stdout().lock();
            let _ = protocol::write_msg(
                &mut out,
                &protocol::Msg::Error {
                    // English, as everything on the wire.
                    message: crate::i18n::english(|| e.to_string()),
                },
            );
            let _ = out.flush();
            report::print_error(&e);
            return e.exit_code();
        }
    };
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    ended(agent::serve(
        &root,
        stdin,
        stdout,
        app.as_ref(),
        cache.as_ref(),
    ))
}

/// `--mux`: each channel's root served as `--root` serves it, with its release cache.
fn run_mux(g: &Globals) -> ExitCode {
    let stdout = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from);
    ended(match stdout {
        Ok(out) => agent::mux::serve(std::io::stdin().lock(), out, &|root| release_cache(g, root)),
        Err(e) => Err(agent::AgentError::Client(e)),
    })
}

/// How serving ended, as an exit code; an error also on stderr.
fn ended(end: std::result::Result<(), agent::AgentError>) -> ExitCode {
    match end {
        Ok(()) => ExitCode::DONE,
        Err(e) => {
            let e = Error::Agent(Box::new(e));
            report::print_error(&e);
            e.exit_code()
        }
    }
}

/// The root to serve, the app whose releases it may run (`--app`: a fleet host, whose root is
/// the app's staging dir in this host's config), and the release's hash cache of the root.
fn served(
    g: &Globals,
    root: Option<PathBuf>,
    app: Option<String>,
) -> Result<(PathBuf, Option<AppAgent>, Option<ReleaseCache>)> {
    match (root, app) {
        (Some(root), _) => {
            let cache = release_cache(g, &root);
            Ok((root, None, cache))
        }
        (None, Some(app)) => {
            let (path, cfg) = g.load()?;
            let staging = cfg.app(&app)?.staging.clone();
            let config = crate::fsutil::absolute(&path);
            let cache = ReleaseCache {
                state_dir: cfg.state_dir.clone(),
                staging: staging.clone(),
            };
            Ok((staging, Some(AppAgent { app, config }), Some(cache)))
        }
        (None, None) => Err(Error::Usage(crate::t!("fleet-agent-needs-root"))),
    }
}

/// For a `--root` agent: the release cache of the app whose staging dir the root is, in the
/// config runner finds on this host, if any (a sync into an app server's staging dir).
fn release_cache(g: &Globals, root: &std::path::Path) -> Option<ReleaseCache> {
    let (_, cfg) = g.load().ok()?;
    // The root may not exist yet (the agent makes it): then its path as written.
    let resolved =
        |p: &std::path::Path| std::fs::canonicalize(p).or_else(|_| std::path::absolute(p));
    let root = resolved(root).ok()?;
    let app = cfg
        .apps
        .values()
        .find(|a| resolved(&a.staging).is_ok_and(|s| s == root))?;
    Some(ReleaseCache {
        state_dir: cfg.state_dir.clone(),
        staging: app.staging.clone(),
    })
}
