//! Ctrl-C and SIGTERM during a release, local or common or rollback. The first signal asks
//! the release to stop at its next safe point (between steps, or while verify waits): before
//! the commit nothing is touched, after it the old build is put back. The second ends the
//! process at once; the journal stays, and the command that finishes or undoes it is printed.
//! With no release in flight (planning, a prompt) the first signal ends the process: nothing is
//! touched yet.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::error::{Error, ExitCode, Result};

static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Set while a rollback runs: it must complete, so safe points no longer stop it.
static MASKED: AtomicBool = AtomicBool::new(false);
/// The app whose journaled release is in flight.
static IN_FLIGHT: Mutex<Option<String>> = Mutex::new(None);

/// Takes over SIGINT and SIGTERM for this process.
pub fn install() -> Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        // en: a part of runner, which Error::internal shows in the chosen language
        .map_err(Error::internal("the signal handler"))?;
    std::thread::Builder::new()
        .name("runner-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                let app = IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let first = SIGNAL
                    .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok();
                match app {
                    Some(app) if first => eprintln!(
                        "runner: {}",
                        crate::t!("interrupt-stopping", signal = name(sig), app = app)
                    ),
                    Some(app) => {
                        eprintln!(
                            "runner: {}",
                            crate::t!("interrupt-stopped", signal = name(sig), app = app)
                        );
                        std::process::exit(code(sig).0.into());
                    }
                    None => std::process::exit(code(sig).0.into()),
                }
            }
        })
        // en: a part of runner, which Error::internal shows in the chosen language
        .map_err(Error::internal("the signal thread"))?;
    Ok(())
}

/// The signal that asks the release in flight to stop, unless a rollback is running.
pub fn requested() -> Option<i32> {
    if MASKED.load(Ordering::SeqCst) {
        return None;
    }
    received()
}

/// The signal received, if any.
pub fn received() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// From now on, safe points let the work go on (a rollback in progress).
pub fn mask() {
    MASKED.store(true, Ordering::SeqCst);
}

/// The exit code for a stop by `sig`: 130 for SIGINT, 143 for SIGTERM.
pub fn code(sig: i32) -> ExitCode {
    ExitCode((128 + sig) as u8)
}

/// The signal as a person reads it: its name, or "a signal" in the chosen language.
pub fn name(sig: i32) -> String {
    match sig {
        SIGINT => "SIGINT".to_string(),
        SIGTERM => "SIGTERM".to_string(),
        _ => crate::t!("interrupt-a-signal"),
    }
}

/// Marks `app`'s release as in flight until dropped.
pub struct InFlight;

impl InFlight {
    pub fn new(app: &str) -> InFlight {
        *IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner()) = Some(app.to_string());
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        *IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner()) = None;
        MASKED.store(false, Ordering::SeqCst);
    }
}
