//! The plugin host: WASM components built against `wit/`, compiled once and cached under
//! `state_dir/plugins`, called before and after every step in a fresh, sandboxed instance.
//!
//! A plugin gets no ambient authority: its WASI context inherits no env, args, stdin or
//! network; its stdout/stderr go to a bounded capture; the only directories it sees are its
//! `allow.dirs` (read-only unless also in `allow.rw`); `host.exec` runs only `allow.exec`
//! programs and `host.http` reaches only `allow.http` hosts. Each call runs under a wall-clock
//! timeout (epoch interruption makes even a busy loop yield) and a memory limit. Wasmtime's
//! errors become runner errors here, once, naming plugin, hook and cause.
//!
//! Speed: instances come from a pooling allocator whose slots stay mapped and resident (a used
//! slot's memory is reset by memset rather than given back to the kernel), and a worker
//! thread makes each plugin's next instance while the current call runs, and drops the used one.
//! A hook call is then only the call itself, still on an instance nothing ran in before.

pub mod since_v0_1;

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::inventory;
use crate::journal::write_durably;
use crate::plan::{Action, Change};
use since_v0_1 as v1;

/// The WIT versions this runner loads, newest first.
pub const WIT_VERSIONS: &[&str] = &["0.1.0"];
/// Bytes of a plugin's stdout+stderr kept (the tail) per call.
const CAPTURE: usize = 16 * 1024;
const EPOCH_TICK: Duration = Duration::from_millis(5);

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

/// One hook call, as the release history records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HookCall {
    pub plugin: String,
    pub hook: String,
    pub decision: String,
    pub micros: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The event a hook call carries, in runner's terms.
pub struct HookEvent<'a> {
    pub hook: &'a str,
    pub release_id: &'a str,
    pub app: &'a str,
    pub host: &'a str,
    pub changes: &'a [Change],
    pub dry_run: bool,
    pub error: Option<&'a str>,
    pub outcome: Option<&'a str>,
}

/// A plugin, loaded and described.
pub struct Loaded {
    pub spec: config::Plugin,
    pub info: v1::Info,
    pub wit: String,
    pub sha256: String,
    /// The hooks it is called for: the operator's list, else what the plugin asks for.
    pub hooks: Vec<String>,
    /// Whether the compiled form came from the cache.
    pub cached: bool,
    pre: v1::PluginPre<State>,
    /// The instance the next call will use, being made (or made) on the prep thread.
    spare: Mutex<Option<mpsc::Receiver<std::result::Result<Ready, String>>>>,
}

/// A fresh instance, made ahead of its call.
struct Ready {
    store: Store<State>,
    inst: v1::Plugin,
    capture: Capture,
    dirs: Vec<OpenedDir>,
}

/// A granted dir as it was opened: path, device, inode.
type OpenedDir = (PathBuf, u64, u64);

impl Ready {
    /// Whether every granted dir is still the directory that was opened (a symlink swapped
    /// since, e.g. a `current` link moved by the install, makes the instance stale).
    fn dirs_current(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        self.dirs.iter().all(|(path, dev, ino)| {
            std::fs::metadata(path).is_ok_and(|m| m.dev() == *dev && m.ino() == *ino)
        })
    }
}

/// Work for the prep thread.
enum Job {
    Prepare {
        pre: v1::PluginPre<State>,
        spec: Box<config::Plugin>,
        reply: mpsc::Sender<std::result::Result<Ready, String>>,
    },
    /// A used instance, dropped there: resetting its memory is off the release's path too.
    Retire(Box<Store<State>>),
}

/// What stores are made from; shared with the prep thread.
#[derive(Clone)]
struct Shared {
    engine: Engine,
    kv: Arc<Mutex<BTreeMap<String, BTreeMap<String, String>>>>,
    state_dir: PathBuf,
}

