//! The hook points: where a release, a sync batch and a fleet roll call plugins. One name per
//! point, the same in `runner.toml`, in the WIT event, in `--events` and in the history.

use serde::{Deserialize, Serialize};

/// A hook point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hook {
    ReleaseStart,
    ReleaseEnd,
    BeforeBatch,
    AfterBatch,
    BeforeHost,
    AfterHost,
    BeforeSync,
    AfterSync,
    BeforePlan,
    AfterPlan,
    BeforeBackup,
    AfterBackup,
    BeforeInstall,
    AfterInstall,
    BeforeRestart,
    AfterRestart,
    BeforeVerify,
    AfterVerify,
    BeforeRollback,
    AfterRollback,
}

/// Whether a hook runs before or after its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Before,
    After,
}

/// Every hook point, in the order a release meets them.
pub const ALL: [Hook; 20] = [
    Hook::ReleaseStart,
    Hook::ReleaseEnd,
    Hook::BeforeBatch,
    Hook::AfterBatch,
    Hook::BeforeHost,
    Hook::AfterHost,
    Hook::BeforeSync,
    Hook::AfterSync,
    Hook::BeforePlan,
    Hook::AfterPlan,
    Hook::BeforeBackup,
    Hook::AfterBackup,
    Hook::BeforeInstall,
    Hook::AfterInstall,
    Hook::BeforeRestart,
    Hook::AfterRestart,
    Hook::BeforeVerify,
    Hook::AfterVerify,
    Hook::BeforeRollback,
    Hook::AfterRollback,
];

/// The names of [`ALL`], as a plugin subscribes to them.
pub const NAMES: [&str; 20] = {
    let mut names = [""; 20];
    let mut i = 0;
    while i < ALL.len() {
        names[i] = ALL[i].name();
        i += 1;
    }
    names
};

impl Hook {
    pub const fn name(self) -> &'static str {
        match self {
            Hook::ReleaseStart => "release-start",
            Hook::ReleaseEnd => "release-end",
            Hook::BeforeBatch => "before-batch",
            Hook::AfterBatch => "after-batch",
            Hook::BeforeHost => "before-host",
            Hook::AfterHost => "after-host",
            Hook::BeforeSync => "before-sync",
            Hook::AfterSync => "after-sync",
            Hook::BeforePlan => "before-plan",
            Hook::AfterPlan => "after-plan",
            Hook::BeforeBackup => "before-backup",
            Hook::AfterBackup => "after-backup",
            Hook::BeforeInstall => "before-install",
            Hook::AfterInstall => "after-install",
            Hook::BeforeRestart => "before-restart",
            Hook::AfterRestart => "after-restart",
            Hook::BeforeVerify => "before-verify",
            Hook::AfterVerify => "after-verify",
            Hook::BeforeRollback => "before-rollback",
            Hook::AfterRollback => "after-rollback",
        }
    }

    pub fn parse(name: &str) -> Option<Hook> {
        ALL.into_iter().find(|h| h.name() == name)
    }

    pub fn phase(self) -> Phase {
        match self {
            Hook::ReleaseStart
            | Hook::BeforeBatch
            | Hook::BeforeHost
            | Hook::BeforeSync
            | Hook::BeforePlan
            | Hook::BeforeBackup
            | Hook::BeforeInstall
            | Hook::BeforeRestart
            | Hook::BeforeVerify
            | Hook::BeforeRollback => Phase::Before,
            _ => Phase::After,
        }
    }

    /// The step the hook is around (`release` for `release-start`/`release-end`).
    pub fn step(self) -> &'static str {
        match self {
            Hook::ReleaseStart | Hook::ReleaseEnd => "release",
            other => {
                let name = other.name();
                name.split_once('-').map_or(name, |(_, step)| step)
            }
        }
    }

    /// The after-hook of a before-hook's step.
    pub fn after(self) -> Hook {
        match self {
            Hook::ReleaseStart => Hook::ReleaseEnd,
            Hook::BeforeBatch => Hook::AfterBatch,
            Hook::BeforeHost => Hook::AfterHost,
            Hook::BeforeSync => Hook::AfterSync,
            Hook::BeforePlan => Hook::AfterPlan,
            Hook::BeforeBackup => Hook::AfterBackup,
            Hook::BeforeInstall => Hook::AfterInstall,
            Hook::BeforeRestart => Hook::AfterRestart,
            Hook::BeforeVerify => Hook::AfterVerify,
            Hook::BeforeRollback => Hook::AfterRollback,
            after => after,
        }
    }
}

impl Hook {
    /// The WIT version that brought the hook: a plugin built against an older one cannot be
    /// called there (its event lacks what the hook is about).
    pub fn since(self) -> &'static str {
        match self {
            Hook::BeforeBatch | Hook::AfterBatch => "0.2.0",
            _ => "0.1.0",
        }
    }

    /// Whether a plugin built against WIT `version` can be called at this hook. Versions
    /// compare as text while they are 0.N.0 with one-digit N.
    pub fn in_wit(self, version: &str) -> bool {
        self.since() <= version
    }
}

impl std::fmt::Display for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_parse() {
        for h in ALL {
            assert_eq!(serde_json::to_value(h).unwrap(), h.name());
            assert_eq!(Hook::parse(h.name()), Some(h));
            assert_eq!(h.after().phase(), Phase::After);
        }
        assert_eq!(Hook::BeforeRestart.step(), "restart");
        assert_eq!(Hook::ReleaseEnd.step(), "release");
        assert_eq!(Hook::ReleaseStart.phase(), Phase::Before);
        assert_eq!(Hook::parse("before-lunch"), None);
        assert_eq!(Hook::BeforeBatch.step(), "batch");
        assert_eq!(Hook::BeforeBatch.since(), "0.2.0");
    }
}
