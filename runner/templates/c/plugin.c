// @NAME@: a runner plugin, built against runner:plugin@@WIT@ (wit/plugin.wit, as
// `runner plugin wit` writes it). build.sh generates plugin.h and plugin.c from the WIT.
#include <stdio.h>
#include <stdlib.h>
#include "plugin.h"

static const char *HOOKS[] = {@HOOKS@};
#define N (sizeof HOOKS / sizeof *HOOKS)

// Its name, the hooks it wants, and the authority it needs (runner.toml's `allow` grants it).
// What it returns is malloc'd: the bindings free it once runner has read it.
void exports_plugin_describe(plugin_info_t *ret) {
    *ret = (plugin_info_t){.hooks = {calloc(N, sizeof(plugin_string_t)), N}};
    plugin_string_dup(&ret->name, "@NAME@");
    plugin_string_dup(&ret->version, "0.1.0");
    for (size_t i = 0; i < N; i++) plugin_string_dup(&ret->hooks.ptr[i], HOOKS[i]);
}

// One hook call: a line in runner's log, and the release goes on. (Each call runs in a fresh
// instance, so the event need not be freed.)
void exports_plugin_handle(plugin_event_t *event, plugin_decision_t *ret) {
    char line[512];
    int n = snprintf(line, sizeof line, "%.*s for %.*s: %zu files", (int)event->hook.len,
                     (char *)event->hook.ptr, (int)event->app.len, (char *)event->app.ptr,
                     event->changes.len);
    plugin_string_t msg = {(uint8_t *)line, n < (int)sizeof line ? (size_t)n : sizeof line - 1};
    runner_plugin_host_log(RUNNER_PLUGIN_HOST_LEVEL_INFO, &msg);
    ret->tag = RUNNER_PLUGIN_TYPES_DECISION_PROCEED;
}
