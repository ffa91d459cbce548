//! The error type every command returns, the exit code each kind maps to, and the help text
//! an operator can act on — kept beside each other so that they never drift apart.

use std::path::PathBuf;

/// A process exit code of the contract: 0 done, 1 failed, 2 bad usage or config, 3 locked,
/// 4 runner itself could not start (an internal error: the wasm engine, a thread).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExitCode(pub u8);

impl ExitCode {
    pub const DONE: ExitCode = ExitCode(0);
    pub const FAILED: ExitCode = ExitCode(1);
    pub const USAGE: ExitCode = ExitCode(2);
    pub const LOCKED: ExitCode = ExitCode(3);
    pub const INTERNAL: ExitCode = ExitCode(4);

    /// `FAILED` when `failed`, else `DONE`.
    pub fn failed_if(failed: bool) -> ExitCode {
        if failed {
            ExitCode::FAILED
        } else {
            ExitCode::DONE
        }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c.0)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Two configured dirs that overlap: `a` is, is inside, or contains `b`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {a} ({}) {how} {b} ({})", .file.display(), .a_path.display(), .b_path.display())]
pub struct Overlap {
    pub file: PathBuf,
    pub a: String,
    pub a_path: PathBuf,
    pub how: crate::i18n::Text,
    pub b: String,
    pub b_path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{file}:{line}:{column}: key `{key}`: {message}")]
    Config {
        file: PathBuf,
        line: usize,
        column: usize,
        key: String,
        message: Box<crate::i18n::Text>,
    },

    #[error("{0}")]
    Overlap(Box<Overlap>),

    #[error("{app}: {what} {} does not exist", .path.display())]
    MissingDir {
        app: String,
        what: crate::i18n::Text,
        path: PathBuf,
        help: Box<crate::i18n::Text>,
    },

    #[error("{key}: {message}")]
    Preflight {
        app: String,
        key: String,
        message: crate::i18n::Text,
    },

    #[error("{}", crate::t!("error-config-is-dir", path = .path))]
    ConfigIsDir { path: PathBuf },

