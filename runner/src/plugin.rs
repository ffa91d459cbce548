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
//!
//! Layers: `engine` (the wasmtime engine, its epoch ticker, the compile cache), `pool` (instances
//! made ahead), `sandbox` (store data, grants, the host functions in runner's terms), `host`
//! (`PluginHost`); per WIT version a `since_v*` (bindings, linker, `impl Host`), behind `wit`'s
//! version enums; `types` and `error` are runner's side of it all.

mod engine;
mod error;
mod glue;
mod host;
mod pool;
mod sandbox;
mod since_v0_1;
mod since_v0_2;
mod types;
pub mod wit;

pub use error::PluginError;
pub use host::{Loaded, PluginHost, Trial, Verdict};
pub use sandbox::HostCall;
pub use types::{Batch, Decision, HookEvent, Level, Needs, PluginInfo};
pub use wit::WIT_VERSIONS;
