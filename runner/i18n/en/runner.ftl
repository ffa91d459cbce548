# runner's messages, English. Every id here is in ../zh-CN/runner.ftl too (a test checks).

## Outcomes and kinds, as a person reads them (JSON keeps the kebab-case names)
outcome-success = success
outcome-rolled-back = rolled back
outcome-rollback-failed = rollback failed
outcome-failed = failed
outcome-undone = undone
outcome-no-change = no change
outcome-dry-run = dry run
outcome-cancelled = cancelled
outcome-interrupted = interrupted
kind-release = release
kind-common = common
kind-rollback = rollback
kind-restart = restart
kind-rollback-to = rollback to after { $id }
kind-rollback-of = rollback of { $id }
outcome-resumed = { $outcome } (resumed)

## Steps of a release
step-backup = backup
step-install = install
step-restart = restart
step-verify = verify
step-restore = restore

## The end of a release
done-released = released
done-rolled-back = rolled back
done-common = installed common libs
done-restarted = restarted
done-undone = undone

## Questions
confirm-release = release { $n ->
    [one] 1 file
   *[other] { $n } files
  } to { $app }?
confirm-restart = restart { $app }?

## Plan
plan-header = { $added } added, { $modified } modified, { $removed } removed, { $unchanged } unchanged

## Tables
col-app = app
col-outcome = outcome
col-release = release
col-error = error
col-id = id
col-time = time
col-user = user
col-kind = kind
col-files = files
col-duration = duration
col-host = host
col-deployed = deployed
col-at = at
col-by = by
col-drift = drift
col-pending = pending
col-state = state
col-health = health
col-target = target
col-last-synced = last synced
col-failing-since = failing since

## runner status
status-drift-unknown = unknown
status-drift-none = none
status-drift-files = { $n ->
    [one] 1 file
   *[other] { $n } files
  }
status-releasing = releasing (pid { $pid }, { $user })
status-interrupted = interrupted
status-up = up
status-up-build = up ({ $build })
status-down = down: { $why }
status-hosts-up = { $up } of { $n } hosts up
status-no-status = no status
status-on-hosts = { $app } on its hosts:
status-note-last = { $app }: the last release, { $id } at { $at }, ended { $outcome }
status-note-interrupted = { $app }: release { $id } was interrupted ({ $user }, { $since }): `runner release { $app }` finishes it, `runner rollback { $app }` undoes it
status-note-drift = { $app }: { $n } files differ from what runner left (`runner status -v { $app }` names them)
status-service = sync service (runner watch): pid { $pid }, running since { $since }, last change { $updated }
status-service-off = the sync service (runner watch) is not running
watch-ok = ok
watch-pending = pending
watch-failing = failing
watch-waiting = waiting for its source
watch-starting = starting

## A release as it goes
release-resuming = resuming interrupted release { $id } (it got to: { $phase })
announce = { $kind } { $id } ({ $n ->
    [one] 1 file
   *[other] { $n } files
  })
announce-restart = restart { $id }
rolling-back-after = rolling back to the previous build, after:
ignored-rollback-goes-on = { $reason } (ignored: the rollback goes on)
ignored-rollback-done = { $reason } (ignored: the rollback is done)
ignored-release-ended = { $reason } (ignored: the release has ended)
confirm-rollback = roll { $app } back to before { $id }?
confirm-rollback-to = return { $app } to right after { $id }?
history-empty = no releases yet
took = in { $time }
rolling-back = rolling back { $id }
col-path = path
col-size = size
action-added = added
action-upgraded = upgraded
action-modified = modified
action-removed = removed
action-unchanged = unchanged
entries-more = … { $n } more (-v)
entries-same = (same entries; metadata only)

## A fleet roll, per host
host-verified = verified
host-skipped = skipped
host-waiting = waiting
host-connecting = connecting
host-draining = draining
host-syncing = syncing
host-releasing = releasing
host-backing-up = backing up
host-installing = installing
host-restarting = restarting
host-verifying = verifying
host-rolling-back = rolling back
host-restoring = restoring
