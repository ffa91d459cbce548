//! Instances made ahead of their calls: each plugin's spare, the prep thread that makes it
//! while the current call runs, and the retiring of used instances, on that thread too.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, mpsc};

use wasmtime::{Engine, Store};

use super::engine;
use super::error::PluginError;
use super::sandbox::{self, Capture, Kv, OpenedDir, State};
use super::wit;
use crate::config;

/// What stores are made from; shared with the prep thread.
#[derive(Clone)]
pub(super) struct Shared {
    pub(super) engine: Engine,
    pub(super) kv: Kv,
    pub(super) state_dir: PathBuf,
}

impl Shared {
    /// A fresh instance of a plugin, under its timeout.
    pub(super) fn instantiate(
        &self,
        rt: &tokio::runtime::Runtime,
        pre: &wit::PluginPre,
        spec: &config::Plugin,
        allow: &config::Allow,
    ) -> Result<Ready, PluginError> {
        let capture = Capture::default();
        let (mut store, dirs) = sandbox::new_store(&self.engine, &self.kv, spec, &capture, allow)?;
        let timeout = spec.timeout;
        let res = rt.block_on(async {
            tokio::time::timeout(timeout, pre.instantiate_async(&mut store)).await
        });
        let inst = sandbox::settle(res, timeout, &store, &capture)?;
        Ok(Ready {
            store,
            inst,
            capture,
            dirs,
        })
    }
}

/// A fresh instance, made ahead of its call.
pub(super) struct Ready {
    pub(super) store: Store<State>,
    pub(super) inst: wit::Instance,
    pub(super) capture: Capture,
    dirs: Vec<OpenedDir>,
}

/// An instance being made, or made, on the prep thread.
type Coming = mpsc::Receiver<Result<Ready, PluginError>>;

/// The instance a plugin's next call will use.
#[derive(Default)]
pub(super) struct Spare(Mutex<Option<Coming>>);

impl Spare {
    fn lock(&self) -> MutexGuard<'_, Option<Coming>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn clear(&self) {
        *self.lock() = None;
    }

    /// Blocks until the instance being made is made, and keeps it.
    pub(super) fn wait(&self) {
        let mut spare = self.lock();
        if let Some(made) = spare.take().and_then(|rx| rx.recv().ok()) {
            let (tx, rx) = mpsc::channel();
            let _ = tx.send(made);
            *spare = Some(rx);
        }
    }
}

/// Work for the prep thread.
enum Job {
    Prepare {
        pre: wit::PluginPre,
        spec: Box<config::Plugin>,
        reply: mpsc::Sender<Result<Ready, PluginError>>,
    },
    /// A used instance, dropped there: resetting its memory is off the release's path too.
    Retire(Box<Store<State>>),
}

/// The prep thread's queue; `None` makes every instance at its call.
pub(super) struct Pool(Option<mpsc::Sender<Job>>);

impl Pool {
    pub(super) fn start(shared: Shared) -> Result<Pool, PluginError> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("runner-wasm-prep".into())
            .spawn(move || prep_thread(shared, rx))
            .map_err(PluginError::PrepThread)?;
        Ok(Pool(Some(tx)))
    }

    /// From now on nothing is made ahead.
    pub(super) fn stop_making_ahead(&mut self) {
        self.0 = None;
    }

    /// Queues the making of a plugin's next instance, unless one is already coming.
    pub(super) fn prepare(&self, spare: &Spare, pre: &wit::PluginPre, spec: &config::Plugin) {
        let Some(prep) = &self.0 else { return };
        let mut spare = spare.lock();
        if spare.is_some() {
            return;
        }
        let (reply, rx) = mpsc::channel();
        let job = Job::Prepare {
            pre: pre.clone(),
            spec: Box::new(spec.clone()),
            reply,
        };
        if prep.send(job).is_ok() {
            *spare = Some(rx);
        }
    }

    /// The instance made ahead, if there is one and it is still good.
    pub(super) fn take(&self, spare: &Spare) -> Option<Ready> {
        let rx = spare.lock().take()?;
        // A failed prep (say, a trap at start-up) is made again at the call, which reports it.
        let ready = rx.recv().ok()?.ok()?;
        if sandbox::dirs_current(&ready.dirs) {
            Some(ready)
        } else {
            self.retire(ready.store);
            None
        }
    }

    pub(super) fn retire(&self, store: Store<State>) {
        if let Some(prep) = &self.0 {
            // The thread is gone only if the host is being dropped; the store drops here then.
            let _ = prep.send(Job::Retire(Box::new(store)));
        }
    }
}

/// Makes instances ahead of their calls and drops used ones, until the host goes away.
fn prep_thread(shared: Shared, jobs: mpsc::Receiver<Job>) {
    // Without a runtime nothing is prepared: each reply channel closes and calls make their own.
    let Ok(rt) = engine::runtime() else {
        return;
    };
    for job in jobs {
        match job {
            Job::Retire(store) => drop(store),
            Job::Prepare { pre, spec, reply } => {
                let _ = reply.send(shared.instantiate(&rt, &pre, &spec, &spec.allow));
            }
        }
    }
    rt.shutdown_background();
}
