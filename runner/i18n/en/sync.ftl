# sync
# runner sync, its transports (agent session, ssh, rsync), and the runner watch service.

## Sync guards
sync-source-missing = the source { $source } does not exist (an unmounted share?)
sync-source-empty = the source { $source } is empty and the target holds { $remote } files
sync-incomplete-archive = incomplete archive: { $why }

## ssh and rsync
sync-runner-itself = runner itself
sync-ssh-exited = ssh exited with { $status }: { $stderr }
sync-agent-installed = installed runner on the host
sync-rsync-cannot-run = cannot run rsync: { $error }
sync-rsync-exited = rsync exited with { $status }: { $stderr }

## The agent session
sync-rsync-by-rsync = an rsync:// target is pushed by rsync, not by an agent
sync-cannot-start-transport = cannot start the transport: { $error }
sync-agent-no-mux = the agent { $agent } there is an older runner, which cannot serve several dirs on one connection (--mux): { $said }
sync-agent-unasked = the agent sent more than { $limit } bytes nobody asked for
sync-unexpected-hello = unexpected answer to hello: { $answer }
sync-exit-status = exit status { $code }
sync-agent-error = agent: { $error }
sync-sending = sending: { $error }
sync-unexpected-data = unexpected data from the agent
sync-expected-manifest = expected a manifest, got { $got }
sync-progress = sync { $target }
sync-agent-stopped = the agent stopped answering
sync-unexpected-reply = unexpected reply { $reply }
sync-agent-refused = the agent refused { $what }
sync-agent-refused-many = the agent refused { $n } requests, the first: { $first }
sync-unexpected-during = unexpected { $what } during { $command }
sync-connection-lost = connection lost during { $command }: { $error }
sync-transport-said = { $message }; the transport said: { $said }

## runner sync
sync-no-targets = no [[sync]] targets configured
sync-no-target-matches = no [[sync]] target matches { $names }
sync-not-pushed = { $target }: not pushed: { $path }: { $why }

## runner watch (the service's log)
sync-watch-nothing = nothing to watch: no [[sync]] targets and no app with auto_release = true
sync-watch-stopped-target = watcher stopped: { $error }
sync-watch-stopped-release = auto-release watcher stopped: { $error }
sync-watch-stopped = stopped
sync-watch-synced = synced
sync-watch-held-back = held back: { $why }
sync-watch-auto-release = auto release
sync-watch-source-missing = the source { $source } does not exist (an unmounted share?): nothing is synced, nothing deleted
sync-watch-target-unavailable = target unavailable: { $error }
sync-watch-release-not-started = release not started: { $error }
sync-watch-watching = watching
sync-watch-rescanning = watch error, rescanning: { $error }
sync-watch-cannot-watch = cannot watch { $path }: { $error }
sync-watch-cannot-watch-limit = cannot watch { $path }: { $error }; raise fs.inotify.max_user_watches (sysctl) for big trees
sync-watch-cannot-write-status = cannot write the status file: { $error }
sync-watch-config-empty = config not re-read, the one running stays: it has no [[sync]] rows and no app with auto_release
sync-watch-config-reread = config re-read
sync-watch-config-failed = config not re-read, the one running stays: { $error }
sync-agent-not-static = this runner is a glibc build: a host with an older glibc than this machine's cannot start it (CentOS 7 has 2.17). --install-agent sends a static build when there is one: build it with `cargo build --release --target x86_64-unknown-linux-musl -p runner`, then put it beside this runner as { $beside } or name it in [fleet] agent_binary; or install the runner package
sync-agent-wrong-binary = { $path } is not this runner ({ $mine }): it says "{ $said }"; --install-agent sends the static build of this very version
sync-agent-passed-over = passed over for --install-agent: { $error }
