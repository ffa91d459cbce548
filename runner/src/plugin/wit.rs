//! The WIT versions runner speaks, one enum arm each, so that code outside `since_v*` deals in
//! runner's own types. A new version is a `since_v0_X` module plus an arm here.

use std::collections::BTreeMap;

use wasmtime::Store;
use wasmtime::component::{InstancePre, Linker};

use super::error::PluginError;
use super::sandbox::State;
use super::since_v0_1;
use super::types::{Decision, HookEvent, PluginInfo};

/// The WIT versions this runner loads, newest first.
pub const WIT_VERSIONS: &[&str] = &[since_v0_1::VERSION];

/// Adds every version's host imports to `linker` (their names carry the version, so they
/// coexist).
pub(super) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    since_v0_1::add_to_linker(linker)
}

/// A linked component, ready to be instantiated, of one WIT version.
#[derive(Clone)]
pub(super) enum PluginPre {
    V0_1(since_v0_1::PluginPre<State>),
}

impl PluginPre {
    /// The bindings for the version the component imports. Linking passed, so it imports no
    /// version runner lacks; one that imports none (it calls no host function) is taken for
    /// the newest.
    pub(super) fn new(pre: InstancePre<State>, wit: Option<&str>) -> Result<Self, PluginError> {
        let wrong_world = |version, source| PluginError::WrongWorld {
            version,
            built_against: wit.map(str::to_string),
            source,
        };
        match wit.unwrap_or(WIT_VERSIONS[0]) {
            since_v0_1::VERSION => since_v0_1::PluginPre::new(pre)
                .map(PluginPre::V0_1)
                .map_err(|e| wrong_world(since_v0_1::VERSION, e)),
            other => Err(PluginError::MissingImports(wasmtime::Error::msg(format!(
                "runner has no bindings for runner:plugin@{other}"
            )))),
        }
    }

    /// The WIT version of its bindings.
    pub(super) fn version(&self) -> &'static str {
        match self {
            PluginPre::V0_1(_) => since_v0_1::VERSION,
        }
    }

    pub(super) async fn instantiate_async(
        &self,
        store: &mut Store<State>,
    ) -> wasmtime::Result<Instance> {
        match self {
            PluginPre::V0_1(pre) => pre.instantiate_async(store).await.map(Instance::V0_1),
        }
    }
}

/// An instance of a plugin, of one WIT version.
pub(super) enum Instance {
    V0_1(since_v0_1::Plugin),
}

impl Instance {
    pub(super) async fn describe(&self, store: &mut Store<State>) -> wasmtime::Result<PluginInfo> {
        match self {
            Instance::V0_1(p) => since_v0_1::describe(p, store).await,
        }
    }

    pub(super) async fn handle(
        &self,
        store: &mut Store<State>,
        ev: &HookEvent<'_>,
        config: &BTreeMap<String, String>,
    ) -> wasmtime::Result<Decision> {
        match self {
            Instance::V0_1(p) => since_v0_1::handle(p, store, ev, config).await,
        }
    }
}
