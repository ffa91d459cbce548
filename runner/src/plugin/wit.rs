//! The WIT versions runner speaks, one enum arm each, so that code outside `since_v*` deals in
//! runner's own types. A new version is a `since_v0_X` module plus an arm here.

use std::collections::BTreeMap;

use wasmtime::Store;
use wasmtime::component::{InstancePre, Linker};

use super::error::PluginError;
use super::sandbox::State;
use super::types::{Decision, HookEvent, PluginInfo};
use super::{since_v0_1, since_v0_2};

/// The WIT versions this runner loads, newest first.
pub const WIT_VERSIONS: &[&str] = &[since_v0_2::VERSION, since_v0_1::VERSION];

/// The WIT package of each version, as built into this runner (what `runner plugin wit`
/// writes), newest first.
pub const WIT_FILES: &[(&str, &str)] = &[
    (
        since_v0_2::VERSION,
        include_str!("../../../wit/0.2.0/plugin.wit"),
    ),
    (
        since_v0_1::VERSION,
        include_str!("../../../wit/0.1.0/plugin.wit"),
    ),
];

/// [`WIT_VERSIONS`] as a message names them (the message puts "or" in the chosen language).
const ANY_VERSION: &str = "0.2.0 or 0.1.0";

/// Adds every version's host imports to `linker` (their names carry the version, so they
/// coexist).
pub(super) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    since_v0_2::add_to_linker(linker)?;
    since_v0_1::add_to_linker(linker)
}

/// A linked component, ready to be instantiated, of one WIT version.
#[derive(Clone)]
pub(super) enum PluginPre {
    V0_1(since_v0_1::PluginPre<State>),
    V0_2(since_v0_2::PluginPre<State>),
}

impl PluginPre {
    /// The bindings for the version the component imports. Linking passed, so it imports no
    /// version runner lacks; one that imports none (it calls no host function) gets the newest
    /// version whose exports it matches.
    pub(super) fn new(pre: InstancePre<State>, wit: Option<&str>) -> Result<Self, PluginError> {
        let wrong_world = |version, source| PluginError::WrongWorld {
            version,
            built_against: wit.map(str::to_string),
            source,
        };
        let bind = |version: &str| match version {
            since_v0_2::VERSION => since_v0_2::PluginPre::new(pre.clone())
                .map(PluginPre::V0_2)
                .map_err(|e| wrong_world(since_v0_2::VERSION, e)),
            since_v0_1::VERSION => since_v0_1::PluginPre::new(pre.clone())
                .map(PluginPre::V0_1)
                .map_err(|e| wrong_world(since_v0_1::VERSION, e)),
            other => Err(PluginError::MissingImports(wasmtime::Error::msg(
                crate::t!("plugin-no-bindings", version = other),
            ))),
        };
        match wit {
            Some(version) => bind(version),
            // Matching no version, it is told against all of them (with the newest's cause).
            None => WIT_VERSIONS[1..]
                .iter()
                .fold(bind(WIT_VERSIONS[0]), |got, v| {
                    got.or_else(|e| bind(v).map_err(|_| e))
                })
                .map_err(|e| match e {
                    PluginError::WrongWorld { source, .. } => wrong_world(ANY_VERSION, source),
                    other => other,
                }),
        }
    }

    /// The WIT version of its bindings.
    pub(super) fn version(&self) -> &'static str {
        match self {
            PluginPre::V0_1(_) => since_v0_1::VERSION,
            PluginPre::V0_2(_) => since_v0_2::VERSION,
        }
    }

    pub(super) async fn instantiate_async(
        &self,
        store: &mut Store<State>,
    ) -> wasmtime::Result<Instance> {
        match self {
            PluginPre::V0_1(pre) => pre.instantiate_async(store).await.map(Instance::V0_1),
            PluginPre::V0_2(pre) => pre.instantiate_async(store).await.map(Instance::V0_2),
        }
    }
}

/// An instance of a plugin, of one WIT version.
pub(super) enum Instance {
    V0_1(since_v0_1::Plugin),
    V0_2(since_v0_2::Plugin),
}

impl Instance {
    pub(super) async fn describe(&self, store: &mut Store<State>) -> wasmtime::Result<PluginInfo> {
        match self {
            Instance::V0_1(p) => since_v0_1::describe(p, store).await,
            Instance::V0_2(p) => since_v0_2::describe(p, store).await,
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
            Instance::V0_2(p) => since_v0_2::handle(p, store, ev, config).await,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn any_version_names_every_version() {
        assert_eq!(super::ANY_VERSION, super::WIT_VERSIONS.join(" or "));
    }
}
