//! How things ended: a release on one host ([`Outcome`], [`Report`]), one host of a fleet roll
//! ([`HostOutcome`], [`HostReport`]) and the whole roll ([`FleetReport`]). Shared by the
//! release, the fleet, the history and the reports, so that none of them matches on strings.

use serde::{Deserialize, Serialize};

use crate::journal::Kind;
use crate::plan::Plan;

/// How a release, common install or rollback on one host ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Installed, restarted and verified (or installed with `--no-restart`).
    Success,
    /// Verification failed; the backup was put back and the old build verified.
    RolledBack,
    /// Verification failed and so did putting the old build back.
    RollbackFailed,
    /// Failed before anything was installed.
    Failed,
    /// Interrupted, then undone by `runner rollback`.
    Undone,
    /// Nothing staged differs from what is deployed (reports only, never in the history).
    NoChange,
    /// `--dry-run`: planned, nothing touched (reports only).
    DryRun,
    /// The operator answered no (reports only).
    Cancelled,
    /// Stopped by SIGINT/SIGTERM at a safe point: nothing touched, or the old build put back.
    Interrupted,
}

impl Outcome {
    /// The name in history JSON and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::RolledBack => "rolled-back",
            Outcome::RollbackFailed => "rollback-failed",
            Outcome::Failed => "failed",
            Outcome::Undone => "undone",
            Outcome::NoChange => "no-change",
            Outcome::DryRun => "dry-run",
            Outcome::Cancelled => "cancelled",
            Outcome::Interrupted => "interrupted",
        }
    }

    /// The name as the summary tables print it: the JSON name in English, [`Outcome::shown`]
    /// in another language.
    pub fn label(self) -> String {
        match crate::i18n::lang() {
            crate::i18n::Lang::En => self.name().to_string(),
            _ => self.shown(),
        }
    }

    /// Whether it means exit code 1.
    pub fn failed(self) -> bool {
        matches!(
            self,
            Outcome::RolledBack | Outcome::RollbackFailed | Outcome::Failed | Outcome::Interrupted
        )
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How one host of a fleet roll ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostOutcome {
    Verified,
    NoChange,
    DryRun,
    Failed,
    RolledBack,
    RollbackFailed,
    /// Not started: the roll had stopped.
    Skipped,
}

impl HostOutcome {
    pub fn name(self) -> &'static str {
        match self {
            HostOutcome::Verified => "verified",
            HostOutcome::NoChange => "no-change",
            HostOutcome::DryRun => "dry-run",
            HostOutcome::Failed => "failed",
            HostOutcome::RolledBack => "rolled-back",
            HostOutcome::RollbackFailed => "rollback-failed",
            HostOutcome::Skipped => "skipped",
        }
    }

    /// The name as a fleet roll's summary prints it: the JSON name in English,
    /// [`HostOutcome::shown`] in another language.
    pub fn label(self) -> String {
        match crate::i18n::lang() {
            crate::i18n::Lang::En => self.name().to_string(),
            _ => self.shown(),
        }
    }

    /// As a person reads it, in the chosen language (`name` is what JSON says).
    pub fn shown(self) -> String {
        match self {
            HostOutcome::Verified => crate::t!("host-verified"),
            HostOutcome::NoChange => crate::t!("outcome-no-change"),
            HostOutcome::DryRun => crate::t!("outcome-dry-run"),
            HostOutcome::Failed => crate::t!("outcome-failed"),
            HostOutcome::RolledBack => crate::t!("outcome-rolled-back"),
            HostOutcome::RollbackFailed => crate::t!("outcome-rollback-failed"),
            HostOutcome::Skipped => crate::t!("host-skipped"),
        }
    }

    /// Whether the host counts as done (not against `--max-fail`).
    pub fn ok(self) -> bool {
        matches!(
            self,
            HostOutcome::Verified | HostOutcome::NoChange | HostOutcome::DryRun
        )
    }
}

impl Outcome {
    /// As a person reads it, in the chosen language (`name` is what JSON says).
    pub fn shown(self) -> String {
        match self {
            Outcome::Success => crate::t!("outcome-success"),
            Outcome::RolledBack => crate::t!("outcome-rolled-back"),
            Outcome::RollbackFailed => crate::t!("outcome-rollback-failed"),
            Outcome::Failed => crate::t!("outcome-failed"),
            Outcome::Undone => crate::t!("outcome-undone"),
            Outcome::NoChange => crate::t!("outcome-no-change"),
            Outcome::DryRun => crate::t!("outcome-dry-run"),
            Outcome::Cancelled => crate::t!("outcome-cancelled"),
            Outcome::Interrupted => crate::t!("outcome-interrupted"),
        }
    }
}