/// Engine, compiled plugins, and the state they share within a release.
pub struct PluginHost {
    shared: Shared,
    /// WASI and runner's host imports, linked once for every plugin.
    linker: Linker<State>,
    rt: tokio::runtime::Runtime,
    pub plugins: Vec<Loaded>,
    /// The prep thread's queue; `None` makes every instance at its call.
    prep: Option<mpsc::Sender<Job>>,
    /// Releases whose persisted plugin state has been read already.
    restored: Mutex<std::collections::HashSet<String>>,
    calls: Mutex<Vec<HookCall>>,
    stop: Arc<AtomicBool>,
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The engine, its instance pool sized for `plugins` plugins called by up to `concurrent`
/// threads at once: each plugin's spare, its running instances and one being retired.
fn engine(plugins: usize, concurrent: usize) -> Result<Engine> {
    let mut c = wasmtime::Config::new();
    c.wasm_component_model(true);
    c.epoch_interruption(true);
    let slots = (plugins.max(1) * (concurrent.max(1) + 2) + 2) as u32;
    // A used slot's first `keep` bytes of linear memory are reset by memset/memcpy on the prep
    // thread and stay resident, so the next instance in the slot takes no page faults there (a
    // Python plugin's call: 1.7 → 0.9 ms). Beyond that, memory is released with madvise. The
    // PAGEMAP_SCAN variant (reset only dirtied pages) gave up after 32 dirty regions, which a
    // Python heap exceeds, so it is not used. A fleet's central box keeps less per slot: it has
    // a slot per host in flight.
    let keep: usize = if concurrent > 1 { 8 << 20 } else { 64 << 20 };
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    pool.total_component_instances(slots)
        .total_core_instances(slots * 32)
        .total_memories(slots)
        .total_tables(slots * 8)
        .total_stacks(slots)
        .total_gc_heaps(slots)
        .max_tables_per_module(8)
        .table_elements(100_000)
        .linear_memory_keep_resident(keep)
        .table_keep_resident(1 << 20)
        .async_stack_keep_resident(64 << 10);
    c.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&c).map_err(|e| Error::Usage(format!("cannot start the wasm engine: {e}")))
}

/// Store data of one plugin instance.
struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: Limiter,
    plugin: String,
    hook: String,
    release: String,
    allow: config::Allow,
    kv: Arc<Mutex<BTreeMap<String, BTreeMap<String, String>>>>,
    state_file: Option<PathBuf>,
    deadline: Instant,
    logs: Vec<(v1::Level, String)>,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps linear memory, remembering that it did so for the error message.
struct Limiter {
    max: usize,
    hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// A bounded capture of a plugin's stdout/stderr: keeps the last `CAPTURE` bytes, never fails
/// a write (a chatty plugin is not an error).
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn tail(&self) -> String {
        let b = self.0.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&b).trim().to_string()
    }
}

