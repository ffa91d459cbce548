# plugin: loading, calling and checking WASM plugins (src/plugin/, src/cmd/plugin.rs).

## Why loading or calling a plugin failed (plugin/error.rs)
plugin-error-engine = cannot start the wasm engine: { $error }
plugin-error-epoch-thread = cannot start the epoch thread: { $error }
plugin-error-runtime = cannot start the async runtime: { $error }
plugin-error-link = cannot link the plugin host imports: { $error }
plugin-error-prep-thread = cannot start the plugin prep thread: { $error }
plugin-error-read = cannot read it: { $error }
plugin-error-core-module = a core WASM module, not a component: make it one (`wasm-tools component new`, or build with a component toolchain: cargo for wasm32-wasip2, componentize-py, jco)
plugin-error-not-component = not a valid WASM component: { $error }
plugin-error-missing-imports = it needs imports runner does not offer ({ $error }) — is it built against runner:plugin@{ $versions }?
plugin-error-wrong-world = it does not export the runner:plugin@{ $version } world ({ $error }); built against: { $built }
# What a plugin built against no runner:plugin version (it imports none) is built against.
plugin-no-wit-version = no runner:plugin version
# Between two WIT versions: "0.2.0 or 0.1.0".
plugin-or = or
plugin-error-unknown-hook = it asks for an unknown hook `{ $hook }`
plugin-error-hook-too-new = `{ $hook }` is a hook of runner:plugin@{ $since }, and it is built against { $wit }: rebuild it against wit/{ $since } to be called there
plugin-error-dir-not-utf8 = granted dir { $dir } is not UTF-8
plugin-error-dir-open = cannot open granted dir { $dir }: { $error }
plugin-error-timeout = timed out after { $time }
plugin-error-memory = exceeded its memory limit of { $mib } MiB
plugin-error-no-slot = no free instance slot: { $error } (too many plugin calls at once)
plugin-error-trap = trapped: { $trap }
# The plugin's last lines follow, indented, on lines of their own.
plugin-error-output = { $error }; its output ends:
plugin-no-bindings = runner has no bindings for runner:plugin@{ $version }

## A host function's refusal or failure, as the plugin gets it (always in English: it goes over
## the WIT interface)
plugin-host-denied = { $what } is not granted to plugin `{ $plugin }`
plugin-host-exec-timeout = `{ $program }` did not finish within the hook's timeout
plugin-host-exec = cannot run `{ $program }`: { $error }
plugin-host-bad-url = bad url `{ $url }`: { $error }
plugin-host-http-task = http call failed: { $error }
plugin-host-bad-request = bad request: { $error }
plugin-host-read-response = reading the response: { $error }

## The sandbox (plugin/sandbox.rs)
# After "runner: warning:": a plugin asked for what it was not granted.
plugin-warning = runner: warning:
plugin-denied = plugin { $plugin } ({ $hook }): denied { $what }
plugin-denied-exec = exec of `{ $program }`
plugin-denied-http = http to `{ $host }`
plugin-logs-dropped = { $n } more log lines dropped (a call keeps { $lines } lines, { $kib } KiB)
plugin-denials-more = { $n } more denials not shown
plugin-state-refused = { $n } state-set calls refused (a plugin keeps at most { $keys } keys, { $kib } KiB, per release)
plugin-state-not-persisted = cannot persist plugin state: { $error }
# Ends a text cut short (a log line, an abort's reason).
plugin-cut = … [{ $n } more bytes cut]

## The compile cache (plugin/engine.rs)
plugin-cache-unusable = recompiling: cached plugin unusable: { $error }
plugin-cache-write = cannot cache the compiled plugin: { $error }
plugin-cache-serialize = cannot serialize the compiled plugin: { $error }
plugin-cache-env-unsafe = RUNNER_PLUGIN_CACHE { $dir } not used: { $why }; caching compiled plugins in { $own }
plugin-cache-create = cannot create it: { $error }
plugin-cache-stat = cannot stat it: { $error }
plugin-cache-owner = it is owned by uid { $owner }, not by uid { $me }
plugin-cache-writable = it is writable by group or others (mode { $mode })

## Hook calls (plugin/host.rs)
plugin-aborted = plugin `{ $plugin }` aborted in { $hook }: { $reason }
plugin-on-error-warn = on_error = warn, the release goes on: { $error }

## runner plugin list / check
plugin-none = no plugins configured
plugin-check-ok = ok
plugin-check-built = { $wasm } { $name } { $version }: built against runner:plugin@{ $wit }
plugin-check-hooks = hooks: { $hooks } ({ $calls })
plugin-check-concurrent = concurrent: calls may overlap
plugin-check-serial = calls never overlap
plugin-check-needs = needs: exec { $exec }; dirs { $dirs }; http { $http }
plugin-check-loaded = loaded in { $time } ({ $how })
plugin-check-cached = compiled form from the cache
plugin-check-compiled = compiled now, cached for next time
plugin-wit-unknown-version = no WIT version { $version } in this runner: it speaks { $known }

## runner plugin call
# "<plugin> <hook>: proceed"
plugin-call-proceed = { $call }: proceed
plugin-call-skip = { $call }: skip (it did the step itself)
plugin-call-abort = { $call }: abort: { $reason }
plugin-call-failed = { $call }: the call failed: { $error }
plugin-call-not-subscribed = { $plugin } does not ask for { $hook }: a release calls it there only if its [[plugin]] `hooks` lists it
plugin-call-logs = logged ({ $n }):
plugin-call-host-calls = host calls ({ $n }):
plugin-call-denied = denied: { $why }
plugin-call-calls-dropped = … { $n } more host calls not kept
plugin-call-output = its output (stdout and stderr; the last { $shown } of { $n } lines, --json has 16 KiB):
plugin-call-took = took { $time }, peak memory { $memory } of { $limit }
plugin-call-unknown-hook = no hook `{ $hook }`: the hooks are { $known }
plugin-call-bad-set = --set { $value }: expected KEY=VALUE
plugin-call-bad-event = event file { $path }: { $error }
plugin-call-event-not-object = event file { $path }: expected a JSON object (an event, or a release from `runner history --json`)

## runner plugin new
plugin-new-bad-name = `{ $name }` cannot name a plugin: use lower case letters, digits and `-`, starting with a letter (at most 64)
plugin-new-hook-too-new = `{ $hook }` is a hook of runner:plugin@{ $since }: build against it with --wit { $since }, not { $wit }
plugin-new-no-hooks = --hooks names no hook
plugin-new-exists = { $dir } exists and is not empty: nothing written
plugin-new-created = created { $dir } ({ $lang }, runner:plugin@{ $wit })
plugin-new-files = files:
plugin-new-build = build it:
plugin-new-try = try it:
plugin-new-config = then add it to runner.toml:
