//! `PluginHost`: loads plugins and calls them at the hook points. The plugin module's errors
//! become runner's errors here, once, naming plugin, hook and cause.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::Linker;

use super::engine::{self, Epoch};
use super::error::PluginError;
use super::pool::{Pool, Ready, Shared, Spare};
use super::sandbox::{self, HostCall, State};
use super::types::{Decision, HookEvent, Level, PluginInfo};
use super::wit;
use crate::config::{self, Config, OnError};
use crate::error::{Error, Result};
use crate::history::HookCall;
use crate::hook::Hook;
use crate::i18n::english;
use crate::inventory;

/// The most of a plugin's abort reason or failure text that runner prints and records.
const REASON: usize = 4096;

/// What a hook call tells the release to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Proceed,
    /// A before-hook did the step itself.
    Skip {
        plugin: String,
    },
    Abort {
        plugin: String,
        reason: String,
    },
}

/// A plugin, loaded and described.
pub struct Loaded {
    pub spec: config::Plugin,
    pub info: PluginInfo,
    pub wit: String,
    pub sha256: String,
    /// The hooks it is called for: the operator's list, else what the plugin asks for.
    pub hooks: Vec<Hook>,
    /// Whether the compiled form came from the cache.
    pub cached: bool,
    pre: wit::PluginPre,
    /// The instance the next call will use, being made (or made) on the prep thread.
    spare: Spare,
    /// Held during a call unless the plugin says it is `concurrent`: calls of one plugin never
    /// overlap (a fleet calls its central hooks from a thread per host; a plugin editing a
    /// file, like nginx-drain, must not race itself).
    busy: Mutex<()>,
}

/// Engine, compiled plugins, and the state they share within a release.
pub struct PluginHost {
    shared: Shared,
    /// WASI and runner's host imports, linked once for every plugin.
    linker: Linker<State>,
    /// Shut down in the background when the host goes: a plugin's blocking file call (a FIFO
    /// opened in a granted dir) must not keep runner from exiting.
    rt: Option<tokio::runtime::Runtime>,
    pub plugins: Vec<Loaded>,
    pool: Pool,
    /// Releases whose persisted plugin state has been read already.
    restored: Mutex<HashSet<String>>,
    calls: Mutex<Vec<HookCall>>,
    _epoch: Epoch,
}

/// A hook call's answer and the lines the plugin logged.
type Answer = (Decision, Vec<(Level, String)>);