impl wasmtime_wasi::cli::IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for Capture {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let mut b = self.0.lock().unwrap_or_else(|e| e.into_inner());
        b.extend_from_slice(buf);
        if b.len() > CAPTURE {
            let cut = b.len() - CAPTURE;
            b.drain(..cut);
        }
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

impl PluginHost {
    /// Compiles (or loads from the cache) and describes every configured plugin.
    pub fn load(cfg: &Config) -> Result<PluginHost> {
        // A fleet release calls the central hooks from one thread per host in flight.
        let concurrent = if cfg.apps.values().any(|a| !a.hosts.is_empty()) {
            crate::fleet::PARALLEL
        } else {
            1
        };
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
        let engine = engine(plugins, concurrent)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (e, s) = (engine.clone(), stop.clone());
        std::thread::Builder::new()
            .name("runner-epoch".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    e.increment_epoch();
                }
            })
            .map_err(|e| Error::Usage(format!("cannot start the epoch thread: {e}")))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?;
        let mut linker: Linker<State> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .and_then(|()| {
                v1::Plugin::add_to_linker::<State, wasmtime::component::HasSelf<State>>(
                    &mut linker,
                    |s| s,
                )
            })
            .map_err(|e| Error::Usage(format!("cannot link the plugin host imports: {e:#}")))?;
        let shared = Shared {
            engine,
            kv: Arc::new(Mutex::new(BTreeMap::new())),
            state_dir: state_dir.to_path_buf(),
        };
        let (tx, rx) = mpsc::channel::<Job>();
        let prep = shared.clone();
        std::thread::Builder::new()
            .name("runner-wasm-prep".into())
            .spawn(move || prep_thread(prep, rx))
            .map_err(|e| Error::Usage(format!("cannot start the plugin prep thread: {e}")))?;
        Ok(PluginHost {
            shared,
            linker,
            rt,
            plugins: Vec::new(),
            prep: Some(tx),
            restored: Mutex::new(std::collections::HashSet::new()),
            calls: Mutex::new(Vec::new()),
            stop,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }

    /// From now on makes every instance at its call instead of ahead (to measure what making
    /// them ahead saves).
    pub fn make_at_call(&mut self) {
        self.prep = None;
        for p in &self.plugins {
            *p.spare.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// Starts making the first instance of every plugin that has hooks, so that a release's
    /// first hook calls do not wait for it.
    pub fn prepare_all(&self) {
        for p in self.plugins.iter().filter(|p| !p.hooks.is_empty()) {
            self.prepare(p);
        }
    }

    /// Blocks until every instance being made ahead is made (for tests and benchmarks).
    pub fn wait_prepared(&self) {
        for p in &self.plugins {
            let mut spare = p.spare.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(made) = spare.take().and_then(|rx| rx.recv().ok()) {
                let (tx, rx) = mpsc::channel();
                let _ = tx.send(made);
                *spare = Some(rx);
            }
        }
    }

    /// Queues the making of `p`'s next instance, unless one is already coming.
    fn prepare(&self, p: &Loaded) {
        let Some(prep) = &self.prep else { return };
        let mut spare = p.spare.lock().unwrap_or_else(|e| e.into_inner());
        if spare.is_some() {
            return;
        }
        let (reply, rx) = mpsc::channel();
        let job = Job::Prepare {
            pre: p.pre.clone(),
            spec: Box::new(p.spec.clone()),
            reply,
        };
        if prep.send(job).is_ok() {
            *spare = Some(rx);
        }
    }

    /// The instance made ahead for `p`, if there is one and it is still good.
    fn take_spare(&self, p: &Loaded) -> Option<Ready> {
        let rx = p.spare.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        // A failed prep (say, a trap at start-up) is made again at the call, which reports it.
        let ready = rx.recv().ok()?.ok()?;
        if ready.dirs_current() {
            Some(ready)
        } else {
            self.retire(ready.store);
            None
        }
    }

    fn retire(&self, store: Store<State>) {
        if let Some(prep) = &self.prep {
            // The thread is gone only if the host is being dropped; the store drops here then.
            let _ = prep.send(Job::Retire(Box::new(store)));
        }
    }

    /// Loads one component: cached compile, link, `describe`.
    pub fn load_one(&self, spec: config::Plugin) -> Result<Loaded> {
        let fail = |cause: String| Error::PluginLoad {
            plugin: spec.name.clone(),
            path: spec.wasm.clone(),
            cause,
        };
        let bytes = std::fs::read(&spec.wasm).map_err(|e| fail(format!("cannot read it: {e}")))?;
        let sha256 = inventory::hash_bytes(&bytes);
        let (component, cached) = self.compile(&bytes, &sha256).map_err(&fail)?;
        let wit = wit_version(&self.shared.engine, &component);
        let pre = self.linker.instantiate_pre(&component).map_err(|e| {
            fail(format!(
                "it needs imports runner does not offer ({}) — is it built against runner:plugin@{}?",
                first_line(&e),
                WIT_VERSIONS.join(" or ")
            ))
        })?;
        let pre = v1::PluginPre::new(pre).map_err(|e| {
            fail(format!(
                "it does not export the runner:plugin@0.1.0 world ({}); built against: {}",
                first_line(&e),
                wit.as_deref().unwrap_or("no runner:plugin version")
            ))
        })?;
        let info = self.describe(&spec, &pre).map_err(&fail)?;
        let hooks = if spec.hooks.is_empty() {
            info.hooks.clone()
        } else {
            spec.hooks.clone()
        };
        for h in &hooks {
            if !config::HOOKS.contains(&h.as_str()) {
                return Err(fail(format!("it asks for an unknown hook `{h}`")));
            }
        }
        Ok(Loaded {
            wit: wit.unwrap_or_else(|| "0.1.0".into()),
            spec,
            info,
            sha256,
            hooks,
            cached,
            pre,
            spare: Mutex::new(None),
        })
    }

    /// The compiled component, from `state_dir/plugins/<sha256>-<engine>.cwasm` when present.
    fn compile(
        &self,
        bytes: &[u8],
        sha256: &str,
    ) -> std::result::Result<(Component, bool), String> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.shared
            .engine
            .precompile_compatibility_hash()
            .hash(&mut h);
        let dir = std::env::var_os("RUNNER_PLUGIN_CACHE")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| self.shared.state_dir.join("plugins"));
        let path = dir.join(format!("{}-{:016x}.cwasm", &sha256[..16], h.finish()));
        if path.is_file() {
            match deserialize(&self.shared.engine, &path) {
                Ok(c) => return Ok((c, true)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), "recompiling: cached plugin unusable: {e}")
                }
            }
        }
        let component = Component::new(&self.shared.engine, bytes)
            .map_err(|e| format!("not a valid WASM component: {}", first_line(&e)))?;
        match component.serialize() {
            Ok(b) => {
                if let Err(e) = write_durably(&path, &b) {
                    tracing::warn!("cannot cache the compiled plugin: {e}");
                }
            }
            Err(e) => tracing::warn!("cannot serialize the compiled plugin: {e}"),
        }
        Ok((component, false))
    }

    fn describe(
        &self,
        spec: &config::Plugin,
        pre: &v1::PluginPre<State>,
    ) -> std::result::Result<v1::Info, String> {
        let Ready {
            mut store,
            inst,
            capture,
            ..
        } = self
            .shared
            .instantiate(&self.rt, pre, spec, &config::Allow::default())?;
        store
            .data_mut()
            .begin("describe", "", &self.shared.state_dir, spec.timeout);
        let timeout = spec.timeout;
        let res = self.rt.block_on(async {
            tokio::time::timeout(timeout, inst.call_describe(&mut store)).await
        });
        let info = settle(res, timeout, &store, &capture);
        self.retire(store);
        info
    }

    /// Calls every plugin subscribed to `ev.hook`, in config order. An `abort` decision stops
    /// at once; a failed call aborts or warns as the plugin's `on_error` says.
    pub fn call(&self, ev: &HookEvent, ui: &crate::report::Ui) -> Verdict {
        let mut verdict = Verdict::Proceed;
        for p in self
            .plugins
            .iter()
            .filter(|p| p.hooks.iter().any(|h| h == ev.hook))
        {
            let t = Instant::now();
            let res = self.run(p, ev);
            let micros = t.elapsed().as_micros() as u64;
            let (decision, error) = match &res {
                Ok((d, _)) => (decision_name(d), None),
                Err(e) => ("failed".to_string(), Some(e.clone())),
            };
            self.calls
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(HookCall {
                    plugin: p.spec.name.clone(),
                    hook: ev.hook.to_string(),
                    decision,
                    micros,
                    error: error.clone(),
                });
            match res {
                Ok((d, logs)) => {
                    for (level, msg) in logs {
                        show_log(ui, &p.spec.name, ev.hook, level, &msg);
                    }
                    match d {
                        v1::Decision::Proceed => {}
                        v1::Decision::Skip => {
                            verdict = Verdict::Skip {
                                plugin: p.spec.name.clone(),
                            }
                        }
                        v1::Decision::Abort(reason) => {
                            return Verdict::Abort {
                                plugin: p.spec.name.clone(),
                                reason: format!(
                                    "plugin `{}` aborted in {}: {reason}",
                                    p.spec.name, ev.hook
                                ),
                            };
                        }
                    }
                }
                Err(cause) => {
                    let e = Error::Plugin {
                        plugin: p.spec.name.clone(),
                        hook: ev.hook.to_string(),
                        cause,
                    };
                    if p.spec.on_error == "warn" {
                        ui.warn(format!("{e} (on_error = warn: going on)"));
                    } else {
                        return Verdict::Abort {
                            plugin: p.spec.name.clone(),
                            reason: e.to_string(),
                        };
                    }
                }
            }
        }
        verdict
    }

    /// The hook calls made so far, for the history; clears the list.
    pub fn take_calls(&self) -> Vec<HookCall> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// One hook call in a fresh instance. Err is the cause, with the plugin's output attached.
    fn run(
        &self,
        p: &Loaded,
        ev: &HookEvent,
    ) -> std::result::Result<(v1::Decision, Vec<(v1::Level, String)>), String> {
        self.restore_state(ev.release_id);
        let spare = self.take_spare(p);
        // The next call's instance is made while this one runs. (Made after the call instead,
        // calls got no faster, and back-to-back calls waited for it.)
        self.prepare(p);
        let ready = match spare {
            Some(r) => r,
            None => self
                .shared
                .instantiate(&self.rt, &p.pre, &p.spec, &p.spec.allow)?,
        };
        self.call_handle(p, ev, ready)
    }

    /// The call itself, on a fresh instance; the instance is retired after.
    fn call_handle(
        &self,
        p: &Loaded,
        ev: &HookEvent,
        ready: Ready,
    ) -> std::result::Result<(v1::Decision, Vec<(v1::Level, String)>), String> {
        let Ready {
            mut store,
            inst,
            capture,
            ..
        } = ready;
        let timeout = p.spec.timeout;
        store
            .data_mut()
            .begin(ev.hook, ev.release_id, &self.shared.state_dir, timeout);
        store.set_epoch_deadline(1);
        let (changes, config) = event_lists(ev, &p.spec);
        let event = to_event(ev, &changes, &config);
        let res = self.rt.block_on(async {
            tokio::time::timeout(timeout, inst.call_handle(&mut store, event)).await
        });
        let d = settle(res, timeout, &store, &capture);
        let logs = std::mem::take(&mut store.data_mut().logs);
        self.retire(store);
        let output = capture.tail();
        if !output.is_empty() {
            tracing::debug!(plugin = %p.spec.name, hook = ev.hook, %output, "plugin output");
        }
        Ok((d?, logs))
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
        let path = state_file(&self.shared.state_dir, release);
        if let Some(saved) = std::fs::read(&path).ok().and_then(|b| {
            serde_json::from_slice::<BTreeMap<String, BTreeMap<String, String>>>(&b).ok()
        }) {
            kv.extend(saved);
        }
    }
}

