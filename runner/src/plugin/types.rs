//! Runner-side types of the plugin contract: what a plugin is told and answers, whatever WIT
//! version it was built against (each `since_v*` converts to and from these).

use crate::hook::Hook;
use crate::outcome::Outcome;
use crate::plan::Change;

/// The event a hook call carries, in runner's terms.
pub struct HookEvent<'a> {
    pub hook: Hook,
    pub release_id: &'a str,
    pub app: &'a str,
    pub host: &'a str,
    /// On a fleet's central hooks: the batch they are in.
    pub batch: Option<Batch<'a>>,
    pub changes: &'a [Change],
    pub dry_run: bool,
    pub error: Option<&'a str>,
    pub outcome: Option<Outcome>,
}

/// One batch of a fleet release, as a central hook event carries it.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// 1-based, of `of`.
    pub number: usize,
    pub of: usize,
    /// The batch's hosts that connected.
    pub hosts: &'a [String],
    /// On `after-batch`: those whose release failed.
    pub failed: &'a [String],
}

/// What a plugin says of itself (its `describe`).
#[derive(Debug, Clone)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    /// Hook names it wants called.
    pub hooks: Vec<String>,
    pub needs: Needs,
    /// It may be called from several threads at once (0.1.0 plugins never are).
    pub concurrent: bool,
}

/// Authority a plugin asks for; the operator grants it with `allow` in runner.toml.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// Programs it runs through `host.exec`.
    pub exec: Vec<String>,
    /// Directories it opens.
    pub dirs: Vec<String>,
    /// Hosts it reaches through `host.http`.
    pub http: Vec<String>,
}

/// The level of a line a plugin logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// A plugin's answer to a hook call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Proceed,
    /// On a before-hook: the plugin did the step itself.
    Skip,
    Abort(String),
}

impl Decision {
    /// As the release history records it.
    pub(super) fn name(&self) -> String {
        match self {
            Decision::Proceed => "proceed".into(),
            Decision::Skip => "skip".into(),
            Decision::Abort(r) => format!("abort: {r}"),
        }
    }
}
