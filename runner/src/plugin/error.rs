//! Why loading or calling a plugin failed (`PluginError`), and why a host function refused a
//! plugin's request (`HostCallError`), each with its typed source.
//!
//! Each message names its cause as well, in runner's words: runner's own errors take the cause
//! as text (`Error::PluginLoad`, `Error::Plugin`), and the guest gets a host function's error as
//! the string its WIT signature promises.

use std::path::PathBuf;
use std::time::Duration;

use super::wit::WIT_VERSIONS;

/// A cause inside the plugin host; the host turns it into runner's error, naming plugin and hook.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("cannot start the wasm engine: {0}")]
    Engine(#[source] wasmtime::Error),
    #[error("cannot start the epoch thread: {0}")]
    EpochThread(#[source] std::io::Error),
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot link the plugin host imports: {0:#}")]
    Link(#[source] wasmtime::Error),
    #[error("cannot start the plugin prep thread: {0}")]
    PrepThread(#[source] std::io::Error),

    #[error("cannot read it: {0}")]
    Read(#[source] std::io::Error),
    #[error(
        "a core WASM module, not a component: make it one (`wasm-tools component new`, or build with a component toolchain: cargo for wasm32-wasip2, componentize-py, jco)"
    )]
    CoreModule,
    #[error("not a valid WASM component: {}", first_line(.0))]
    NotComponent(#[source] wasmtime::Error),
    #[error(
        "it needs imports runner does not offer ({}) — is it built against runner:plugin@{}?",
        first_line(.0),
        WIT_VERSIONS.join(" or ")
    )]
    MissingImports(#[source] wasmtime::Error),
    #[error(
        "it does not export the runner:plugin@{version} world ({}); built against: {}",
        first_line(.source),
        .built_against.as_deref().unwrap_or("no runner:plugin version")
    )]
    WrongWorld {
        version: &'static str,
        built_against: Option<String>,
        source: wasmtime::Error,
    },
    #[error("it asks for an unknown hook `{0}`")]
    UnknownHook(String),
    #[error(
        "`{hook}` is a hook of runner:plugin@{}, and it is built against {wit}: rebuild it against wit/{} to be called there",
        .hook.since(),
        .hook.since()
    )]
    HookTooNew {
        hook: crate::hook::Hook,
        wit: &'static str,
    },

    #[error("granted dir {} is not UTF-8", .0.display())]
    GrantedDirNotUtf8(PathBuf),
    #[error("cannot open granted dir {}: {source}", .dir.display())]
    GrantedDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open granted dir {}: {source}", .dir.display())]
    GrantedDirOpen {
        dir: PathBuf,
        source: wasmtime::Error,
    },

    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("exceeded its memory limit of {} MiB", .max >> 20)]
    MemoryLimit { max: usize },
    #[error("no free instance slot: {} (too many plugin calls at once)", first_line(.0))]
    NoFreeSlot(#[source] wasmtime::Error),
    #[error("trapped: {0}")]
    Trap(#[source] wasmtime::Trap),
    /// Any other failure of a call into the plugin: wasmtime's first line says it.
    #[error("{}", first_line(.0))]
    Wasm(#[source] wasmtime::Error),

    /// A failed call, with the last lines the plugin wrote before it failed.
    #[error("{source}; its output ends:\n    {tail}")]
    Output {
        source: Box<PluginError>,
        tail: String,
    },
}

impl PluginError {
    /// Attaches the tail of the plugin's output, if it wrote any.
    pub(super) fn with_output(self, output: &str) -> PluginError {
        if output.is_empty() {
            return self;
        }
        let tail: Vec<&str> = output.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        PluginError::Output {
            source: Box::new(self),
            tail: tail.join("\n    "),
        }
    }
}

/// Why a host function refused or failed a plugin's request; the guest gets the message.
#[derive(Debug, thiserror::Error)]
pub enum HostCallError {
    #[error("{what} is not granted to plugin `{plugin}`")]
    Denied { what: String, plugin: String },
    #[error("`{0}` did not finish within the hook's timeout")]
    ExecTimeout(String),
    #[error("cannot run `{program}`: {source}")]
    Exec {
        program: String,
        source: std::io::Error,
    },
    #[error("bad url `{url}`: {source}")]
    BadUrl {
        url: String,
        source: ureq::http::uri::InvalidUri,
    },
    #[error("http call failed: {0}")]
    HttpTask(#[source] tokio::task::JoinError),
    #[error("bad request: {0}")]
    BadRequest(#[source] ureq::http::Error),
    #[error(transparent)]
    Http(ureq::Error),
    #[error("reading the response: {0}")]
    ReadResponse(#[source] ureq::Error),
}

/// The first line of an error: wasmtime's messages may go on with a wasm backtrace.
pub(super) fn first_line(e: &impl std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_their_words() {
        let timeout = PluginError::Timeout(Duration::from_millis(1500));
        assert_eq!(timeout.to_string(), "timed out after 1s 500ms");
        let memory = PluginError::MemoryLimit { max: 64 << 20 };
        assert_eq!(memory.to_string(), "exceeded its memory limit of 64 MiB");
        let imports = PluginError::MissingImports(wasmtime::Error::msg("no `x`\nmore"));
        assert_eq!(
            imports.to_string(),
            "it needs imports runner does not offer (no `x`) — is it built against runner:plugin@0.2.0 or 0.1.0?"
        );
        let world = PluginError::WrongWorld {
            version: "0.1.0",
            built_against: None,
            source: wasmtime::Error::msg("no export `handle`"),
        };
        assert_eq!(
            world.to_string(),
            "it does not export the runner:plugin@0.1.0 world (no export `handle`); built against: no runner:plugin version"
        );
        let link = PluginError::Link(wasmtime::Error::msg("inner").context("outer"));
        assert_eq!(
            link.to_string(),
            "cannot link the plugin host imports: outer: inner"
        );
    }

    #[test]
    fn the_output_tail_is_the_last_eight_lines() {
        let out: Vec<String> = (1..=10).map(|i| format!("line {i}")).collect();
        let e =
            PluginError::Trap(wasmtime::Trap::UnreachableCodeReached).with_output(&out.join("\n"));
        let text = e.to_string();
        assert!(text.starts_with("trapped: "), "{text}");
        assert!(text.ends_with("; its output ends:\n    line 3\n    line 4\n    line 5\n    line 6\n    line 7\n    line 8\n    line 9\n    line 10"), "{text}");
        let quiet = PluginError::Timeout(Duration::from_secs(1)).with_output("");
        assert_eq!(quiet.to_string(), "timed out after 1s");
    }
}
