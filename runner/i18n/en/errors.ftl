# The errors runner reports (error.rs and the error types beside their modules).
error-config-is-dir = config { $path } is a directory, not a file
error-config-not-utf8 = config { $path }: not UTF-8 text (from line { $line }, column { $column })

## error.rs: the errors every command returns
error-config = { $file }:{ $line }:{ $column }: key `{ $key }`: { $message }
error-overlap = { $file }: { $a } ({ $a_path }) { $how ->
    [same] is
    [inside] is inside
   *[contains] contains
  } { $b } ({ $b_path })
error-missing-dir = { $app }: { $what } { $path } does not exist
error-config-read = cannot read config { $path }: { $source }
error-no-config = no config file found (tried { $tried }); pass -c <path> or set RUNNER_CONFIG
error-unknown-app = unknown app `{ $name }` (configured: { $known })
error-locked = { $app } is locked by pid { $pid } ({ $user }, since { $since }); wait for it to finish or stop that process
error-bad-jar = { $app }: staged jar { $path } is not a valid zip ({ $reason }); nothing was touched
error-plan = { $app }: staged { $path }: { $reason }; nothing was touched
error-io = { $op } { $path }: { $source }
error-changed = { $path }: content is { $actual }, expected { $expected }
error-step = { $app }: { $step } failed: { $message }
error-interrupted = { $app }: release { $release } was interrupted; run `runner release { $app }` to finish it or `runner rollback { $app }` to undo it
error-plugin-load = plugin `{ $plugin }` ({ $path }): { $cause }
error-plugin = plugin `{ $plugin }` failed in { $hook }: { $cause }
error-would-empty = sync to { $target }: { $why }; nothing was deleted there
error-sync = sync to { $target }: { $message }
error-agent = agent: { $error }
error-agent-missing = { $target }: no runner agent there (`{ $agent }`: { $why })
error-agent-version = { $target }: the runner agent there speaks another protocol: { $message }
error-cancelled = the operator answered no; nothing was touched
error-prompt = prompt: { $error }
error-internal-start = cannot start { $what }: { $error }

## What was being done when an I/O error struck (Error::io)
error-op-create = create
error-op-open = open
error-op-read = read
error-op-write = write
error-op-rename = rename
error-op-remove = remove
error-op-chmod = chmod
error-op-chown = chown
error-op-set-mtime = set mtime
error-op-fsync = fsync
error-op-stat = stat
error-op-walk = walk
error-op-encode = encode
error-op-parse = parse
error-op-parse-journal = parse journal
error-op-lock = lock
error-op-locate = locate

## The parts of runner that may fail to start (Error::internal)
error-part-signal-handler = the signal handler
error-part-signal-thread = the signal thread
error-part-own-path = runner (its own path)

## What the operator can do about an error (Error::help)
error-help-config = fix that key in the config; `runner config check` validates it
error-help-config-read = check the path and that this user may read it
error-help-config-is-dir = pass the runner.toml inside it: -c <dir>/runner.toml
error-help-config-not-utf8 = save it as UTF-8 (a GBK file converts with `iconv -f GBK -t UTF-8 runner.toml`)
error-help-overlap = give each its own dir: a release reads the staging dir, writes the deploy dir, and must never write into its own backups or state
error-help-preflight = fix that key in the config; nothing was touched (`runner config check`)
error-help-unknown-app = app names are the [apps.<name>] tables of the config
error-help-bad-jar = a jar still being uploaded looks like this: wait for the upload, then release
error-help-agent = install this runner version there (the row's `agent` or [fleet] `agent` names its path), or let a fleet release copy it: --install-agent
error-help-would-empty = mount or fill the source; if the target really is to be emptied, pass --allow-delete-all
error-help-plugin-load = `runner plugin check <wasm>` shows what the component declares
error-help-internal = runner could not start one of its own parts; this machine may be out of threads or memory (run with RUNNER_LOG=debug and report it if not)

## address.rs: an ssh destination or a [[sync]] target that does not parse
address-no-scheme = no scheme
address-relative-file = file:// needs an absolute path (file:///dir)
address-no-path = no path
address-no-host-or-path = needs a host and a path
address-bad-port = bad port `{ $port }`
address-unknown-scheme = unknown scheme `{ $scheme }`
address-empty-user = empty user
address-bad-host = expected [user@]host[:port]

## verify.rs: an app that did not prove itself up, and what proved it up
verify-interrupted = stopped by { $signal } while waiting for the app
verify-fail-line = the log says `{ $line }`
verify-not-ready = no line matching `{ $pattern }` in { $path } within { $timeout }
verify-health-status = health { $url } answered { $status }
verify-health-unreachable = health { $url } { $error }
verify-ready-after = ready after { $secs } s
verify-health = health { $status }
verify-restarted = restart succeeded (no log or health to check)

## restart.rs: an app's restart command that did not complete
restart-spawn = cannot run `{ $command }`: { $error }
restart-exited = `{ $command }` exited with { $status }{ $tail }
restart-wait = waiting for `{ $command }`: { $error }
restart-timed-out = `{ $command }` did not finish in time and was killed{ $tail }
# Followed by the command's last lines, each on a line of its own.
restart-output = ; output ({ $path }):

## jar.rs: a staged jar that is not a complete zip
jar-truncated = entry { $entry } runs past the end of the file
jar-empty = no entries
jar-changed = it changed while it was read (still being written)

## lock.rs, interrupt.rs
lock-cannot-clear = cannot clear lock holder: { $error }
interrupt-stopping = { $signal }: stopping { $app } at the next safe point (again to stop at once)
interrupt-stopped = { $signal }: stopped at once; the journal of { $app }'s release stays: `runner release { $app }` finishes it, `runner rollback { $app }` undoes it
interrupt-a-signal = a signal

## backup.rs, install.rs, inventory.rs
backup-changed = { $path } changed since it was planned; nothing was installed, plan again
backup-cannot-prune = cannot prune backup: { $error }
install-neither = neither the prepared file nor the new content
inventory-not-utf8 = skipping a file whose name is not UTF-8
inventory-cannot-save-cache = cannot save hash cache: { $error }

## cmd.rs: commands over several apps
cmd-lists-hosts = { $app } lists hosts ({ $hosts }): run this with --local on each host (only `runner release` rolls over the hosts from here)
cmd-not-started = not started
cmd-nothing-staged = nothing staged ({ $path } does not exist)
cmd-man-page = cannot write the man page: { $error }

## report.rs: labels, tables and summaries
report-help = help:
report-warning = warning:
report-invalid = invalid
report-col-source = source
report-col-sent = sent
report-col-bytes = bytes
report-col-wire = on the wire
report-col-deleted = deleted
report-col-unchanged = unchanged
report-col-skipped = skipped
report-targets = { $n } targets
report-col-plugin = plugin
report-col-version = version
report-col-hooks = hooks
report-col-granted = granted
report-col-not-granted = needs, not granted
report-nothing = nothing
report-fleet = fleet
report-fleet-done = { $app } { $id }: { $outcome } in { $time }
report-fleet-count = { $n } { $outcome }
report-list-sep = ,{ " " }