impl std::fmt::Display for HostOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<Outcome> for HostOutcome {
    /// What a host's own release outcome makes of the host.
    fn from(o: Outcome) -> HostOutcome {
        match o {
            Outcome::Success => HostOutcome::Verified,
            Outcome::NoChange => HostOutcome::NoChange,
            Outcome::DryRun => HostOutcome::DryRun,
            Outcome::RolledBack => HostOutcome::RolledBack,
            Outcome::RollbackFailed => HostOutcome::RollbackFailed,
            Outcome::Failed | Outcome::Undone | Outcome::Cancelled | Outcome::Interrupted => {
                HostOutcome::Failed
            }
        }
    }
}

/// What happened on one host of a fleet roll.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HostReport {
    pub host: String,
    pub outcome: HostOutcome,
    /// The release id on the host.
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a Rust path for serde
    pub id: Option<String>,
    /// How many files its release changed.
    #[serde(rename = "file_count")]
    pub files: usize,
    /// Wall time for this host, and the parts of it: the ssh connection up to the agent's
    /// hello, the sync, and the release as the host timed it.
    pub ms: u64,
    #[serde(default)]
    pub connect_ms: u64,
    #[serde(default)]
    pub sync_ms: u64,
    #[serde(default)]
    pub release_ms: u64,
    /// runner was installed there (`--install-agent`): what was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a Rust path for serde
    pub agent_install: Option<crate::sync::AgentInstall>,
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a Rust path for serde
    pub error: Option<String>,
    /// How the host's own release ended (`rolled-back`: it failed, and its previous build is
    /// back and verified), as the host reported it.
    #[serde(skip)]
    pub release: Option<Outcome>,
    /// Its `before-host` hooks ran (a drain plugin took it out of rotation).
    #[serde(skip)]
    pub drained: bool,
}

impl HostReport {
    /// A host with nothing done yet (no id, no files, no times).
    pub fn new(host: &str, outcome: HostOutcome) -> HostReport {
        HostReport {
            host: host.to_string(),
            outcome,
            id: None,
            files: 0,
            ms: 0,
            connect_ms: 0,
            sync_ms: 0,
            release_ms: 0,
            agent_install: None,
            error: None,
            release: None,
            drained: false,
        }
    }
}

/// What happened to one app on this host, for the summary line, `--json` and `--events`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub app: String,
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a Rust path for serde
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a Rust path for serde
    pub kind: Option<Kind>,
    pub outcome: Outcome,
    /// How many files it changed (`history` has the list).
    #[serde(rename = "file_count")]
    pub files: usize,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a Rust path for serde
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a Rust path for serde
    pub plan: Option<Plan>,
    /// What the operator should know although it went well (e.g. nothing was restarted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")] // en: a Rust path for serde
    pub warnings: Vec<String>,
}

impl Report {
    /// An app that ended before a release began (nothing to do, a dry run, a "no").
    pub fn quiet(app: &str, outcome: Outcome, plan: Option<Plan>) -> Report {
        Report {
            app: app.to_string(),
            id: None,
            kind: None,
            outcome,
            files: 0,
            duration_ms: 0,
            error: None,
            plan,
            warnings: Vec::new(),
        }
    }

    /// Whether this report means exit code 1.
    pub fn failed(&self) -> bool {
        self.outcome.failed()
    }
}

/// The whole fleet roll.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetReport {
    pub app: String,
    pub id: String,
    /// success, failed, or rolled-back (every released host put back).
    pub outcome: Outcome,
    pub duration_ms: u64,
    pub hosts: Vec<HostReport>,
    /// Why the roll stopped when a batch hook aborted it (no host's error says it).
    #[serde(default, skip_serializing_if = "Option::is_none")] // en: a Rust path for serde
    pub error: Option<String>,
}

impl FleetReport {
    pub fn failed(&self) -> bool {
        self.outcome != Outcome::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_names_match_the_json() {
        for o in [
            Outcome::Success,
            Outcome::RolledBack,
            Outcome::RollbackFailed,
            Outcome::Failed,
            Outcome::Undone,
            Outcome::NoChange,
            Outcome::DryRun,
            Outcome::Cancelled,
            Outcome::Interrupted,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.name());
        }
        for o in [
            HostOutcome::Verified,
            HostOutcome::NoChange,
            HostOutcome::DryRun,
            HostOutcome::Failed,
            HostOutcome::RolledBack,
            HostOutcome::RollbackFailed,
            HostOutcome::Skipped,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.name());
        }
    }
}
