//! nginx-drain: takes this host's server out of an nginx upstream around the restart.
//!
//! Open-source nginx has no runtime upstream API, so a drain is a file edit: add `down` to our
//! `server` line in an included upstream file, `nginx -t`, `nginx -s reload`, wait while the old
//! workers finish their requests. The edit and the config are plain Rust, tested on the host; the
//! component glue exists only on wasm32.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod config;
mod upstream;

#[cfg(target_arch = "wasm32")]
mod plugin;
