//! The WIT `runner:plugin@0.2.0` (`wit/0.2.0`): 0.1.0 plus the batch hooks of a fleet release
//! (the event's `batch`) and `concurrent` in `info`. Its bindings, its host imports added to a
//! linker, and the conversions between its types and runner's; what is the same as in 0.1.0 is
//! `glue::same_since_v0_1`.

use std::collections::BTreeMap;

use wasmtime::Store;
use wasmtime::component::{HasSelf, Linker};

use super::sandbox::{self, State};
use super::types::{self, HookEvent, Needs, PluginInfo};
use crate::hook;
use crate::outcome::Outcome;
use crate::plan::{Action, Change};

super::glue::bindings!("../wit/0.2.0");

use runner::plugin::host::{Level, Output, Request, Response};
use runner::plugin::types::{Batch, Capabilities, ChangeAction, FileChange, Phase};

pub(super) const VERSION: &str = "0.2.0";

pub(super) async fn handle(
    p: &Plugin,
    store: &mut Store<State>,
    ev: &HookEvent<'_>,
    config: &BTreeMap<String, String>,
) -> wasmtime::Result<types::Decision> {
    fn strs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let changes: Vec<FileChange> = ev.changes.iter().map(file_change).collect();
    let config: Vec<(&str, &str)> = config
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let hosts = ev.batch.map(|b| strs(b.hosts)).unwrap_or_default();
    let failed = ev.batch.map(|b| strs(b.failed)).unwrap_or_default();
    let batch = ev.batch.map(|b| Batch {
        number: b.number as u32,
        of: b.of as u32,
        hosts: &hosts,
        failed: &failed,
    });
    let event = Event {
        hook: ev.hook.name(),
        step: ev.hook.step(),
        phase: match ev.hook.phase() {
            hook::Phase::Before => Phase::Before,
            hook::Phase::After => Phase::After,
        },
        release_id: ev.release_id,
        app: ev.app,
        host: ev.host,
        batch,
        changes: &changes,
        dry_run: ev.dry_run,
        error: ev.error,
        outcome: ev.outcome.map(Outcome::name),
        config: &config,
    };
    p.call_handle(store, event).await.map(types::Decision::from)
}

impl From<Info> for PluginInfo {
    fn from(i: Info) -> Self {
        PluginInfo {
            name: i.name,
            version: i.version,
            hooks: i.hooks,
            needs: i.needs.into(),
            concurrent: i.concurrent,
        }
    }
}

super::glue::same_since_v0_1!();
