// @NAME@: a runner plugin, built against runner:plugin@@WIT@ (wit/plugin.wit, as
// `runner plugin wit` writes it).

import { log } from 'runner:plugin/host@@WIT@';

const HOOKS = [@HOOKS@];

// Its name, the hooks it wants, and the authority it needs (runner.toml's `allow` grants it).
export function describe() {
  const needs = { exec: [], dirs: [], http: [] };
  return { name: '@NAME@', version: '0.1.0', hooks: HOOKS, needs@CONCURRENT@ };
}

// One hook call: a line in runner's log, and the release goes on.
export function handle(event) {
  log('info', `${event.hook} for ${event.app}: ${event.changes.length} files`);
  return { tag: 'proceed' };
}