impl Shared {
    /// A store for `spec` with its WASI context (granted dirs opened now), and the granted dirs'
    /// identities.
    fn store(
        &self,
        spec: &config::Plugin,
        capture: &Capture,
        allow: &config::Allow,
    ) -> std::result::Result<(Store<State>, Vec<OpenedDir>), String> {
        use std::os::unix::fs::MetadataExt;
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(capture.clone())
            .stderr(capture.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        // A dir granted both ways is opened once, read-write.
        let dirs: std::collections::BTreeSet<&PathBuf> =
            allow.dirs.iter().chain(allow.rw.iter()).collect();
        let mut opened = Vec::new();
        for dir in dirs {
            let perms = if allow.rw.contains(dir) {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            let guest = dir
                .to_str()
                .ok_or_else(|| format!("granted dir {} is not UTF-8", dir.display()))?;
            // Looked at before it is opened: a swap in between shows as stale, never as fresh.
            let meta = std::fs::metadata(dir)
                .map_err(|e| format!("cannot open granted dir {}: {e}", dir.display()))?;
            wasi.preopened_dir(dir, guest, perms)
                .map_err(|e| format!("cannot open granted dir {}: {e}", dir.display()))?;
            opened.push((dir.clone(), meta.dev(), meta.ino()));
        }
        let state = State {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: Limiter {
                max: spec.memory as usize,
                hit: false,
            },
            plugin: spec.name.clone(),
            hook: "start-up".into(),
            release: String::new(),
            allow: allow.clone(),
            kv: self.kv.clone(),
            state_file: None,
            deadline: Instant::now() + spec.timeout,
            logs: Vec::new(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        Ok((store, opened))
    }

    /// A fresh instance of a plugin, under its timeout.
    fn instantiate(
        &self,
        rt: &tokio::runtime::Runtime,
        pre: &v1::PluginPre<State>,
        spec: &config::Plugin,
        allow: &config::Allow,
    ) -> std::result::Result<Ready, String> {
        let capture = Capture::default();
        let (mut store, dirs) = self.store(spec, &capture, allow)?;
        let timeout = spec.timeout;
        let res = rt.block_on(async {
            tokio::time::timeout(timeout, pre.instantiate_async(&mut store)).await
        });
        let inst = settle(res, timeout, &store, &capture)?;
        Ok(Ready {
            store,
            inst,
            capture,
            dirs,
        })
    }
}

/// Makes instances ahead of their calls and drops used ones, until the host goes away.
fn prep_thread(shared: Shared, jobs: mpsc::Receiver<Job>) {
    // Without a runtime nothing is prepared: each reply channel closes and calls make their own.
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
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
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file is runner's own compile cache: written by `Component::serialize` under
    // `state_dir`, named by the wasm's sha256 and this engine's compatibility hash.
    unsafe { Component::deserialize_file(engine, path) }
}

/// Turns the outcome of a call into the plugin's answer or a cause naming what went wrong.
fn settle<T>(
    res: std::result::Result<wasmtime::Result<T>, tokio::time::error::Elapsed>,
    timeout: Duration,
    store: &Store<State>,
    capture: &Capture,
) -> std::result::Result<T, String> {
    let with_output = |cause: String| {
        let out = capture.tail();
        if out.is_empty() {
            cause
        } else {
            let tail: Vec<&str> = out.lines().rev().take(8).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            format!("{cause}; its output ends:\n    {}", tail.join("\n    "))
        }
    };
    match res {
        Ok(Ok(v)) => Ok(v),
        Err(_) => Err(with_output(format!(
            "timed out after {}",
            humantime::format_duration(timeout)
        ))),
        Ok(Err(e)) => {
            let cause = if store.data().limiter.hit {
                format!(
                    "exceeded its memory limit of {} MiB",
                    store.data().limiter.max >> 20
                )
            } else if e
                .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
                .is_some()
            {
                format!(
                    "no free instance slot: {} (too many plugin calls at once)",
                    first_line(&e)
                )
            } else if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
                format!("trapped: {trap}")
            } else {
                first_line(&e)
            };
            Err(with_output(cause))
        }
    }
}

fn first_line(e: &impl std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

/// The `runner:plugin` version a component imports, e.g. `0.1.0`.
fn wit_version(engine: &Engine, c: &Component) -> Option<String> {
    c.component_type()
        .imports(engine)
        .find_map(|(name, _)| name.strip_prefix("runner:plugin/host@").map(str::to_string))
}

fn decision_name(d: &v1::Decision) -> String {
    match d {
        v1::Decision::Proceed => "proceed".into(),
        v1::Decision::Skip => "skip".into(),
        v1::Decision::Abort(r) => format!("abort: {r}"),
    }
}

fn show_log(ui: &crate::report::Ui, plugin: &str, hook: &str, level: v1::Level, msg: &str) {
    match level {
        v1::Level::Error | v1::Level::Warn => ui.warn(format!("{plugin} ({hook}): {msg}")),
        v1::Level::Info => ui.line(format!("  {} {plugin}: {msg}", console::style("·").cyan())),
        v1::Level::Debug => tracing::debug!(plugin, hook, "{msg}"),
        v1::Level::Trace => tracing::trace!(plugin, hook, "{msg}"),
    }
}

/// The parts of a hook's event that are lists, borrowed from runner's own data.
fn event_lists<'a>(
    ev: &HookEvent<'a>,
    spec: &'a config::Plugin,
) -> (Vec<v1::FileChange<'a>>, Vec<(&'a str, &'a str)>) {
    let changes = ev
        .changes
        .iter()
        .map(|c| v1::FileChange {
            path: &c.path,
            action: match c.action {
                Action::Added => v1::ChangeAction::Added,
                Action::Modified => v1::ChangeAction::Modified,
                Action::Removed => v1::ChangeAction::Removed,
                Action::Unchanged => v1::ChangeAction::Unchanged,
            },
            old_sha256: c.old.as_ref().map(|m| m.sha256.as_str()),
            new_sha256: c.new.as_ref().map(|m| m.sha256.as_str()),
            old_size: c.old.as_ref().map(|m| m.size),
            new_size: c.new.as_ref().map(|m| m.size),
        })
        .collect();
    let config = spec
        .config
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    (changes, config)
}

fn to_event<'a>(
    ev: &HookEvent<'a>,
    changes: &'a [v1::FileChange<'a>],
    config: &'a [(&'a str, &'a str)],
) -> v1::Event<'a> {
    let (phase, step) = match ev.hook.split_once('-') {
        Some(("before", s)) => (v1::Phase::Before, s),
        Some(("after", s)) => (v1::Phase::After, s),
        Some(("release", "start")) => (v1::Phase::Before, "release"),
        _ => (v1::Phase::After, "release"),
    };
    v1::Event {
        hook: ev.hook,
        step,
        phase,
        release_id: ev.release_id,
        app: ev.app,
        host: ev.host,
        changes,
        dry_run: ev.dry_run,
        error: ev.error,
        outcome: ev.outcome,
        config,
    }
}

