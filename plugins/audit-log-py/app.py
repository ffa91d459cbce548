"""runner plugin `audit-log`: appends one JSON line per hook call to an audit log file.

config:
  file  path of the log, e.g. /var/log/runner/audit.jsonl (required). Its directory must exist
        and be granted with allow.dirs + allow.rw: runner preopens granted dirs at their host
        path, so plain Python file I/O works on the same path.

A line that cannot be written fails the hook (an exception, which traps) rather than answering
abort: runner applies the plugin's on_error only to a failed call — an abort always stops the
release — so on_error = "warn" lets releases go on without their audit line, "abort" stops them.
"""

import json
import os
from datetime import datetime, timezone

import wit_world
from wit_world.imports import host, types

NAME = "audit-log"
VERSION = "0.1.0"
HOOKS = ["release-start", "release-end", "after-install", "after-rollback"]


class AuditLogError(Exception):
    pass


class WitWorld(wit_world.WitWorld):
    def describe(self) -> types.Info:
        # The log's directory comes from config, so it cannot be named here: the operator grants it.
        return types.Info(
            name=NAME,
            version=VERSION,
            hooks=list(HOOKS),
            needs=types.Capabilities(exec=[], dirs=[], http=[]),
        )

    def handle(self, event: types.Event) -> types.Decision:
        path = dict(event.config).get("file", "").strip()
        if not path:
            raise AuditLogError("audit log: config `file` is not set")
        try:
            _append(path, _record(event))
        except OSError as e:
            # `from None`: the trap's stderr (which runner shows) carries this one line, no chain.
            raise AuditLogError(f"audit log: cannot append to {path}: {e.strerror or e}") from None
        host.log(host.Level.DEBUG, f"audit log: {event.hook} appended to {path}")
        return types.Decision_Proceed()


def _record(event: types.Event) -> str:
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    line = {
        "time": now,
        "hook": event.hook,
        "release_id": event.release_id,
        "app": event.app,
        "host": event.host,
        "dry_run": event.dry_run,
        # Files the release touches; `unchanged` entries (present with -v) are not changes.
        "changes": sum(1 for c in event.changes if c.action != types.ChangeAction.UNCHANGED),
        "error": event.error,
        "outcome": event.outcome,
    }
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n"


def _append(path: str, line: str) -> None:
    # One write on an O_APPEND descriptor (wasmtime appends with pwritev2 RWF_APPEND), so lines
    # from concurrent runners do not interleave; fsync so the line outlives a crash right after.
    data = line.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)
