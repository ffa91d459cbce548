//! What every WIT version's glue has in common while their host interface and most types keep
//! their shape: one macro, expanded in each `since_v*` module against that version's generated
//! types (which are distinct Rust types per version, with the same names).

/// The bindings of the WIT version at `$path` (one `bindgen!` per version, alike but for the
/// path): async host imports and exports, and the event lowered straight from runner's own
/// strings (no copy per file change).
macro_rules! bindings {
    ($path:literal) => {
        wasmtime::component::bindgen!({
            path: $path,
            world: "plugin",
            imports: { default: async },
            exports: { default: async },
            ownership: Borrowing { duplicate_if_necessary: false },
        });
    };
}

pub(super) use bindings;

/// Expands, in a `since_v*` module, the conversions and the `impl Host` that are the same as in
/// 0.1.0. The module imports the generated types (`FileChange`, `Level`, `Output`, ...) and
/// runner's (`Change`, `Action`, `Needs`, `sandbox`, `types`, `State`) under these names.
macro_rules! same_since_v0_1 {
    () => {
        pub(super) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
            Plugin::add_to_linker::<State, HasSelf<State>>(linker, |s| s)
        }

        pub(super) async fn describe(
            p: &Plugin,
            store: &mut Store<State>,
        ) -> wasmtime::Result<PluginInfo> {
            p.call_describe(store).await.map(PluginInfo::from)
        }

        fn file_change(c: &Change) -> FileChange<'_> {
            FileChange {
                path: &c.path,
                action: match c.action {
                    Action::Added => ChangeAction::Added,
                    Action::Modified => ChangeAction::Modified,
                    Action::Removed => ChangeAction::Removed,
                    Action::Unchanged => ChangeAction::Unchanged,
                },
                old_sha256: c.old.as_ref().map(|m| m.sha256.as_str()),
                new_sha256: c.new.as_ref().map(|m| m.sha256.as_str()),
                old_size: c.old.as_ref().map(|m| m.size),
                new_size: c.new.as_ref().map(|m| m.size),
            }
        }

        impl From<Capabilities> for Needs {
            fn from(c: Capabilities) -> Self {
                Needs {
                    exec: c.exec,
                    dirs: c.dirs,
                    http: c.http,
                }
            }
        }

        impl From<Decision> for types::Decision {
            fn from(d: Decision) -> Self {
                match d {
                    Decision::Proceed => types::Decision::Proceed,
                    Decision::Skip => types::Decision::Skip,
                    Decision::Abort(reason) => types::Decision::Abort(reason),
                }
            }
        }

        impl From<Level> for types::Level {
            fn from(l: Level) -> Self {
                match l {
                    Level::Trace => types::Level::Trace,
                    Level::Debug => types::Level::Debug,
                    Level::Info => types::Level::Info,
                    Level::Warn => types::Level::Warn,
                    Level::Error => types::Level::Error,
                }
            }
        }

        impl From<sandbox::ExecOutput> for Output {
            fn from(o: sandbox::ExecOutput) -> Self {
                Output {
                    status: o.status,
                    stdout: o.stdout,
                    stderr: o.stderr,
                }
            }
        }

        impl From<Request> for sandbox::HttpRequest {
            fn from(r: Request) -> Self {
                sandbox::HttpRequest {
                    method: r.method,
                    url: r.url,
                    headers: r.headers,
                    body: r.body,
                }
            }
        }

        impl From<sandbox::HttpResponse> for Response {
            fn from(r: sandbox::HttpResponse) -> Self {
                Response {
                    status: r.status,
                    headers: r.headers,
                    body: r.body,
                }
            }
        }

        impl runner::plugin::types::Host for State {}

        // The guest's contract for `exec` and `http` is `result<_, string>`: a refusal or failure goes
        // over as its message.
        impl runner::plugin::host::Host for State {
            async fn log(&mut self, level: Level, message: String) {
                State::log(self, level.into(), message);
            }

            // `result<_, string>` is the WIT signature: the guest gets the refusal as text.
            async fn exec(&mut self, program: String, args: Vec<String>) -> Result<Output, String> {
                State::exec(self, program, args)
                    .await
                    .map(Output::from)
                    .map_err(|e| e.to_string())
            }

            // `result<_, string>` is the WIT signature, as for `exec`.
            async fn http(&mut self, req: Request) -> Result<Response, String> {
                State::http(self, req.into())
                    .await
                    .map(Response::from)
                    .map_err(|e| e.to_string())
            }

            async fn state_get(&mut self, key: String) -> Option<String> {
                State::state_get(self, key)
            }

            async fn state_set(&mut self, key: String, value: String) {
                State::state_set(self, key, value);
            }

            async fn sleep(&mut self, ms: u32) {
                State::sleep(self, ms).await;
            }
        }
    };
}

pub(super) use same_since_v0_1;
