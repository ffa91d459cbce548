//! The frozen WIT `runner:plugin@0.1.0` (`wit/0.1.0`): its bindings, its host imports added to
//! a linker, its `impl Host` delegating to the sandbox, and the conversions between its types and
//! runner's.

use std::collections::BTreeMap;

use wasmtime::Store;
use wasmtime::component::{HasSelf, Linker};

use super::sandbox::{self, State};
use super::types::{self, HookEvent, Needs, PluginInfo};
use crate::hook;
use crate::outcome::Outcome;
use crate::plan::{Action, Change};

super::glue::bindings!("../wit/0.1.0");

use runner::plugin::host::{Level, Output, Request, Response};
use runner::plugin::types::{Capabilities, ChangeAction, FileChange, Phase};

pub(super) const VERSION: &str = "0.1.0";

pub(super) async fn handle(
    p: &Plugin,
    store: &mut Store<State>,
    ev: &HookEvent<'_>,
    config: &BTreeMap<String, String>,
) -> wasmtime::Result<types::Decision> {
    let changes: Vec<FileChange> = ev.changes.iter().map(file_change).collect();
    let config: Vec<(&str, &str)> = config
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let event = event(ev, &changes, &config);
    p.call_handle(store, event).await.map(types::Decision::from)
}

fn event<'a>(
    ev: &HookEvent<'a>,
    changes: &'a [FileChange<'a>],
    config: &'a [(&'a str, &'a str)],
) -> Event<'a> {
    Event {
        hook: ev.hook.name(),
        step: ev.hook.step(),
        phase: match ev.hook.phase() {
            hook::Phase::Before => Phase::Before,
            hook::Phase::After => Phase::After,
        },
        release_id: ev.release_id,
        app: ev.app,
        host: ev.host,
        changes,
        dry_run: ev.dry_run,
        error: ev.error,
        outcome: ev.outcome.map(Outcome::name),
        config,
    }
}

impl From<Info> for PluginInfo {
    fn from(i: Info) -> Self {
        PluginInfo {
            name: i.name,
            version: i.version,
            hooks: i.hooks,
            needs: i.needs.into(),
            concurrent: false,
        }
    }
}

super::glue::same_since_v0_1!();