/// One hook call and all it did, as `runner plugin call` shows it.
pub struct Trial {
    /// The answer, or why there is none.
    pub result: std::result::Result<Decision, PluginError>,
    pub logs: Vec<(Level, String)>,
    /// Host calls made or denied, and how many beyond those kept.
    pub host_calls: Vec<HostCall>,
    pub host_calls_dropped: usize,
    /// The tail of its stdout and stderr.
    pub output: String,
    /// The call itself (the instance was made before).
    pub took: Duration,
    /// The most linear memory it had, in bytes.
    pub peak_memory: usize,
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl PluginHost {
    /// Compiles (or loads from the cache) and describes every configured plugin, with room for
    /// `concurrent` calls of each at once.
    pub fn load(cfg: &Config, concurrent: usize) -> Result<PluginHost> {
        let mut host = PluginHost::with_room(&cfg.state_dir, cfg.plugins.len(), concurrent)?;
        for spec in &cfg.plugins {
            let loaded = host.load_one(spec.clone())?;
            host.plugins.push(loaded);
        }
        Ok(host)
    }

    /// A host with no plugins yet, room for one (for `plugin check`, which loads one by hand).
    pub fn empty(state_dir: &Path) -> Result<PluginHost> {
        PluginHost::with_room(state_dir, 1, 1)
    }

    /// A host with no plugins yet, its instance pool sized for `plugins` of them, each called
    /// by up to `concurrent` threads at once.
    pub fn with_room(state_dir: &Path, plugins: usize, concurrent: usize) -> Result<PluginHost> {
        PluginHost::start(state_dir, plugins, concurrent)
            .map_err(|e| Error::Internal(e.to_string()))
    }

    fn start(
        state_dir: &Path,
        plugins: usize,
        concurrent: usize,
    ) -> std::result::Result<PluginHost, PluginError> {
        let engine = engine::engine(plugins, concurrent)?;
        let epoch = Epoch::start(&engine)?;
        let rt = engine::runtime()?;
        let mut linker: Linker<State> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .and_then(|()| wit::add_to_linker(&mut linker))
            .map_err(PluginError::Link)?;
        let shared = Shared {
            engine,
            kv: Arc::new(Mutex::new(BTreeMap::new())),
            state_dir: state_dir.to_path_buf(),
        };
        let pool = Pool::start(shared.clone())?;
        Ok(PluginHost {
            shared,
            linker,
            rt: Some(rt),
            plugins: Vec::new(),
            pool,
            restored: Mutex::new(HashSet::new()),
            calls: Mutex::new(Vec::new()),
            _epoch: epoch,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }

    /// From now on makes every instance at its call instead of ahead (to measure what making
    /// them ahead saves).
    pub fn make_at_call(&mut self) {
        self.pool.stop_making_ahead();
        for p in &self.plugins {
            p.spare.clear();
        }
    }

    /// Starts making the first instance of every plugin that has hooks, so that a release's
    /// first hook calls do not wait for it.
    pub fn prepare_all(&self) {
        for p in self.plugins.iter().filter(|p| !p.hooks.is_empty()) {
            self.pool.prepare(&p.spare, &p.pre, &p.spec);
        }
    }

    /// Blocks until every instance being made ahead is made (for tests and benchmarks).
    pub fn wait_prepared(&self) {
        for p in &self.plugins {
            p.spare.wait();
        }
    }

    /// Loads one component: cached compile, link, `describe`.
    pub fn load_one(&self, spec: config::Plugin) -> Result<Loaded> {
        let (plugin, path) = (spec.name.clone(), spec.wasm.clone());
        self.compile_and_describe(spec)
            .map_err(|e| Error::PluginLoad {
                plugin,
                path,
                cause: e.to_string(),
            })
    }

    fn compile_and_describe(
        &self,
        spec: config::Plugin,
    ) -> std::result::Result<Loaded, PluginError> {
        let bytes = std::fs::read(&spec.wasm).map_err(PluginError::Read)?;
        let sha256 = inventory::hash_bytes(&bytes);
        let engine = &self.shared.engine;
        let (component, cached) = engine::compile(engine, &self.shared.state_dir, &bytes, &sha256)?;
        let wit = engine::wit_version(engine, &component);
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(PluginError::MissingImports)?;
        let pre = wit::PluginPre::new(pre, wit.as_deref())?;
        let info = self.describe(&spec, &pre)?;
        let hooks = if spec.hooks.is_empty() {
            info.hooks.clone()
        } else {
            spec.hooks.clone()
        };
        let hooks = hooks
            .iter()
            .map(|h| Hook::parse(h).ok_or_else(|| PluginError::UnknownHook(h.clone())))
            .collect::<std::result::Result<Vec<Hook>, _>>()?;
        if let Some(h) = hooks.iter().find(|h| !h.in_wit(pre.version())) {
            return Err(PluginError::HookTooNew {
                hook: *h,
                wit: pre.version(),
            });
        }
        Ok(Loaded {
            wit: wit.unwrap_or_else(|| pre.version().into()),
            spec,
            info,
            sha256,
            hooks,
            cached,
            pre,
            spare: Spare::default(),
            busy: Mutex::new(()),
        })
    }

    fn describe(
        &self,
        spec: &config::Plugin,
        pre: &wit::PluginPre,
    ) -> std::result::Result<PluginInfo, PluginError> {
        let Ready {
            mut store,
            inst,
            capture,
            ..
        } = self
            .shared
            .instantiate(self.rt(), pre, spec, &config::Allow::default())?;
        store.data_mut().begin("describe", "", None, spec.timeout);
        let timeout = spec.timeout;
        let res = self
            .rt()
            .block_on(async { tokio::time::timeout(timeout, inst.describe(&mut store)).await });
        let info = sandbox::settle(res, timeout, &store, &capture);
        self.pool.retire(store);
        info
    }

    /// Calls every plugin subscribed to `ev.hook`, in config order. An `abort` decision stops
    /// at once; a failed call aborts or warns as the plugin's `on_error` says.
    pub fn call(&self, ev: &HookEvent, ui: &crate::report::Ui) -> Verdict {
        let mut verdict = Verdict::Proceed;
        for p in self.plugins.iter().filter(|p| p.hooks.contains(&ev.hook)) {
            // How long the call waited for another call of the plugin (0 when none ran).
            let mut waited = 0;
            let busy = (!p.info.concurrent).then(|| match p.busy.try_lock() {
                Ok(held) => held,
                Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {
                    let asked = Instant::now();
                    let held = p.busy.lock().unwrap_or_else(|e| e.into_inner());
                    waited = asked.elapsed().as_micros() as u64;
                    held
                }
            });
            let t = Instant::now();
            let res = self.run(p, ev);
            drop(busy);
            let micros = t.elapsed().as_micros() as u64;
            // The cause, bounded: in English for what is recorded (the history, an abort's
            // reason), in the chosen language for a warning the operator reads.
            let res = res.map_err(|e| {
                let recorded = english(|| sandbox::truncate(e.to_string(), REASON));
                (sandbox::truncate(e.to_string(), REASON), recorded)
            });
            let (decision, error) = match &res {
                Ok((d, _)) => (english(|| sandbox::truncate(d.name(), REASON)), None),
                Err((_, recorded)) => ("failed".to_string(), Some(recorded.clone())),
            };
            self.calls
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(HookCall {
                    plugin: p.spec.name.clone(),
                    hook: ev.hook.to_string(),
                    host: matches!(ev.hook, Hook::BeforeHost | Hook::AfterHost)
                        .then(|| ev.host.to_string()),
                    batch: ev
                        .batch
                        .filter(|_| matches!(ev.hook, Hook::BeforeBatch | Hook::AfterBatch))
                        .map(|b| b.hosts.to_vec())
                        .unwrap_or_default(),
                    decision,
                    micros,
                    waited_micros: waited,
                    error,
                });
            match res {
                Ok((d, logs)) => {
                    for (level, msg) in logs {
                        show_log(ui, &p.spec.name, ev.hook.name(), level, &msg);
                    }
                    match d {
                        Decision::Proceed => {}
                        Decision::Skip => {
                            verdict = Verdict::Skip {
                                plugin: p.spec.name.clone(),
                            }
                        }
                        // The reason goes into the journal and the history: English.
                        Decision::Abort(reason) => {
                            return Verdict::Abort {
                                plugin: p.spec.name.clone(),
                                reason: english(|| {
                                    crate::t!(
                                        "plugin-aborted",
                                        plugin = &p.spec.name,
                                        hook = ev.hook.name(),
                                        reason = sandbox::truncate(reason, REASON)
                                    )
                                }),
                            };
                        }
                    }
                }
                Err((shown, recorded)) => {
                    let e = |cause| Error::Plugin {
                        plugin: p.spec.name.clone(),
                        hook: ev.hook.to_string(),
                        cause,
                    };
                    if p.spec.on_error == OnError::Warn {
                        ui.warn(crate::t!(
                            "plugin-on-error-warn",
                            error = e(shown).to_string()
                        ));
                    } else {
                        // Into the journal and the history, as an abort's reason: English.
                        return Verdict::Abort {
                            plugin: p.spec.name.clone(),
                            reason: english(|| e(recorded).to_string()),
                        };
                    }
                }
            }
        }
        verdict
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        self.rt
            .as_ref()
            .expect("the runtime lives as long as the host")
    }

    /// Whether any plugin is called at `hook`.
    pub fn subscribed(&self, hook: Hook) -> bool {
        self.plugins.iter().any(|p| p.hooks.contains(&hook))
    }

    /// Forgets the plugin state of a release that has ended (in memory and on disk).
    pub fn forget(&self, release: &str) {
        if release.is_empty() {
            return;
        }
        let prefix = format!("{release}\u{0}");
        self.shared
            .kv
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|k, _| !k.starts_with(&prefix));
        let _ = std::fs::remove_file(sandbox::state_file(&self.shared.state_dir, release));
    }

    /// The hook calls made so far, for the history; clears the list.
    pub fn take_calls(&self) -> Vec<HookCall> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// One hook call in a fresh instance. Err is the cause, with the plugin's output attached.
    fn run(&self, p: &Loaded, ev: &HookEvent) -> std::result::Result<Answer, PluginError> {
        self.restore_state(ev.release_id);
        let spare = self.pool.take(&p.spare);
        // The next call's instance is made while this one runs. (Made after the call instead,
        // calls got no faster, and back-to-back calls waited for it.)
        self.pool.prepare(&p.spare, &p.pre, &p.spec);
        let ready = match spare {
            Some(r) => r,
            None => self
                .shared
                .instantiate(self.rt(), &p.pre, &p.spec, &p.spec.allow)?,
        };
        self.call_handle(p, ev, ready)
    }

    /// Calls `p` once at `ev.hook`, on an instance made for it, outside any release: the plugin
    /// author's test loop (`runner plugin call`). Plugin state the call sets is not persisted:
    /// the event may name a real release, whose state it must not touch.
    pub fn try_call(&self, p: &Loaded, ev: &HookEvent) -> Trial {
        match self
            .shared
            .instantiate(self.rt(), &p.pre, &p.spec, &p.spec.allow)
        {
            Ok(ready) => self.invoke(p, ev, ready, false),
            Err(e) => Trial {
                result: Err(e),
                logs: Vec::new(),
                host_calls: Vec::new(),
                host_calls_dropped: 0,
                output: String::new(),
                took: Duration::ZERO,
                peak_memory: 0,
            },
        }
    }

    /// The call itself, on a fresh instance; the instance is retired after.
    fn call_handle(
        &self,
        p: &Loaded,
        ev: &HookEvent,
        ready: Ready,
    ) -> std::result::Result<Answer, PluginError> {
        let trial = self.invoke(p, ev, ready, true);
        if !trial.output.is_empty() {
            tracing::debug!(plugin = %p.spec.name, hook = ev.hook.name(), output = %trial.output, "plugin output");
        }
        trial.result.map(|d| (d, trial.logs))
    }

    /// `handle` on `ready`, under the plugin's timeout; what it answered and did. `persist`:
    /// plugin state the call sets is written to the state dir.
    fn invoke(&self, p: &Loaded, ev: &HookEvent, ready: Ready, persist: bool) -> Trial {
        let Ready {
            mut store,
            inst,
            capture,
            ..
        } = ready;
        let timeout = p.spec.timeout;
        store.data_mut().begin(
            ev.hook.name(),
            ev.release_id,
            persist.then_some(self.shared.state_dir.as_path()),
            timeout,
        );
        store.set_epoch_deadline(1);
        let t = Instant::now();
        let res = self.rt().block_on(async {
            let call = inst.handle(&mut store, ev, &p.spec.config);
            tokio::time::timeout(timeout, call).await
        });
        let took = t.elapsed();
        let result = sandbox::settle(res, timeout, &store, &capture);
        let data = store.data_mut();
        data.flush_state();
        let logs = data.take_logs();
        let (host_calls, host_calls_dropped) = data.take_calls();
        let peak_memory = data.peak_memory();
        self.pool.retire(store);
        Trial {
            result,
            logs,
            host_calls,
            host_calls_dropped,
            output: capture.tail(),
            took,
            peak_memory,
        }
    }

    /// Loads persisted plugin state of a release (after a crash, a resumed release keeps it).
    fn restore_state(&self, release: &str) {
        if release.is_empty()
            || !self
                .restored
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(release.to_string())
        {
            return;
        }
        let mut kv = self.shared.kv.lock().unwrap_or_else(|e| e.into_inner());
        let path = sandbox::state_file(&self.shared.state_dir, release);
        if let Some(saved) = std::fs::read(&path).ok().and_then(|b| {
            serde_json::from_slice::<BTreeMap<String, BTreeMap<String, String>>>(&b).ok()
        }) {
            kv.extend(saved);
        }
    }
}

fn show_log(ui: &crate::report::Ui, plugin: &str, hook: &str, level: Level, msg: &str) {
    match level {
        Level::Error | Level::Warn => ui.warn(format!("{plugin} ({hook}): {msg}")),
        Level::Info => ui.line(format!("  {} {plugin}: {msg}", console::style("·").cyan())),
        Level::Debug => tracing::debug!(plugin, hook, "{msg}"),
        Level::Trace => tracing::trace!(plugin, hook, "{msg}"),
    }
}
