//! The sandbox of one instance: its store data, a WASI context with only the granted dirs, the
//! memory limiter, the output capture, the grant checks, and what the host functions do, in
//! runner's terms (each `since_v*` delegates its `impl Host` here).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, ResourceLimiter, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::error::{HostCallError, PluginError};
use super::types::Level;
use crate::config;
use crate::fsutil::write_durably;
use crate::i18n::Text;

/// Bytes of a plugin's stdout+stderr kept (the tail) per call.
const CAPTURE: usize = 16 * 1024;

/// Plugin state of every release in this process, keyed by `release \0 plugin`.
pub(super) type Kv = Arc<Mutex<BTreeMap<String, BTreeMap<String, String>>>>;

/// A granted dir as it was opened: path, device, inode.
pub(super) type OpenedDir = (PathBuf, u64, u64);

/// Store data of one plugin instance.
pub(super) struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: Limiter,
    plugin: String,
    hook: String,
    release: String,
    allow: config::Allow,
    kv: Kv,
    state_file: Option<PathBuf>,
    deadline: Instant,
    logs: Vec<(Level, String)>,
    /// What one call may say, and what it said beyond that (counted, then told in one line).
    log_bytes: usize,
    logs_dropped: usize,
    denials: usize,
    state_refused: usize,
    state_dirty: bool,
    /// The host calls of this call, made or denied (`runner plugin call` shows them).
    calls: Vec<HostCall>,
    calls_dropped: usize,
}

/// One host call a plugin made, as `runner plugin call` lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HostCall {
    /// `exec`, `http`, `state-get`, `state-set`.
    pub call: &'static str,
    /// The program and its arguments, the method and URL, or the key.
    pub what: String,
    /// Refused: not granted (`denied`), or over the state caps.
    pub denied: bool,
    /// How it went: an exit status, an HTTP status, found or not, an error.
    pub result: String,
}

/// Host calls kept per call: a plugin calling in a loop is counted beyond them.
const CALLS_KEPT: usize = 200;

