//! @NAME@: a runner plugin, built against runner:plugin@@WIT@ (wit/plugin.wit, as
//! `runner plugin wit` writes it).

wit_bindgen::generate!({ path: "wit", world: "plugin" });

use runner::plugin::host::{Level, log};
use runner::plugin::types::Capabilities;

struct Plugin;
export!(Plugin);

impl Guest for Plugin {
    /// Its name, the hooks it wants, and the authority it needs (runner.toml's `allow` grants it).
    fn describe() -> Info {
        let hooks = [@HOOKS@];
        let needs = Capabilities { exec: vec![], dirs: vec![], http: vec![] };
        let (name, version) = ("@NAME@".into(), env!("CARGO_PKG_VERSION").into());
        Info { name, version, hooks: hooks.map(String::from).to_vec(), needs@CONCURRENT@ }
    }

    /// One hook call: a line in runner's log, and the release goes on.
    fn handle(event: Event) -> Decision {
        log(Level::Info, &format!("{} for {}: {} files", event.hook, event.app, event.changes.len()));
        Decision::Proceed
    }
}