/// Where a release's plugin state is persisted.
fn state_file(state_dir: &Path, release: &str) -> PathBuf {
    state_dir
        .join("plugin-state")
        .join(format!("{release}.json"))
}

impl State {
    /// Points a fresh instance at the hook call it is about to serve.
    fn begin(&mut self, hook: &str, release: &str, state_dir: &Path, timeout: Duration) {
        self.hook = hook.to_string();
        self.release = release.to_string();
        self.state_file = (!release.is_empty()).then(|| state_file(state_dir, release));
        self.deadline = Instant::now() + timeout;
    }

    fn deny(&mut self, what: String) -> String {
        let msg = format!("{what} is not granted to plugin `{}`", self.plugin);
        tracing::warn!(plugin = %self.plugin, hook = %self.hook, "denied: {what}");
        eprintln!(
            "{} plugin {} ({}): denied {what}",
            console::style("runner: warning:").yellow().bold(),
            self.plugin,
            self.hook
        );
        msg
    }

    fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn exec_allowed(&self, program: &str) -> bool {
        self.allow.exec.iter().any(|g| g == program)
    }

    fn http_allowed(&self, host: &str, port: Option<u16>) -> bool {
        self.allow
            .http
            .iter()
            .any(|g| g == host || port.is_some_and(|p| *g == format!("{host}:{p}")))
    }
}

