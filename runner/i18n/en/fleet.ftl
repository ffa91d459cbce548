# fleet: a release rolled over an app's hosts (fleet.rs, cmd/fleet.rs), the agent on each host
# (agent.rs, agent/protocol.rs, cmd/agent.rs), and `runner status` (cmd/status.rs).

## --batch
fleet-batch-bad-percentage = bad percentage `{ $spec }`
fleet-batch-out-of-range = `{ $spec }` is not within 0-100%
fleet-batch-bad-size = bad batch size `{ $spec }`
fleet-batch-empty = batch `{ $spec }` is empty

## A roll
fleet-lock-taken-over = { $app }: took over a fleet lock left by pid { $pid } ({ $user }), which is no longer running
fleet-title-release = fleet release
fleet-title-restart = fleet restart
fleet-announce = { $title } { $app } on { $n } hosts in batches of { $sizes } ({ $id })
fleet-confirm-release = Release { $app } on { $n } hosts ({ $hosts })?
fleet-confirm-restart = Restart { $app } on { $n } hosts ({ $hosts })?
fleet-host-asking = asking
fleet-not-released = not released: { $reason }
fleet-batch-failed = { $failed } of { $n } hosts failed: { $hosts }

## Why a host's release did not go through
fleet-host-connect = cannot connect to { $to }: { $error }
fleet-host-no-agent = { $error } (is runner { $version } installed there as `{ $agent }`? --install-agent copies this one)
fleet-host-install = { $error }; installing runner there failed too: { $install }
fleet-host-sync = sync: { $error }
fleet-host-lost = { $error } (the release there is journaled: `runner history { $app }` on the host shows where it stopped)
fleet-host-exited = runner { $command } exited with { $code }
fleet-host-log-ended = its log ended: { $log }
fleet-log-after-rollback = — after the rollback —

## runner fleet restore
fleet-restore-not-a-host = { $host } is not one of { $app }'s hosts ({ $hosts })
fleet-restore-no-roll = no fleet roll of { $app } on { $host } in the history
fleet-restore-failed = { $host } not restored: { $reason }
fleet-restored = { $app }  { $host }: after-host hooks of { $id } ran (back in rotation)

## runner status, of a fleet's host
fleet-status-no-status = its runner gave no status

## The agent (what it tells the client goes over the wire in English)
fleet-agent-needs-root = agent needs --root or --app
fleet-agent-manifest = manifest: { $error }
fleet-agent-create-root = cannot create root { $path }: { $error }
fleet-agent-root = root { $path }: { $error }
fleet-agent-client = writing to the client: { $error }
fleet-agent-version = protocol version { $version } (runner { $runner }) is not spoken here: this agent is runner { $mine } with protocol { $protocol }
fleet-agent-no-hello = expected hello, got { $got }
fleet-agent-bad-frame = bad frame: { $error }
fleet-agent-too-much-data = { $path }: more data than the announced { $size } bytes
fleet-agent-not-data = expected file data, got { $got }
fleet-agent-unexpected = unexpected { $got }
fleet-agent-wait = waiting for the release: { $error }
fleet-agent-not-relative = not a relative path
fleet-agent-component = component `{ $component }` is not allowed
fleet-agent-reserved = reserved name
fleet-agent-through-symlink = { $path } is not a directory (a symlink?)
fleet-agent-not-a-dir = { $path } is not a directory
fleet-agent-is-a-dir = is a directory
fleet-agent-outside-root = outside root
fleet-agent-mkdir = mkdir { $path }: { $error }
fleet-agent-create = create { $path }: { $error }
fleet-agent-write = write: { $error }
fleet-agent-mismatch = received { $got } bytes with sha256 { $sha256 }, announced { $size } bytes { $want }
fleet-agent-fsync = fsync { $path }: { $error }
fleet-agent-rename = rename into { $path }: { $error }
fleet-agent-runs-nothing = this agent serves a directory; it runs nothing
fleet-agent-no-runner = cannot find runner itself: { $error }
fleet-agent-spawn = cannot start runner { $command }: { $error }

## The sync protocol
fleet-proto-closed = connection closed
fleet-proto-too-large = frame of { $size } bytes exceeds the limit of { $limit }
fleet-proto-empty = empty frame
fleet-proto-kind = unknown frame kind { $kind }
fleet-proto-malformed = malformed message: { $error }
fleet-proto-frame-too-large = frame of { $size } bytes is too large
fleet-agent-delta = the delta does not apply to the copy here: { $error }
