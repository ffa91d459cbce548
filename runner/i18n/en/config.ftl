# config: runner.toml's validation (config.rs, config/overlap.rs), `runner config check`,
# the pre-flight checks (preflight.rs) and `runner init` (init.rs, cmd/init.rs).

## Validation: the message after `file:line:column: key `…`:`
config-invalid-regex = invalid regex: { $error }
config-invalid-duration = invalid duration `{ $value }` ({ $error }); write e.g. "120s"
config-invalid-size = invalid size `{ $value }`; write e.g. "64MiB"
config-keep-releases-zero = must be at least 1 (the last backup is needed to roll back)
config-app-name = app names use letters, digits, `.`, `_`, `-` and `common` is reserved
config-restart-and-stop-start = set either `restart` or `stop` + `start`, not both
config-stop-start-together = `stop` and `start` go together
config-restart-empty = a restart command needs at least a program
config-health-not-http = `{ $url }` is not an http:// URL
config-bad-glob = bad glob `{ $glob }`: { $error }
config-bad-globs = bad globs: { $error }
# A value and what is wrong with it (an address that does not parse).
config-value-why = `{ $value }`: { $why }
config-sync-target-scheme = `{ $target }` is not a file://, ssh:// or rsync:// URL
config-password-file-rsync-only = only rsync:// targets take a password file
config-unknown-hook = unknown hook `{ $hook }` (known: { $known })
config-on-error = `{ $value }` is not `abort` or `warn`
# The key named when a syntax error is on no key's line.
config-key-document = (document)
# The TOML parser's own message, as it gives it.
config-toml-message = { $message }

## Dirs that overlap: "<key> (<path>) is / is inside / contains <key> (<path>)"

## runner config check
config-check-valid = { $path } is valid; resolved view:

## Pre-flight checks, before anything is touched
preflight-log-dir = the log's dir { $dir } does not exist: runner would wait { $timeout } for a log that cannot appear
preflight-health-url = `{ $url }` is not a URL: { $error }
# "<app>: deploy dir <path> does not exist"
preflight-deploy-dir = deploy dir
preflight-deploy-dir-help = a release never creates it: check `deploy_root` (or the app's `deploy`) for a typo
# "<app>: staging dir <path> does not exist"
preflight-staging-dir = staging dir
preflight-staging-dir-help = stage the new jars there, or check `staging` (or the app's `staging`) for a typo
preflight-mirror-empty = mirror = true and the staging dir { $dir } is empty: that would remove every deployed file
preflight-symlink = { $path } goes through the symlink { $link } → { $to }; runner does not write through or over symlinks in a deploy dir (the backup and a rollback would miss what is behind it): make it a real dir or file, or stage the jar for the app it really belongs to
preflight-not-executable = `{ $program }` is not an executable file here (nor on PATH)

## runner init: what it says
init-exists = { $path } exists: runner init does not overwrite it (pass --force, or -o another file)
init-check-failed = the config runner init made does not pass its own check ({ $error }); nothing was written
init-wrote = wrote { $path }: { $apps } apps, { $syncs } sync rows; check the lines marked `guessed`, then `runner -c { $path } config check`
init-not-imported = not imported: { $what }

## runner init: the comments of the runner.toml it writes (each line becomes a `# ` comment)
init-header =
    runner.toml written by `runner init` on { $host } at { $time }.
    Read from { $from }. Every line marked `guessed` is runner's reading of this
    machine: check it. Then `runner config check`, and `runner plan` before a release.
init-from-scripts = { $root } and { $scripts }
init-comment-staging = <staging>/<app>/ holds an app's new jars; <staging>/common/ the common libs
init-comment-backup-root = one dir per release: a second release in a day keeps both
init-no-apps = No app dir with jars under { $root }. An app looks like:
init-restart-not-found = not found: no service_local.sh, no { $app }.service; without it the files are installed but the app is not restarted
# After a value runner guessed (the tests of init look for `# guessed`).
init-guessed = guessed: { $why }
init-not-imported-header = Not imported (read them and add [[sync]] rows by hand):

## runner init: why it guessed what it did
init-why-service-local = { $path } is there (the old scripts' restart)
init-why-systemd = a systemd unit { $path } is there
init-why-newest-log = the newest *.log under logs/
init-why-spring = { $key } in { $file }
# Where in a script: "<script> line <n>"
init-where = { $path } line { $line }
init-why-script = from { $at }{ $note }
init-note-no-slash = ; the loop ran `rsync { $src }` without a trailing slash, so the files went under { $base }/ there
init-note-password-file = ; its password file `{ $file }` is set where the loop is started: add password_file
init-why-csv-row = from the row "{ $dir },{ $host },{ $module },{ $user }" and the rsync of { $at }; the loop ran `rsync { $dir } …::{ $module }` without a trailing slash, so the files went under { $module }/{ $base }{ $note }
init-unread-target = { $at }: cannot read the target `{ $target }`
init-unread-variables = { $at }: `rsync … { $src } { $dest }` uses variables set elsewhere
init-unread-not-rsync = { $at }: not an rsync with a source and a target