impl v1::runner::plugin::types::Host for State {}

impl v1::runner::plugin::host::Host for State {
    async fn log(&mut self, level: v1::Level, message: String) {
        let message: String = message.chars().take(4096).collect();
        match level {
            v1::Level::Error => {
                tracing::error!(plugin = %self.plugin, hook = %self.hook, "{message}")
            }
            v1::Level::Warn => {
                tracing::warn!(plugin = %self.plugin, hook = %self.hook, "{message}")
            }
            v1::Level::Info => {
                tracing::info!(plugin = %self.plugin, hook = %self.hook, "{message}")
            }
            _ => {}
        }
        if self.logs.len() < 200 {
            self.logs.push((level, message));
        }
    }

    async fn exec(
        &mut self,
        program: String,
        args: Vec<String>,
    ) -> std::result::Result<v1::Output, String> {
        if !self.exec_allowed(&program) {
            return Err(self.deny(format!("exec of `{program}`")));
        }
        let child = tokio::process::Command::new(&program)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        match tokio::time::timeout(self.remaining(), child).await {
            Err(_) => Err(format!(
                "`{program}` did not finish within the hook's timeout"
            )),
            Ok(Err(e)) => Err(format!("cannot run `{program}`: {e}")),
            Ok(Ok(out)) => Ok(v1::Output {
                status: out.status.code().unwrap_or(-1),
                stdout: out.stdout,
                stderr: out.stderr,
            }),
        }
    }

