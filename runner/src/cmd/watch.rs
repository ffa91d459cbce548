//! `runner watch`: the service. Signals: SIGTERM/SIGINT stop it; SIGHUP (`systemctl reload`)
//! re-reads the config — added, changed and removed `[[sync]]` rows and apps are picked up —
//! and reconciles every target.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::config::App;
use crate::error::{Error, ExitCode, Result};
use crate::hook::Hook;
use crate::plan::Change;
use crate::release::{self, Options};
use crate::sync::Guard;
use crate::watch::{self, Board, Control, WatchOptions};

use super::{Globals, Loaded};

/// What the signal thread tells the service: stop for good, or stop to re-read the config.
#[derive(Default)]
struct Asked {
    quit: AtomicBool,
    reload: AtomicBool,
    /// The running generation's control: stopping it ends that generation's workers.
    current: Mutex<Arc<Control>>,
}

impl Asked {
    fn stop_current(&self) {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .stop();
    }
}

pub fn run(
    g: &Globals,
    settle: Duration,
    reconcile_every: Duration,
    guard: Guard,
) -> Result<ExitCode> {
    let mut loaded = g.load_with_plugins()?;
    lean_heap();
    let asked = Arc::new(Asked::default());
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        // en: Error::internal takes a &'static str (error.rs puts the rest into words)
        .map_err(Error::internal("the signal handler"))?;
    let a = asked.clone();
    std::thread::spawn(move || {
        for sig in signals.forever() {
            if sig == SIGHUP {
                a.reload.store(true, Ordering::SeqCst);
            } else {
                a.quit.store(true, Ordering::SeqCst);
            }
            a.stop_current();
        }
    });
    let opts = WatchOptions {
        settle,
        reconcile_every,
        guard,
        ..WatchOptions::default()
    };
    let started = jiff::Timestamp::now().to_string();
    loop {
        let control = Arc::new(Control::default());
        *asked.current.lock().unwrap_or_else(|e| e.into_inner()) = control.clone();
        // A signal between two generations stopped the old one: this one ends at once.
        if asked.quit.load(Ordering::SeqCst) || asked.reload.load(Ordering::SeqCst) {
            control.stop();
        }
        generation(g, &loaded, opts, control, &started)?;
        if asked.quit.load(Ordering::SeqCst) {
            break;
        }
        if !asked.reload.swap(false, Ordering::SeqCst) {
            break;
        }
        // Workers start with a full reconcile: a reload reconciles every target.
        match g.load_with_plugins() {
            Ok(new)
                if new.cfg.sync.is_empty() && !new.cfg.apps.values().any(|a| a.auto_release) =>
            {
                tracing::error!("{}", crate::t!("sync-watch-config-empty"))
            }
            Ok(new) => {
                tracing::info!(
                    sync = new.cfg.sync.len(),
                    apps = new.cfg.apps.len(),
                    "{}",
                    crate::t!("sync-watch-config-reread")
                );
                // The hosts it no longer syncs to: their connections end.
                crate::sync::keep_only(&new.cfg.sync);
                loaded = new;
            }
            Err(e) => tracing::error!(
                "{}",
                crate::t!("sync-watch-config-failed", error = e.to_string())
            ),
        }
    }
    Ok(ExitCode::DONE)
}

/// A long-lived service gives back what its bursts allocated. glibc raises its mmap threshold
/// each time a large block is freed, after which a worker thread's large buffers (1 MiB to send
/// a file, 256 KiB to hash one) stay resident in that thread's arena once freed: with 27 rows,
/// 10 MB of idle heap after a burst. A fixed threshold keeps them mmapped and returned when freed
/// (`bench/sync.sh`'s idle footprint, README "Performance"). musl returns them anyway.
fn lean_heap() {
    #[cfg(target_env = "gnu")]
    #[allow(unsafe_code)]
    // SAFETY: mallopt only sets an allocator parameter; called before the workers start, and
    // glibc takes its own lock for it anyway.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// The workers of one config, until `control` stops them.
fn generation(
    g: &Globals,
    loaded: &Loaded,
    opts: WatchOptions,
    control: Arc<Control>,
    started: &str,
) -> Result<()> {
    let ctx = loaded.ctx(g.ui);
    let hook = |hook: Hook, app: &str, target: &str, changes: &[Change], error: Option<&str>| {
        super::sync::sync_hook(&ctx, hook, app, target, changes, error)
    };
    // An auto release is `runner release <app> --yes` without a terminal, on this host.
    let ropts = Options {
        dry_run: false,
        no_restart: false,
        no_rollback: false,
        confirm: false,
        entries: false,
    };
    let release = |app: &App| release::release(&ctx, app, ropts);
    let board = Board::new(&loaded.cfg.state_dir, started);
    watch::run(&loaded.cfg, opts, control, Some(&hook), &release, &board)
}