/// What one call of a plugin may put in front of the operator: log lines and their bytes,
/// denial warnings. Beyond that they are counted and told in one line.
pub(super) const LOG_LINES: usize = 200;
pub(super) const LOG_BYTES: usize = 64 << 10;
const LOG_LINE: usize = 4096;
const DENIALS_SHOWN: usize = 10;
/// Plugin state per (plugin, release): a few flags between hooks, not a database.
pub(super) const STATE_KEYS: usize = 256;
pub(super) const STATE_BYTES: usize = 1 << 20;

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
    /// The most linear memory granted (the initial size included).
    peak: usize,
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
        self.peak = self.peak.max(desired);
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
pub(super) struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub(super) fn tail(&self) -> String {
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

/// A store for `spec` with its WASI context (granted dirs opened now), and the granted dirs'
/// identities.
pub(super) fn new_store(
    engine: &Engine,
    kv: &Kv,
    spec: &config::Plugin,
    capture: &Capture,
    allow: &config::Allow,
) -> Result<(Store<State>, Vec<OpenedDir>), PluginError> {
    let (wasi, opened) = wasi_ctx(capture, allow)?;
    let state = State {
        wasi,
        table: ResourceTable::new(),
        limiter: Limiter {
            max: spec.memory as usize,
            hit: false,
            peak: 0,
        },
        plugin: spec.name.clone(),
        hook: "start-up".into(),
        release: String::new(),
        allow: allow.clone(),
        kv: kv.clone(),
        state_file: None,
        deadline: Instant::now() + spec.timeout,
        logs: Vec::new(),
        log_bytes: 0,
        logs_dropped: 0,
        denials: 0,
        state_refused: 0,
        state_dirty: false,
        calls: Vec::new(),
        calls_dropped: 0,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(1);
    store.epoch_deadline_async_yield_and_update(1);
    Ok((store, opened))
}

/// A WASI context with no ambient authority: output to `capture`, no network, and only the
/// granted dirs, opened now.
fn wasi_ctx(
    capture: &Capture,
    allow: &config::Allow,
) -> Result<(WasiCtx, Vec<OpenedDir>), PluginError> {
    use std::os::unix::fs::MetadataExt;
    let mut wasi = WasiCtxBuilder::new();
    wasi.stdout(capture.clone())
        .stderr(capture.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    // A dir granted both ways is opened once, read-write.
    let dirs: BTreeSet<&PathBuf> = allow.dirs.iter().chain(allow.rw.iter()).collect();
    let mut opened = Vec::new();
    for dir in dirs {
        let perms = if allow.rw.contains(dir) {
            FsPerms::ReadWrite
        } else {
            FsPerms::ReadOnly
        };
        let guest = dir
            .to_str()
            .ok_or_else(|| PluginError::GrantedDirNotUtf8(dir.clone()))?;
        // Looked at before it is opened: a swap in between shows as stale, never as fresh.
        let meta = std::fs::metadata(dir).map_err(|source| PluginError::GrantedDir {
            dir: dir.clone(),
            source,
        })?;
        wasi.preopened_dir(dir, guest, perms)
            .map_err(|source| PluginError::GrantedDirOpen {
                dir: dir.clone(),
                source,
            })?;
        opened.push((dir.clone(), meta.dev(), meta.ino()));
    }
    Ok((wasi.build(), opened))
}

/// Whether every granted dir is still the directory that was opened (a symlink swapped since,
/// e.g. a `current` link moved by the install, makes an instance made ahead stale).
pub(super) fn dirs_current(dirs: &[OpenedDir]) -> bool {
    use std::os::unix::fs::MetadataExt;
    dirs.iter().all(|(path, dev, ino)| {
        std::fs::metadata(path).is_ok_and(|m| m.dev() == *dev && m.ino() == *ino)
    })
}

/// Turns the outcome of a call into the plugin's answer or a cause naming what went wrong:
/// where wasmtime's errors become runner's.
pub(super) fn settle<T>(
    res: Result<wasmtime::Result<T>, tokio::time::error::Elapsed>,
    timeout: Duration,
    store: &Store<State>,
    capture: &Capture,
) -> Result<T, PluginError> {
    let cause = match res {
        Ok(Ok(v)) => return Ok(v),
        Err(_) => PluginError::Timeout(timeout),
        Ok(Err(e)) => {
            let limiter = &store.data().limiter;
            if limiter.hit {
                PluginError::MemoryLimit { max: limiter.max }
            } else if e
                .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
                .is_some()
            {
                PluginError::NoFreeSlot(e)
            } else if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
                PluginError::Trap(*trap)
            } else {
                PluginError::Wasm(e)
            }
        }
    };
    Err(cause.with_output(&capture.tail()))
}

/// Where a release's plugin state is persisted.
pub(super) fn state_file(state_dir: &Path, release: &str) -> PathBuf {
    state_dir
        .join("plugin-state")
        .join(format!("{release}.json"))
}

/// What `host.exec` returns.
pub(super) struct ExecOutput {
    pub(super) status: i32,
    pub(super) stdout: Vec<u8>,
    pub(super) stderr: Vec<u8>,
}

/// What `host.http` sends.
pub(super) struct HttpRequest {
    pub(super) method: String,
    pub(super) url: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

/// What `host.http` returns.
pub(super) struct HttpResponse {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl State {
    /// Points a fresh instance at the hook call it is about to serve.
    /// `state_dir`: where the plugin state it sets is persisted (None: kept in memory only).
    pub(super) fn begin(
        &mut self,
        hook: &str,
        release: &str,
        state_dir: Option<&Path>,
        timeout: Duration,
    ) {
        self.hook = hook.to_string();
        self.release = release.to_string();
        self.state_file = state_dir
            .filter(|_| !release.is_empty())
            .map(|d| state_file(d, release));
        self.deadline = Instant::now() + timeout;
    }

    /// The lines the plugin logged during its call, and one line for each kind of thing it
    /// said beyond its caps.
    pub(super) fn take_logs(&mut self) -> Vec<(Level, String)> {
        let mut logs = std::mem::take(&mut self.logs);
        if self.logs_dropped > 0 {
            logs.push((
                Level::Warn,
                crate::t!(
                    "plugin-logs-dropped",
                    n = self.logs_dropped,
                    lines = LOG_LINES,
                    kib = LOG_BYTES >> 10
                ),
            ));
        }
        if self.denials > DENIALS_SHOWN {
            logs.push((
                Level::Warn,
                crate::t!("plugin-denials-more", n = self.denials - DENIALS_SHOWN),
            ));
        }
        if self.state_refused > 0 {
            logs.push((
                Level::Warn,
                crate::t!(
                    "plugin-state-refused",
                    n = self.state_refused,
                    keys = STATE_KEYS,
                    kib = STATE_BYTES >> 10
                ),
            ));
        }
        logs
    }

    /// The host calls made so far, and how many more there were beyond `CALLS_KEPT`.
    pub(super) fn take_calls(&mut self) -> (Vec<HostCall>, usize) {
        (
            std::mem::take(&mut self.calls),
            std::mem::take(&mut self.calls_dropped),
        )
    }

    /// The most linear memory the instance had.
    pub(super) fn peak_memory(&self) -> usize {
        self.limiter.peak
    }

    fn record(&mut self, call: &'static str, what: String, denied: bool, result: String) {
        if self.calls.len() >= CALLS_KEPT {
            self.calls_dropped += 1;
            return;
        }
        self.calls.push(HostCall {
            call,
            what: truncate(what, LOG_LINE),
            denied,
            result: truncate(result, LOG_LINE),
        });
    }

    /// A refusal: shown to the operator in their language, told to the guest in English.
    fn deny(&mut self, what: Text) -> HostCallError {
        // Once on the terminal (the log line is for `-v`), and only the first few per call.
        self.denials += 1;
        tracing::debug!(plugin = %self.plugin, hook = %self.hook, "denied: {what}");
        if self.denials <= DENIALS_SHOWN {
            eprintln!(
                "{} {}",
                console::style(crate::t!("plugin-warning")).yellow().bold(),
                crate::t!(
                    "plugin-denied",
                    plugin = &self.plugin,
                    hook = &self.hook,
                    what = what.to_string()
                )
            );
        }
        HostCallError::Denied {
            what: what.english(),
            plugin: self.plugin.clone(),
        }
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

    /// `host.log`: a line in runner's log, tagged with plugin and hook; kept to show after the
    /// call.
    pub(super) fn log(&mut self, level: Level, message: String) {
        let message = truncate(message, LOG_LINE);
        if self.logs.len() >= LOG_LINES || self.log_bytes + message.len() > LOG_BYTES {
            self.logs_dropped += 1;
            return;
        }
        self.log_bytes += message.len();
        match level {
            // Shown once, after the call, by the UI; the log has it for `-v`.
            Level::Error | Level::Warn | Level::Info => {
                tracing::debug!(plugin = %self.plugin, hook = %self.hook, "{message}")
            }
            _ => {}
        }
        self.logs.push((level, message));
    }

    /// `host.exec`: a granted program, no shell, within the hook's timeout.
    pub(super) async fn exec(
        &mut self,
        program: String,
        args: Vec<String>,
    ) -> Result<ExecOutput, HostCallError> {
        let what = std::iter::once(&program)
            .chain(&args)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        if !self.exec_allowed(&program) {
            let e = self.deny(crate::text!("plugin-denied-exec", program = &program));
            self.record("exec", what, true, e.to_string());
            return Err(e);
        }
        let child = tokio::process::Command::new(&program)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        let out = match tokio::time::timeout(self.remaining(), child).await {
            Err(_) => Err(HostCallError::ExecTimeout(program)),
            Ok(Err(source)) => Err(HostCallError::Exec { program, source }),
            Ok(Ok(out)) => Ok(ExecOutput {
                status: out.status.code().unwrap_or(-1),
                stdout: out.stdout,
                stderr: out.stderr,
            }),
        };
        let result = match &out {
            // en: as `runner plugin call` lists a host call's result
            Ok(o) => format!("exit {}", o.status),
            Err(e) => e.to_string(),
        };
        self.record("exec", what, false, result);
        out
    }

    /// `host.http`: a request to a granted host, within the hook's timeout.
    pub(super) async fn http(&mut self, req: HttpRequest) -> Result<HttpResponse, HostCallError> {
        let uri: ureq::http::Uri = req.url.parse().map_err(|source| HostCallError::BadUrl {
            url: req.url.clone(),
            source,
        })?;
        let host = uri.host().unwrap_or_default().to_string();
        let what = format!("{} {}", req.method, req.url);
        if !self.http_allowed(&host, uri.port_u16()) {
            let e = self.deny(crate::text!("plugin-denied-http", host = &host));
            self.record("http", what, true, e.to_string());
            return Err(e);
        }
        let timeout = self.remaining();
        let call = tokio::task::spawn_blocking(move || http_call(req, timeout));
        let res = match call.await {
            Ok(r) => r,
            Err(e) => Err(HostCallError::HttpTask(e)),
        };
        let result = match &res {
            // en: as `runner plugin call` lists a host call's result
            Ok(r) => format!("HTTP {}", r.status),
            Err(e) => e.to_string(),
        };
        self.record("http", what, false, result);
        res
    }

    /// `host.state-get`: state of this plugin in this release.
    pub(super) fn state_get(&mut self, key: String) -> Option<String> {
        let kv = self.kv.lock().unwrap_or_else(|e| e.into_inner());
        let v = kv
            .get(&format!("{}\u{0}{}", self.release, self.plugin))
            .and_then(|m| m.get(&key))
            .cloned();
        drop(kv);
        // en: as `runner plugin call` lists a host call's result
        let result = if v.is_some() { "found" } else { "none" };
        self.record("state-get", key, false, result.into());
        v
    }

    /// `host.state-set`: kept for the release's later hooks, and persisted with the release's
    /// other plugin state (a resumed release keeps it).
    /// Within the caps; persisted once at the end of the call (`flush_state`), not per set.
    pub(super) fn state_set(&mut self, key: String, value: String) {
        let mut kv = self.kv.lock().unwrap_or_else(|e| e.into_inner());
        let mine = kv
            .entry(format!("{}\u{0}{}", self.release, self.plugin))
            .or_default();
        let size: usize = mine.iter().map(|(k, v)| k.len() + v.len()).sum();
        let replaced = mine.get(&key).map_or(0, |v| key.len() + v.len());
        let keys = mine.len() + usize::from(!mine.contains_key(&key));
        if keys > STATE_KEYS || size - replaced + key.len() + value.len() > STATE_BYTES {
            drop(kv);
            self.state_refused += 1;
            // en: as `runner plugin call` lists a host call's result
            self.record("state-set", key, true, "over the state caps".into());
            return;
        }
        mine.insert(key.clone(), value);
        drop(kv);
        self.state_dirty = true;
        // en: as `runner plugin call` lists a host call's result
        self.record("state-set", key, false, "set".into());
    }

    /// Persists this release's plugin state if the call changed it (a resumed release keeps it).
    pub(super) fn flush_state(&mut self) {
        if !std::mem::take(&mut self.state_dirty) {
            return;
        }
        let Some(path) = &self.state_file else { return };
        let kv = self.kv.lock().unwrap_or_else(|e| e.into_inner());
        let prefix = format!("{}\u{0}", self.release);
        let mine: BTreeMap<&String, &BTreeMap<String, String>> =
            kv.iter().filter(|(k, _)| k.starts_with(&prefix)).collect();
        if let Ok(body) = serde_json::to_vec(&mine)
            && let Err(e) = write_durably(path, &body)
        {
            tracing::warn!(
                "{}",
                crate::t!("plugin-state-not-persisted", error = e.to_string())
            );
        }
    }

    /// `host.sleep`: never past the hook's timeout.
    pub(super) async fn sleep(&mut self, ms: u32) {
        let d = Duration::from_millis(ms as u64).min(self.remaining());
        tokio::time::sleep(d).await;
    }
}

fn http_call(req: HttpRequest, timeout: Duration) -> Result<HttpResponse, HostCallError> {
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
    let request = b.body(req.body).map_err(HostCallError::BadRequest)?;
    let mut resp = agent.run(request).map_err(HostCallError::Http)?;
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
        .map_err(HostCallError::ReadResponse)?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// `s` cut to at most `max` bytes (on a char boundary), with a marker saying how much was cut
/// (in the chosen language: what is recorded is cut inside [`crate::i18n::english`]).
pub(crate) fn truncate(mut s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let total = s.len();
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s.push_str(&crate::t!("plugin-cut", n = total - cut));
    s
}