    async fn http(&mut self, req: v1::Request) -> std::result::Result<v1::Response, String> {
        let uri: ureq::http::Uri = req
            .url
            .parse()
            .map_err(|e| format!("bad url `{}`: {e}", req.url))?;
        let host = uri.host().unwrap_or_default().to_string();
        if !self.http_allowed(&host, uri.port_u16()) {
            return Err(self.deny(format!("http to `{host}`")));
        }
        let timeout = self.remaining();
        let call = tokio::task::spawn_blocking(move || http_call(req, timeout));
        match call.await {
            Ok(r) => r,
            Err(e) => Err(format!("http call failed: {e}")),
        }
    }

    async fn state_get(&mut self, key: String) -> Option<String> {
        let kv = self.kv.lock().unwrap_or_else(|e| e.into_inner());
        kv.get(&format!("{}\u{0}{}", self.release, self.plugin))
            .and_then(|m| m.get(&key))
            .cloned()
    }

    async fn state_set(&mut self, key: String, value: String) {
        let mut kv = self.kv.lock().unwrap_or_else(|e| e.into_inner());
        kv.entry(format!("{}\u{0}{}", self.release, self.plugin))
            .or_default()
            .insert(key, value);
        if let Some(path) = &self.state_file {
            let prefix = format!("{}\u{0}", self.release);
            let mine: BTreeMap<&String, &BTreeMap<String, String>> =
                kv.iter().filter(|(k, _)| k.starts_with(&prefix)).collect();
            if let Ok(body) = serde_json::to_vec(&mine)
                && let Err(e) = write_durably(path, &body)
            {
                tracing::warn!("cannot persist plugin state: {e}");
            }
        }
    }

    async fn sleep(&mut self, ms: u32) {
        let d = Duration::from_millis(ms as u64).min(self.remaining());
        tokio::time::sleep(d).await;
    }
}

fn http_call(req: v1::Request, timeout: Duration) -> std::result::Result<v1::Response, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut b = ureq::http::Request::builder()
        .method(req.method.as_str())
        .uri(&req.url);
    for (k, v) in &req.headers {
        b = b.header(k, v);
    }
    let request = b.body(req.body).map_err(|e| format!("bad request: {e}"))?;
    let mut resp = agent.run(request).map_err(|e| format!("{e}"))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = resp
        .body_mut()
        .with_config()
        .limit(4 << 20)
        .read_to_vec()
        .map_err(|e| format!("reading the response: {e}"))?;
    Ok(v1::Response {
        status,
        headers,
        body,
    })
}
