//! Bindings for the frozen WIT `runner:plugin@0.1.0` (`wit/0.1.0`).

wasmtime::component::bindgen!({
    path: "../wit/0.1.0",
    world: "plugin",
    imports: { default: async },
    exports: { default: async },
});

pub use runner::plugin::host::{Level, Output, Request, Response};
pub use runner::plugin::types::{Capabilities, ChangeAction, FileChange, Phase};
