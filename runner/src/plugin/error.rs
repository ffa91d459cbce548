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
    #[error("{}", crate::t!("plugin-error-engine", error = .0.to_string()))]
    Engine(#[source] wasmtime::Error),
    #[error("{}", crate::t!("plugin-error-epoch-thread", error = .0.to_string()))]
    EpochThread(#[source] std::io::Error),
    #[error("{}", crate::t!("plugin-error-runtime", error = .0.to_string()))]
    Runtime(#[source] std::io::Error),
    #[error("{}", crate::t!("plugin-error-link", error = format!("{:#}", .0)))]
    Link(#[source] wasmtime::Error),
    #[error("{}", crate::t!("plugin-error-prep-thread", error = .0.to_string()))]
    PrepThread(#[source] std::io::Error),

    #[error("{}", crate::t!("plugin-error-read", error = .0.to_string()))]
    Read(#[source] std::io::Error),
    #[error("{}", crate::t!("plugin-error-core-module"))]
    CoreModule,
    #[error("{}", crate::t!("plugin-error-not-component", error = first_line(.0)))]
    NotComponent(#[source] wasmtime::Error),
    #[error(
        "{}",
        crate::t!(
            "plugin-error-missing-imports",
            error = first_line(.0),
            versions = any_of(&WIT_VERSIONS.join(" or "))
        )
    )]
    MissingImports(#[source] wasmtime::Error),
    #[error(
        "{}",
        crate::t!(
            "plugin-error-wrong-world",
            version = any_of(.version),
            error = first_line(.source),
            built = .built_against.clone().unwrap_or_else(|| crate::t!("plugin-no-wit-version"))
        )
    )]
    WrongWorld {
        version: &'static str,
        built_against: Option<String>,
        source: wasmtime::Error,
    },
    #[error("{}", crate::t!("plugin-error-unknown-hook", hook = .0))]
    UnknownHook(String),
    #[error(
        "{}",
        crate::t!(
            "plugin-error-hook-too-new",
            hook = .hook.name(),
            since = .hook.since(),
            wit = .wit
        )
    )]
    HookTooNew {
        hook: crate::hook::Hook,
        wit: &'static str,
    },

    #[error("{}", crate::t!("plugin-error-dir-not-utf8", dir = .0))]
    GrantedDirNotUtf8(PathBuf),
    #[error("{}", crate::t!("plugin-error-dir-open", dir = .dir, error = .source.to_string()))]
    GrantedDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", crate::t!("plugin-error-dir-open", dir = .dir, error = .source.to_string()))]
    GrantedDirOpen {
        dir: PathBuf,
        source: wasmtime::Error,
    },

    #[error(
        "{}",
        crate::t!("plugin-error-timeout", time = humantime::format_duration(*.0).to_string())
    )]
    Timeout(Duration),
    #[error("{}", crate::t!("plugin-error-memory", mib = .max >> 20))]
    MemoryLimit { max: usize },
    #[error("{}", crate::t!("plugin-error-no-slot", error = first_line(.0)))]
    NoFreeSlot(#[source] wasmtime::Error),
    #[error("{}", crate::t!("plugin-error-trap", trap = .0.to_string()))]
    Trap(#[source] wasmtime::Trap),
    /// Any other failure of a call into the plugin: wasmtime's first line says it.
    #[error("{}", first_line(.0))]
    Wasm(#[source] wasmtime::Error),

    /// A failed call, with the last lines the plugin wrote before it failed.
    #[error("{}\n    {tail}", crate::t!("plugin-error-output", error = .source.to_string()))]
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

/// Why a host function refused or failed a plugin's request; the guest gets the message, over
/// the WIT interface (`result<_, string>`): in English whatever the language, as any protocol
/// message.
#[derive(Debug, thiserror::Error)]
pub enum HostCallError {
    #[error(
        "{}",
        crate::text!("plugin-host-denied", what = .what, plugin = .plugin).english()
    )]
    Denied { what: String, plugin: String },
    #[error("{}", crate::text!("plugin-host-exec-timeout", program = .0).english())]
    ExecTimeout(String),
    #[error(
        "{}",
        crate::text!("plugin-host-exec", program = .program, error = .source.to_string()).english()
    )]
    Exec {
        program: String,
        source: std::io::Error,
    },
    #[error(
        "{}",
        crate::text!("plugin-host-bad-url", url = .url, error = .source.to_string()).english()
    )]
    BadUrl {
        url: String,
        source: ureq::http::uri::InvalidUri,
    },
    #[error("{}", crate::text!("plugin-host-http-task", error = .0.to_string()).english())]
    HttpTask(#[source] tokio::task::JoinError),
    #[error("{}", crate::text!("plugin-host-bad-request", error = .0.to_string()).english())]
    BadRequest(#[source] ureq::http::Error),
    #[error(transparent)]
    Http(ureq::Error),
    #[error("{}", crate::text!("plugin-host-read-response", error = .0.to_string()).english())]
    ReadResponse(#[source] ureq::Error),
}

/// Versions joined by " or " (as [`super::wit`] names several), with the "or" in the chosen
/// language.
fn any_of(versions: &str) -> String {
    versions.replace(" or ", &format!(" {} ", crate::t!("plugin-or")))
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
        crate::i18n::english(messages_in_english);
    }

    fn messages_in_english() {
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
        let hook = PluginError::HookTooNew {
            hook: crate::hook::Hook::BeforeBatch,
            wit: "0.1.0",
        };
        assert_eq!(
            hook.to_string(),
            "`before-batch` is a hook of runner:plugin@0.2.0, and it is built against 0.1.0: rebuild it against wit/0.2.0 to be called there"
        );
        let dir = PluginError::GrantedDirNotUtf8(PathBuf::from("/x"));
        assert_eq!(dir.to_string(), "granted dir /x is not UTF-8");
    }

    #[test]
    fn the_output_tail_is_the_last_eight_lines() {
        crate::i18n::english(output_tail_in_english);
    }

    fn output_tail_in_english() {
        let out: Vec<String> = (1..=10).map(|i| format!("line {i}")).collect();
        let e =
            PluginError::Trap(wasmtime::Trap::UnreachableCodeReached).with_output(&out.join("\n"));
        let text = e.to_string();
        assert!(text.starts_with("trapped: "), "{text}");
        assert!(text.ends_with("; its output ends:\n    line 3\n    line 4\n    line 5\n    line 6\n    line 7\n    line 8\n    line 9\n    line 10"), "{text}");
        let quiet = PluginError::Timeout(Duration::from_secs(1)).with_output("");
        assert_eq!(quiet.to_string(), "timed out after 1s");
    }

    /// Whatever the language: the guest gets it over the WIT interface.
    #[test]
    fn the_guest_gets_english() {
        let denied = HostCallError::Denied {
            what: "exec of `sh`".into(),
            plugin: "hostile".into(),
        };
        assert_eq!(
            denied.to_string(),
            "exec of `sh` is not granted to plugin `hostile`"
        );
    }
}
