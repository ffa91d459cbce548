//! The wasmtime engine: its instance pool, the epoch ticker that enforces timeouts, the async
//! runtime calls run on, and the compile cache.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::Engine;
use wasmtime::component::Component;

use super::error::PluginError;
use crate::fsutil::write_durably;

const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The engine, its instance pool sized for `plugins` plugins called by up to `concurrent`
/// threads at once: each plugin's spare, its running instances and one being retired.
pub(super) fn engine(plugins: usize, concurrent: usize) -> Result<Engine, PluginError> {
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
    Engine::new(&c).map_err(PluginError::Engine)
}

/// Advances the engine's epoch every `EPOCH_TICK` until dropped. A store's deadline counts
/// these ticks, which is what makes even a busy loop yield to its call's timeout.
pub(super) struct Epoch(Arc<AtomicBool>);

impl Epoch {
    pub(super) fn start(engine: &Engine) -> Result<Epoch, PluginError> {
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
            .map_err(PluginError::EpochThread)?;
        Ok(Epoch(stop))
    }
}

impl Drop for Epoch {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A runtime for the async calls into plugins, on the thread that builds it.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, PluginError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PluginError::Runtime)
}

/// The compiled component, from `<cache>/<sha256>-<engine>.cwasm` when present (the cache is
/// `state_dir/plugins`, or `RUNNER_PLUGIN_CACHE`); whether it came from there.
pub(super) fn compile(
    engine: &Engine,
    state_dir: &Path,
    bytes: &[u8],
    sha256: &str,
) -> Result<(Component, bool), PluginError> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    let dir = cache_dir(state_dir);
    let path = dir.join(format!("{}-{:016x}.cwasm", &sha256[..16], h.finish()));
    if path.is_file() {
        match deserialize(engine, &path) {
            Ok(c) => return Ok((c, true)),
            Err(e) => {
                tracing::warn!(
                    path = %path.display(),
                    "{}",
                    crate::t!("plugin-cache-unusable", error = e.to_string())
                )
            }
        }
    }
    // A core module (version 1) is not a component (version 0x0d, layer 1).
    if bytes.starts_with(b"\0asm\x01\0\0\0") {
        return Err(PluginError::CoreModule);
    }
    let component = Component::new(engine, bytes).map_err(PluginError::NotComponent)?;
    match component.serialize() {
        Ok(b) => {
            if let Err(e) = write_durably(&path, &b) {
                tracing::warn!("{}", crate::t!("plugin-cache-write", error = e.to_string()));
            }
        }
        Err(e) => tracing::warn!(
            "{}",
            crate::t!("plugin-cache-serialize", error = e.to_string())
        ),
    }
    Ok((component, false))
}

/// `RUNNER_PLUGIN_CACHE` when it is set and safe to load native code from, else
/// `state_dir/plugins`.
fn cache_dir(state_dir: &Path) -> PathBuf {
    let own = state_dir.join("plugins");
    let Some(dir) = std::env::var_os("RUNNER_PLUGIN_CACHE")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
    else {
        return own;
    };
    match unsafe_to_load_from(&dir) {
        None => dir,
        Some(why) => {
            tracing::warn!(
                "{}",
                crate::t!("plugin-cache-env-unsafe", dir = &dir, why = why, own = &own)
            );
            own
        }
    }
}

/// Why compiled code in `dir` cannot be trusted, if it cannot. What is deserialized from there
/// runs as native code unchecked, so only the running user may be able to have put it there:
/// the dir must be theirs and not writable by group or others.
fn unsafe_to_load_from(dir: &Path) -> Option<String> {
    use rustix::fs::Mode;
    // Made now if missing, so that it is checked as it is, not as someone may make it later.
    if let Err(e) = std::fs::create_dir_all(dir) {
        return Some(crate::t!("plugin-cache-create", error = e.to_string()));
    }
    let st = match rustix::fs::stat(dir) {
        Ok(st) => st,
        Err(e) => return Some(crate::t!("plugin-cache-stat", error = e.to_string())),
    };
    let me = rustix::process::geteuid().as_raw();
    if st.st_uid != me {
        return Some(crate::t!(
            "plugin-cache-owner",
            owner = st.st_uid.to_string(),
            me = me.to_string()
        ));
    }
    if Mode::from_raw_mode(st.st_mode).intersects(Mode::WGRP | Mode::WOTH) {
        return Some(crate::t!(
            "plugin-cache-writable",
            mode = format!("{:o}", st.st_mode & 0o7777)
        ));
    }
    None
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file is runner's own compile cache: written by `Component::serialize` under
    // `state_dir` (or in a `RUNNER_PLUGIN_CACHE` that `cache_dir` found only this user can
    // write), named by the wasm's sha256 and this engine's compatibility hash.
    unsafe { Component::deserialize_file(engine, path) }
}

/// The `runner:plugin` version a component imports, e.g. `0.1.0`.
pub(super) fn wit_version(engine: &Engine, c: &Component) -> Option<String> {
    c.component_type()
        .imports(engine)
        // en: the WIT interface name a component imports
        .find_map(|(name, _)| name.strip_prefix("runner:plugin/host@").map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_cache_dir_writable_by_others_is_not_loaded_from() {
        let dir = std::env::temp_dir().join(format!("runner-cache-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(unsafe_to_load_from(&dir), None);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let why = crate::i18n::english(|| unsafe_to_load_from(&dir)).unwrap();
        assert!(why.contains("writable by group or others"), "{why}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
