"""@NAME@: a runner plugin, built against runner:plugin@@WIT@ (wit/plugin.wit, as
`runner plugin wit` writes it)."""

import wit_world
from wit_world.imports import host, types

HOOKS = [@HOOKS@]


class WitWorld(wit_world.WitWorld):
    def describe(self) -> types.Info:
        # The authority it needs: runner.toml's `allow` grants it.
        needs = types.Capabilities(exec=[], dirs=[], http=[])
        return types.Info(name="@NAME@", version="0.1.0", hooks=HOOKS, needs=needs@CONCURRENT_PY@)

    def handle(self, event: types.Event) -> types.Decision:
        # One hook call: a line in runner's log, and the release goes on.
        host.log(host.Level.INFO, f"{event.hook} for {event.app}: {len(event.changes)} files")
        return types.Decision_Proceed()