    #[error("{}", crate::t!("error-config-not-utf8", path = .path, line = .line, column = .column))]
    ConfigNotUtf8 {
        path: PathBuf,
        line: usize,
        column: usize,
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

    #[error("{app}: staged {}: {reason}; nothing was touched", .path.display())]
    Plan {
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

    #[error("sync to {target}: {why}; nothing was deleted there")]
    WouldEmpty { target: String, why: String },

    #[error("sync to {target}: {message}")]
    Sync { target: String, message: String },

    #[error("agent: {0}")]
    Agent(#[source] Box<dyn std::error::Error + Send + Sync>),

    #[error("{target}: no runner agent there (`{agent}`: {why})")]
    AgentMissing {
        target: String,
        agent: String,
        why: String,
    },

    #[error("{target}: the runner agent there speaks another protocol: {message}")]
    AgentVersion { target: String, message: String },

    #[error("the operator answered no; nothing was touched")]
    Cancelled,

    #[error("prompt: {0}")]
    Prompt(#[from] dialoguer::Error),

    /// runner itself could not start a part it needs (not the operator's doing).
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The process exit code for this error.
    /// The error's kind as `--json` names it: stable, kebab-case, one per variant.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Config { .. } => "config",
            Error::Overlap(_) => "overlap",
            Error::MissingDir { .. } => "missing-dir",
            Error::Preflight { .. } => "preflight",
            Error::ConfigIsDir { .. } => "config-is-dir",
            Error::ConfigNotUtf8 { .. } => "config-not-utf8",
            Error::ConfigRead { .. } => "config-read",
            Error::NoConfig { .. } => "no-config",
            Error::Usage(_) => "usage",
            Error::UnknownApp { .. } => "unknown-app",
            Error::Locked { .. } => "locked",
            Error::BadJar { .. } => "bad-jar",
            Error::Plan { .. } => "plan",
            Error::Io { .. } => "io",
            Error::Changed { .. } => "changed",
            Error::Step { .. } => "step",
            Error::Interrupted { .. } => "interrupted",
            Error::Release { .. } => "release",
            Error::PluginLoad { .. } => "plugin-load",
            Error::Plugin { .. } => "plugin",
            Error::WouldEmpty { .. } => "would-empty",
            Error::Sync { .. } => "sync",
            Error::Agent(_) => "agent",
            Error::AgentMissing { .. } => "agent-missing",
            Error::AgentVersion { .. } => "agent-version",
            Error::Cancelled => "cancelled",
            Error::Prompt(_) => "prompt",
            Error::Internal(_) => "internal",
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Config { .. }
            | Error::ConfigRead { .. }
            | Error::ConfigIsDir { .. }
            | Error::ConfigNotUtf8 { .. }
            | Error::NoConfig { .. }
            | Error::Usage(_)
            | Error::UnknownApp { .. }
            | Error::PluginLoad { .. }
            | Error::Cancelled
            | Error::Prompt(_)
            | Error::Overlap(_)
            | Error::MissingDir { .. }
            | Error::Preflight { .. } => ExitCode::USAGE,
            Error::Locked { .. } => ExitCode::LOCKED,
            Error::Internal(_) => ExitCode::INTERNAL,
            Error::BadJar { .. }
            | Error::Plan { .. }
            | Error::Io { .. }
            | Error::Changed { .. }
            | Error::Step { .. }
            | Error::Interrupted { .. }
            | Error::Release { .. }
            | Error::Plugin { .. }
            | Error::Sync { .. }
            | Error::WouldEmpty { .. }
            | Error::Agent(_)
            | Error::AgentMissing { .. }
            | Error::AgentVersion { .. } => ExitCode::FAILED,
        }
    }

    /// What the operator can do about it, when the message alone does not say.
    pub fn help(&self) -> Option<std::borrow::Cow<'static, str>> {
        let help = match self {
            Error::Config { .. } => {
                Some("fix that key in the config; `runner config check` validates it")
            }
            Error::ConfigRead { .. } => Some("check the path and that this user may read it"),
            Error::ConfigIsDir { .. } => {
                Some("pass the runner.toml inside it: -c <dir>/runner.toml")
            }
            Error::ConfigNotUtf8 { .. } => Some(
                "save it as UTF-8 (a GBK file converts with `iconv -f GBK -t UTF-8 runner.toml`)",
            ),
            Error::Overlap(_) => Some(
                "give each its own dir: a release reads the staging dir, writes the deploy dir, \
                 and must never write into its own backups or state",
            ),
            Error::MissingDir { help, .. } => return Some(help.to_string().into()),
            Error::Preflight { .. } => {
                Some("fix that key in the config; nothing was touched (`runner config check`)")
            }
            Error::UnknownApp { .. } => {
                Some("app names are the [apps.<name>] tables of the config")
            }
            Error::BadJar { .. } => Some(
                "a jar still being uploaded looks like this: wait for the upload, then release",
            ),
            Error::AgentMissing { .. } | Error::AgentVersion { .. } => Some(
                "install this runner version there (the row's `agent` or [fleet] `agent` names \
                 its path), or let a fleet release copy it: --install-agent",
            ),
            Error::WouldEmpty { .. } => Some(
                "mount or fill the source; if the target really is to be emptied, pass \
                 --allow-delete-all",
            ),
            Error::PluginLoad { .. } => {
                Some("`runner plugin check <wasm>` shows what the component declares")
            }
            Error::Internal(_) => Some(
                "runner could not start one of its own parts; this machine may be out of \
                 threads or memory (run with RUNNER_LOG=debug and report it if not)",
            ),
            _ => None,
        };
        help.map(std::borrow::Cow::Borrowed)
    }

    /// An internal start-up failure of `what`.
    pub fn internal(what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        move |e| Error::Internal(format!("cannot start {what}: {e}"))
    }

    pub fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_meaning() {
        assert_eq!(Error::Usage("x".into()).exit_code(), ExitCode::USAGE);
        assert_eq!(Error::Cancelled.exit_code(), ExitCode::USAGE);
        assert_eq!(
            Error::Locked {
                app: "a".into(),
                pid: 1,
                user: "u".into(),
                since: "s".into()
            }
            .exit_code(),
            ExitCode::LOCKED
        );
        // runner's own start-up failing is not the operator's bad usage.
        let internal = Error::Internal("cannot start the wasm engine: no memory".into());
        assert_eq!(internal.exit_code(), ExitCode::INTERNAL);
        assert!(internal.help().is_some());
        assert_eq!(
            Error::Release {
                app: "a".into(),
                message: "m".into()
            }
            .exit_code(),
            ExitCode::FAILED
        );
        assert_eq!(
            std::process::ExitCode::from(ExitCode::INTERNAL),
            std::process::ExitCode::from(4)
        );
    }
}
