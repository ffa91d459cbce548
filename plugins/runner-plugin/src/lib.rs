//! runner-plugin: a runner plugin is its `handle` function and the hooks it wants.
//!
//! ```ignore
//! use runner_plugin::v0_2::{Decision, Event, Level, log};
//!
//! runner_plugin::plugin! {
//!     name: "hello",
//!     hooks: ["release-start", "release-end"],
//!     handle: handle,
//! }
//!
//! fn handle(event: Event) -> Decision {
//!     log(Level::Info, &format!("{} for {}", event.hook, event.app));
//!     Decision::Proceed
//! }
//! ```
//!
//! [`plugin!`] builds against runner:plugin@0.2.0, [`plugin_v0_1!`] against 0.1.0 (for a plugin
//! that must load in a runner that speaks only 0.1.0). Each version's bindings are a module
//! ([`v0_2`], [`v0_1`]): the event and decision types, and the host calls (`log`, `exec`, `http`,
//! `state_get`, `state_set`, `sleep`). The WIT packages are this crate's own copies (`wit/`), the
//! ones runner embeds: no path into runner's repo.

/// runner:plugin@0.2.0: the fleet's batch hooks, the event's `batch`, `concurrent` in `describe`.
pub mod v0_2 {
    // A world of its own name that is runner's `plugin` world: two versions' bindings in one
    // crate would otherwise define the same export helpers.
    wit_bindgen::generate!({
        inline: "package runner:sdk-v0-2; world plugin-v0-2 { include runner:plugin/plugin@0.2.0; }",
        path: "wit/0.2.0",
        world: "runner:sdk-v0-2/plugin-v0-2",
        generate_all,
        default_bindings_module: "runner_plugin::v0_2",
        pub_export_macro: true,
        export_macro_name: "export_v0_2",
    });
    pub use self::runner::plugin::host::{
        self, Level, Output, Request, Response, exec, http, log, sleep, state_get, state_set,
    };
    pub use self::runner::plugin::types::{Batch, Capabilities, ChangeAction, FileChange, Phase};
}

/// runner:plugin@0.1.0, the first version: every runner loads it.
pub mod v0_1 {
    // A world of its own name that is runner's `plugin` world: two versions' bindings in one
    // crate would otherwise define the same export helpers.
    wit_bindgen::generate!({
        inline: "package runner:sdk-v0-1; world plugin-v0-1 { include runner:plugin/plugin@0.1.0; }",
        path: "wit/0.1.0",
        world: "runner:sdk-v0-1/plugin-v0-1",
        generate_all,
        default_bindings_module: "runner_plugin::v0_1",
        pub_export_macro: true,
        export_macro_name: "export_v0_1",
    });
    pub use self::runner::plugin::host::{
        self, Level, Output, Request, Response, exec, http, log, sleep, state_get, state_set,
    };
    pub use self::runner::plugin::types::{Capabilities, ChangeAction, FileChange, Phase};
}

/// A plugin against runner:plugin@0.2.0: its name, the hooks it wants (an array or slice of
/// `&str`), and its `handle`
/// (`fn(Event) -> Decision`); optionally what it `needs` (a [`v0_2::Capabilities`], granted
/// by the operator's `allow`) and whether its calls may overlap (`concurrent`, default false).
/// The version is the crate's (`CARGO_PKG_VERSION`).
#[macro_export]
macro_rules! plugin {
    (
        name: $name:expr,
        hooks: $hooks:expr,
        $(needs: $needs:expr,)?
        $(concurrent: $concurrent:expr,)?
        handle: $handle:expr $(,)?
    ) => {
        struct RunnerPlugin;

        impl $crate::v0_2::Guest for RunnerPlugin {
            fn describe() -> $crate::v0_2::Info {
                #[allow(unused_mut, unused_assignments)]
                let mut needs = $crate::v0_2::Capabilities { exec: vec![], dirs: vec![], http: vec![] };
                $(needs = $needs;)?
                #[allow(unused_mut, unused_assignments)]
                let mut concurrent = false;
                $(concurrent = $concurrent;)?
                $crate::v0_2::Info {
                    name: ::std::string::String::from($name),
                    version: ::std::string::String::from(env!("CARGO_PKG_VERSION")),
                    hooks: $hooks.iter().map(|h| ::std::string::String::from(*h)).collect(),
                    needs,
                    concurrent,
                }
            }

            fn handle(event: $crate::v0_2::Event) -> $crate::v0_2::Decision {
                ($handle)(event)
            }
        }

        $crate::v0_2::export_v0_2!(RunnerPlugin);
    };
}

/// [`plugin!`] against runner:plugin@0.1.0 (no `concurrent`: a 0.1.0 plugin's calls never
/// overlap).
#[macro_export]
macro_rules! plugin_v0_1 {
    (
        name: $name:expr,
        hooks: $hooks:expr,
        $(needs: $needs:expr,)?
        handle: $handle:expr $(,)?
    ) => {
        struct RunnerPlugin;

        impl $crate::v0_1::Guest for RunnerPlugin {
            fn describe() -> $crate::v0_1::Info {
                #[allow(unused_mut, unused_assignments)]
                let mut needs = $crate::v0_1::Capabilities { exec: vec![], dirs: vec![], http: vec![] };
                $(needs = $needs;)?
                $crate::v0_1::Info {
                    name: ::std::string::String::from($name),
                    version: ::std::string::String::from(env!("CARGO_PKG_VERSION")),
                    hooks: $hooks.iter().map(|h| ::std::string::String::from(*h)).collect(),
                    needs,
                }
            }

            fn handle(event: $crate::v0_1::Event) -> $crate::v0_1::Decision {
                ($handle)(event)
            }
        }

        $crate::v0_1::export_v0_1!(RunnerPlugin);
    };
}
