//! The error type every command returns, and the exit code each kind maps to.

use std::path::PathBuf;

/// Exit codes of the contract: 0 done, 1 failed, 2 bad usage or config, 3 locked.
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_LOCKED: u8 = 3;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{file}:{line}:{column}: key `{key}`: {message}")]
    Config {
        file: PathBuf,
        line: usize,
        column: usize,
        key: String,
        message: String,
    },

    #[error("cannot read config {path}: {source}")]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("no config file found (tried {tried}); pass -c <path> or set RUNNER_CONFIG")]
    NoConfig { tried: String },

    #[error("{0}")]
    Usage(String),

    #[error("unknown app `{name}` (configured: {known})")]
    UnknownApp { name: String, known: String },

    #[error(
        "{app} is locked by pid {pid} ({user}, since {since}); wait for it to finish or stop that process"
    )]
    Locked {
        app: String,
        pid: u32,
        user: String,
        since: String,
    },

    #[error("{app}: staged jar {path} is not a valid zip ({reason}); nothing was touched")]
    BadJar {
        app: String,
        path: PathBuf,
        reason: String,
    },

    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path}: content is {actual}, expected {expected}")]
    Changed {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    #[error("{app}: {step} failed: {message}")]
    Step {
        app: String,
        step: &'static str,
        message: String,
    },

    #[error(
        "{app}: release {release} was interrupted; run `runner release {app}` to finish it or `runner rollback {app}` to undo it"
    )]
    Interrupted { app: String, release: String },

    #[error("{app}: {message}")]
    Release { app: String, message: String },

    #[error("plugin `{plugin}` ({path}): {cause}")]
    PluginLoad {
        plugin: String,
        path: PathBuf,
        cause: String,
    },

    #[error("plugin `{plugin}` failed in {hook}: {cause}")]
    Plugin {
        plugin: String,
        hook: String,
        cause: String,
    },

    #[error("sync to {target}: {message}")]
    Sync { target: String, message: String },

    #[error("{0} of the releases failed")]
    SomeFailed(usize),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config { .. }
            | Error::ConfigRead { .. }
            | Error::NoConfig { .. }
            | Error::Usage(_)
            | Error::UnknownApp { .. }
            | Error::PluginLoad { .. } => EXIT_USAGE,
            Error::Locked { .. } => EXIT_LOCKED,
            _ => EXIT_FAILED,
        }
    }

    pub fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }
}
