//! Bindings for the frozen WIT `runner:plugin@0.1.0` (`wit/0.1.0`).

wasmtime::component::bindgen!({
    path: "../wit/0.1.0",
    world: "plugin",
    imports: { default: async },
    exports: { default: async },
    // The event is lowered straight from runner's own strings: no copy per file change.
    ownership: Borrowing { duplicate_if_necessary: false },
});

pub use runner::plugin::host::{Level, Output, Request, Response};
pub use runner::plugin::types::{Capabilities, ChangeAction, FileChange, Phase};
