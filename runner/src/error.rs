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
#[error("{}", self.shown())]
pub struct Overlap {
    pub file: PathBuf,
    pub a: String,
    pub a_path: PathBuf,
    /// `is`, `is inside` or `contains`.
    pub how: &'static str,
    pub b: String,
    pub b_path: PathBuf,
}

impl Overlap {
    /// The sentence for `how`, as `config/overlap.rs` names the relation (a whole sentence
    /// per relation in the catalogue: Chinese words them differently).
    fn shown(&self) -> String {
        let how = match self.how {
            "is" => "same",
            // en: a relation code of config/overlap.rs (which matches on it too)
            "is inside" => "inside",
            _ => "contains",
        };
        crate::t!(
            "error-overlap",
            file = &self.file,
            a = &self.a,
            a_path = &self.a_path,
            how = how,
            b = &self.b,
            b_path = &self.b_path
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", crate::t!("error-config", file = .file, line = .line, column = .column, key = .key, message = .message))]
    Config {
        file: PathBuf,
        line: usize,
        column: usize,
        key: String,
        message: Box<crate::i18n::Text>,
    },

    #[error("{0}")]
    Overlap(Box<Overlap>),

    /// `what` names the dir and `help` says what to do: the ids of their messages in
    /// `i18n/*/errors.ftl` (`error-what-…`, `error-help-…`), rendered when shown, so that
    /// `--json` has them in English.
    #[error("{}", crate::t!("error-missing-dir", app = .app, what = .what.to_string(), path = .path))]
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

    #[error("{}", crate::t!("error-config-read", path = .path, source = .source.to_string()))]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}", crate::t!("error-no-config", tried = .tried))]
    NoConfig { tried: String },

    #[error("{0}")]
    Usage(String),

    #[error("{}", crate::t!("error-unknown-app", name = .name, known = .known))]
    UnknownApp { name: String, known: String },

    #[error("{}", crate::t!("error-locked", app = .app, pid = .pid, user = .user, since = .since))]
    Locked {
        app: String,
        pid: u32,
        user: String,
        since: String,
    },

    #[error("{}", crate::t!("error-bad-jar", app = .app, path = .path, reason = .reason))]
    BadJar {
        app: String,
        path: PathBuf,
        reason: String,
    },

    #[error("{}", crate::t!("error-plan", app = .app, path = .path, reason = .reason))]
    Plan {
        app: String,
        path: PathBuf,
        reason: String,
    },

    /// `op` is what was being done, a verb of [`op_shown`] (`create`, `read`, …).
    #[error("{}", crate::t!("error-io", op = op_shown(.op), path = .path, source = .source.to_string()))]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}", crate::t!("error-changed", path = .path, actual = .actual, expected = .expected))]
    Changed {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    /// `step` is the step's name (`restart`, `verify`), shown in the chosen language.
    #[error("{}", crate::t!("error-step", app = .app, step = crate::report::step_name(.step), message = .message))]
    Step {
        app: String,
        step: &'static str,
        /// Rendered when shown: English in a record, the chosen language on screen.
        message: Box<crate::i18n::Text>,
    },

    #[error("{}", crate::t!("error-interrupted", app = .app, release = .release))]
    Interrupted { app: String, release: String },

    #[error("{app}: {message}")]
    Release {
        app: String,
        /// Rendered when shown: English in a record, the chosen language on screen.
        message: crate::i18n::Text,
    },

    #[error("{}", crate::t!("error-plugin-load", plugin = .plugin, path = .path, cause = .cause))]
    PluginLoad {
        plugin: String,
        path: PathBuf,
        cause: String,
    },

    #[error("{}", crate::t!("error-plugin", plugin = .plugin, hook = .hook, cause = .cause))]
    Plugin {
        plugin: String,
        hook: String,
        cause: String,
    },

    #[error("{}", crate::t!("error-would-empty", target = .target, why = .why))]
    WouldEmpty { target: String, why: String },

    #[error("{}", crate::t!("error-sync", target = .target, message = .message))]
    Sync { target: String, message: String },

    #[error("{}", crate::t!("error-agent", error = .0.to_string()))]
    Agent(#[source] Box<dyn std::error::Error + Send + Sync>),

    #[error("{}", crate::t!("error-agent-missing", target = .target, agent = .agent, why = .why))]
    AgentMissing {
        target: String,
        agent: String,
        why: String,
    },

    #[error("{}", crate::t!("error-agent-version", target = .target, message = .message))]
    AgentVersion { target: String, message: String },

    #[error("{}", crate::t!("error-cancelled"))]
    Cancelled,

    #[error("{}", crate::t!("error-prompt", error = .0.to_string()))]
    Prompt(#[from] dialoguer::Error),

    /// runner itself could not start a part it needs (not the operator's doing).
    #[error("{0}")]
    Internal(String),
}

/// An [`Error::Io`] op as a person reads it (an op not listed here shows as it is).
fn op_shown(op: &str) -> String {
    match op {
        "create" => crate::t!("error-op-create"),
        "open" => crate::t!("error-op-open"),
        "read" => crate::t!("error-op-read"),
        "write" => crate::t!("error-op-write"),
        "rename" => crate::t!("error-op-rename"),
        "remove" => crate::t!("error-op-remove"),
        "chmod" => crate::t!("error-op-chmod"),
        "chown" => crate::t!("error-op-chown"),
        // en: an op code callers pass to Error::io
        "set mtime" => crate::t!("error-op-set-mtime"),
        "fsync" => crate::t!("error-op-fsync"),
        "stat" => crate::t!("error-op-stat"),
        "walk" => crate::t!("error-op-walk"),
        "encode" => crate::t!("error-op-encode"),
        "parse" => crate::t!("error-op-parse"),
        // en: an op code callers pass to Error::io
        "parse journal" => crate::t!("error-op-parse-journal"),
        "lock" => crate::t!("error-op-lock"),
        "locate" => crate::t!("error-op-locate"),
        other => other.to_string(),
    }
}

/// A part of runner [`Error::internal`] names as a person reads it.
fn part_shown(what: &str) -> String {
    match what {
        // en: a name callers pass to Error::internal
        "the signal handler" => crate::t!("error-part-signal-handler"),
        // en: a name callers pass to Error::internal
        "the signal thread" => crate::t!("error-part-signal-thread"),
        // en: a name callers pass to Error::internal
        "runner (its own path)" => crate::t!("error-part-own-path"),
        other => other.to_string(),
    }
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
    pub fn help(&self) -> Option<String> {
        Some(match self {
            Error::Config { .. } => crate::t!("error-help-config"),
            Error::ConfigRead { .. } => crate::t!("error-help-config-read"),
            Error::ConfigIsDir { .. } => crate::t!("error-help-config-is-dir"),
            Error::ConfigNotUtf8 { .. } => crate::t!("error-help-config-not-utf8"),
            Error::Overlap(_) => crate::t!("error-help-overlap"),
            Error::MissingDir { help, .. } => help.to_string(),
            Error::Preflight { .. } => crate::t!("error-help-preflight"),
            Error::UnknownApp { .. } => crate::t!("error-help-unknown-app"),
            Error::BadJar { .. } => crate::t!("error-help-bad-jar"),
            Error::AgentMissing { .. } | Error::AgentVersion { .. } => {
                crate::t!("error-help-agent")
            }
            Error::WouldEmpty { .. } => crate::t!("error-help-would-empty"),
            Error::PluginLoad { .. } => crate::t!("error-help-plugin-load"),
            Error::Internal(_) => crate::t!("error-help-internal"),
            _ => return None,
        })
    }

    /// An internal start-up failure of `what` (a part of runner: `the signal handler`).
    pub fn internal(what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        move |e| {
            Error::Internal(crate::t!(
                "error-internal-start",
                what = part_shown(what),
                error = e.to_string()
            ))
        }
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

    /// The messages came from the catalogue: their English is what it was, byte for byte.
    #[test]
    fn english_is_unchanged() {
        let io = || std::io::Error::from(std::io::ErrorKind::NotFound);
        let s = |e: Error| crate::i18n::english(|| e.to_string());
        let overlap = |how| {
            Error::Overlap(Box::new(Overlap {
                file: "/r.toml".into(),
                a: "apps.a.staging".into(),
                a_path: "/s".into(),
                how,
                b: "apps.a.deploy".into(),
                b_path: "/d".into(),
            }))
        };
        let cases = [
            (
                Error::Config {
                    file: "/r.toml".into(),
                    line: 12,
                    column: 3,
                    key: "apps.a.deploy".into(),
                    message: Box::new(crate::i18n::Text::new(|| "m".into())),
                },
                "/r.toml:12:3: key `apps.a.deploy`: m",
            ),
            (
                overlap("is"),
                "/r.toml: apps.a.staging (/s) is apps.a.deploy (/d)",
            ),
            (
                overlap("is inside"),
                "/r.toml: apps.a.staging (/s) is inside apps.a.deploy (/d)",
            ),
            (
                overlap("contains"),
                "/r.toml: apps.a.staging (/s) contains apps.a.deploy (/d)",
            ),
            (
                Error::MissingDir {
                    app: "a".into(),
                    what: crate::text!("preflight-staging-dir"),
                    path: "/s".into(),
                    help: Box::new(crate::text!("preflight-staging-dir-help")),
                },
                "a: staging dir /s does not exist",
            ),
            (
                Error::ConfigRead {
                    path: "/r.toml".into(),
                    source: io(),
                },
                "cannot read config /r.toml: entity not found",
            ),
            (
                Error::NoConfig {
                    tried: "a, b".into(),
                },
                "no config file found (tried a, b); pass -c <path> or set RUNNER_CONFIG",
            ),
            (
                Error::UnknownApp {
                    name: "x".into(),
                    known: "a, b".into(),
                },
                "unknown app `x` (configured: a, b)",
            ),
            (
                Error::Locked {
                    app: "a".into(),
                    pid: 123456,
                    user: "ops".into(),
                    since: "2024-01-02 03:04:05".into(),
                },
                "a is locked by pid 123456 (ops, since 2024-01-02 03:04:05); wait for it to finish or stop that process",
            ),
            (
                Error::BadJar {
                    app: "a".into(),
                    path: "/s/x.jar".into(),
                    reason: "r".into(),
                },
                "a: staged jar /s/x.jar is not a valid zip (r); nothing was touched",
            ),
            (
                Error::Plan {
                    app: "a".into(),
                    path: "/s/x".into(),
                    reason: "r".into(),
                },
                "a: staged /s/x: r; nothing was touched",
            ),
            (
                Error::io("set mtime", "/d/x")(io()),
                "set mtime /d/x: entity not found",
            ),
            (
                Error::io("rename", "/d/x")(io()),
                "rename /d/x: entity not found",
            ),
            (
                Error::Changed {
                    path: "/d/x".into(),
                    expected: "e".into(),
                    actual: "f".into(),
                },
                "/d/x: content is f, expected e",
            ),
            (
                Error::Step {
                    app: "a".into(),
                    step: "verify",
                    message: Box::new(crate::i18n::Text::new(|| "m".into())),
                },
                "a: verify failed: m",
            ),
            (
                Error::Interrupted {
                    app: "a".into(),
                    release: "r1".into(),
                },
                "a: release r1 was interrupted; run `runner release a` to finish it or `runner rollback a` to undo it",
            ),
            (
                Error::Release {
                    app: "a".into(),
                    message: "m".into(),
                },
                "a: m",
            ),
            (
                Error::PluginLoad {
                    plugin: "p".into(),
                    path: "/p.wasm".into(),
                    cause: "c".into(),
                },
                "plugin `p` (/p.wasm): c",
            ),
            (
                Error::Plugin {
                    plugin: "p".into(),
                    hook: "before-restart".into(),
                    cause: "c".into(),
                },
                "plugin `p` failed in before-restart: c",
            ),
            (
                Error::WouldEmpty {
                    target: "t".into(),
                    why: "w".into(),
                },
                "sync to t: w; nothing was deleted there",
            ),
            (
                Error::Sync {
                    target: "t".into(),
                    message: "m".into(),
                },
                "sync to t: m",
            ),
            (Error::Agent("x".into()), "agent: x"),
            (
                Error::AgentMissing {
                    target: "t".into(),
                    agent: "/usr/bin/runner".into(),
                    why: "w".into(),
                },
                "t: no runner agent there (`/usr/bin/runner`: w)",
            ),
            (
                Error::AgentVersion {
                    target: "t".into(),
                    message: "m".into(),
                },
                "t: the runner agent there speaks another protocol: m",
            ),
            (
                Error::Cancelled,
                "the operator answered no; nothing was touched",
            ),
            (
                crate::i18n::english(|| Error::internal("the signal handler")(io())),
                "cannot start the signal handler: entity not found",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(s(e), want);
        }
        let help = |e: Error| crate::i18n::english(|| e.help()).unwrap_or_default();
        assert_eq!(
            help(overlap("is")),
            "give each its own dir: a release reads the staging dir, writes the deploy dir, \
             and must never write into its own backups or state"
        );
        assert_eq!(
            help(Error::MissingDir {
                app: "a".into(),
                what: crate::text!("preflight-deploy-dir"),
                path: "/d".into(),
                help: Box::new(crate::text!("preflight-deploy-dir-help")),
            }),
            "a release never creates it: check `deploy_root` (or the app's `deploy`) for a typo"
        );
        assert_eq!(
            help(Error::Internal("x".into())),
            "runner could not start one of its own parts; this machine may be out of \
             threads or memory (run with RUNNER_LOG=debug and report it if not)"
        );
    }
}
