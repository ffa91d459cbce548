// Runs the built freeze-gate component in node against a fake runner host and checks its decisions.
// The component is transpiled with jco; WASI comes from @bytecodealliance/preview2-shim.
// Usage: node check.mjs [component.wasm]   (default: <repo>/target/plugins/freeze-gate-js.wasm)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import * as wasi from '@bytecodealliance/preview2-shim';

// The QuickJS build uses extended-const, which node 20's V8 has behind a flag.
setFlagsFromString('--experimental-wasm-extended-const');

const here = dirname(fileURLToPath(import.meta.url));
const wasm = resolve(process.argv[2] ?? join(here, '../../target/plugins/freeze-gate-js.wasm'));
if (!existsSync(wasm)) {
  console.error(`check: ${wasm} not found; run ${join(here, 'build.sh')} first`);
  process.exit(2);
}

// --- load: jco transpile + instantiate with WASI from the shim and a fake runner host ---
const logs = [];
const state = new Map();
const host = {
  log: (level, message) => logs.push([level, message]),
  exec: () => {
    throw new Error('exec not granted');
  },
  http: () => {
    throw new Error('http not granted');
  },
  stateGet: (key) => state.get(key),
  stateSet: (key, value) => void state.set(key, value),
  sleep: () => {},
};
const plugin = await load(wasm, { 'runner:plugin/host': host });

// --- checks ---
let failed = 0;
function check(name, got, want) {
  const ok = JSON.stringify(got) === JSON.stringify(want);
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : `\n     got  ${JSON.stringify(got)}\n     want ${JSON.stringify(want)}`}`);
}

function event(hook, config, extra = {}) {
  const [phase, step] = hook === 'release-start' ? ['before', 'release'] : hook.split(/-(.*)/);
  return {
    hook,
    step,
    phase,
    releaseId: '20261204-180000-pdms',
    app: 'pdms',
    host: 'localhost',
    changes: [{ path: 'lib/a.jar', action: 'modified', oldSha256: 'aa', newSha256: 'bb', oldSize: 1n, newSize: 2n }],
    dryRun: false,
    error: undefined,
    outcome: undefined,
    config: Object.entries(config).filter(([, v]) => v !== undefined),
    ...extra,
  };
}

const holidays = JSON.stringify([
  { start: '2026-12-24T00:00:00Z', end: '2026-12-27T00:00:00Z', reason: 'holidays' },
]);
const weekend = JSON.stringify([{ weekly: 'Fri 18:00-Mon 08:00', tz: '+08:00', reason: 'weekend' }]);
const decide = (hook, windows, now, extra) => plugin.handle(event(hook, { windows, now }, extra));
const abort = (val) => ({ tag: 'abort', val });
const proceed = { tag: 'proceed' };

check('describe', plugin.describe(), {
  name: 'freeze-gate',
  version: '0.1.0',
  hooks: ['release-start', 'before-install'],
  needs: { exec: [], dirs: [], http: [] },
});

const untilXmas = abort('change freeze: holidays until 2026-12-27T00:00:00Z');
check('inside a window', decide('release-start', holidays, '2026-12-25T10:00:00Z'), untilXmas);
check('at its start', decide('release-start', holidays, '2026-12-24T00:00:00Z'), untilXmas);
check('offset in now: inside', decide('release-start', holidays, '2026-12-24T09:00:00+08:00'), untilXmas);
check('offset in now: outside', decide('release-start', holidays, '2026-12-24T07:00:00+08:00'), proceed);
check('before-install backstop', decide('before-install', holidays, '2026-12-25T10:00:00Z'), untilXmas);
check('before it', decide('release-start', holidays, '2026-12-23T23:59:59Z'), proceed);
check('at its end', decide('release-start', holidays, '2026-12-27T00:00:00Z'), proceed);
check('after-hook never blocked', decide('after-install', holidays, '2026-12-25T10:00:00Z'), proceed);
check('rollback never blocked', decide('before-rollback', holidays, '2026-12-25T10:00:00Z'), proceed);
check('dry run aborts too', decide('release-start', holidays, '2026-12-25T10:00:00Z', { dryRun: true }), untilXmas);
check('no windows', decide('release-start', undefined, '2026-12-25T10:00:00Z'), proceed);

// 2026-12-04 is a Friday. The window is at +08:00, so Fri 18:00 there is Fri 10:00Z.
const untilMonday = abort('change freeze: weekend until 2026-12-07T08:00+08:00');
check('weekly: Fri 17:59 local', decide('release-start', weekend, '2026-12-04T17:59:00+08:00'), proceed);
check('weekly: Fri 18:00 local', decide('release-start', weekend, '2026-12-04T18:00:00+08:00'), untilMonday);
check('weekly: Fri 10:00Z', decide('release-start', weekend, '2026-12-04T10:00:00Z'), untilMonday);
check('weekly: Fri 09:59Z', decide('release-start', weekend, '2026-12-04T09:59:00Z'), proceed);
check('weekly: Sat noon', decide('release-start', weekend, '2026-12-05T12:00:00+08:00'), untilMonday);
check('weekly: Sun 23:30Z = Mon 07:30 local', decide('release-start', weekend, '2026-12-06T23:30:00Z'), untilMonday);
check('weekly: Mon 08:00 local', decide('release-start', weekend, '2026-12-07T08:00:00+08:00'), proceed);
check('weekly: Wed', decide('release-start', weekend, '2026-12-09T12:00:00+08:00'), proceed);
check(
  'weekly in UTC, inside the week',
  decide('release-start', JSON.stringify({ weekly: 'Wed 12:00-Wed 14:00', reason: 'maintenance' }), '2026-12-09T13:00:00Z'),
  abort('change freeze: maintenance until 2026-12-09T14:00Z'),
);

// Unquoted TOML datetimes (start = 2026-12-24T00:00:00Z) reach the plugin in the toml crate's form.
const tomlDate = (s) => ({ $__toml_private_datetime: s });
const unquoted = JSON.stringify([{ start: tomlDate('2026-12-24T00:00:00Z'), end: tomlDate('2026-12-27T00:00:00Z'), reason: 'holidays' }]);
check('unquoted TOML datetimes', decide('release-start', unquoted, JSON.stringify(tomlDate('2026-12-25T10:00:00Z'))), untilXmas);
check(
  'unquoted TOML local datetime',
  decide('release-start', JSON.stringify([{ start: tomlDate('2026-12-24T00:00:00'), end: '2026-12-27T00:00:00Z' }]), '2026-12-25T10:00:00Z').val,
  'freeze-gate: bad config: windows[0].start: "2026-12-24T00:00:00" needs a "Z" or "+hh:mm" offset',
);

const both = JSON.stringify([
  { start: '2026-12-24T00:00:00Z', end: '2026-12-25T00:00:00Z', reason: 'eve' },
  { start: '2026-12-24T00:00:00Z', end: '2026-12-27T00:00:00Z', reason: 'holidays' },
]);
check('overlap: the one ending last', decide('release-start', both, '2026-12-24T12:00:00Z'), untilXmas);

// Without `now` the component reads the WASI wall clock.
const always = JSON.stringify([{ start: '2000-01-01T00:00:00Z', end: '2100-01-01T00:00:00Z', reason: 'test' }]);
const never = JSON.stringify([{ start: '2000-01-01T00:00:00Z', end: '2000-01-02T00:00:00Z', reason: 'test' }]);
check('real clock inside', decide('release-start', always), abort('change freeze: test until 2100-01-01T00:00:00Z'));
check('real clock outside', decide('release-start', never), proceed);

const bad = (windows, now = '2026-12-25T10:00:00Z') => decide('release-start', windows, now).val;
check('bad JSON fails closed', bad('[{').startsWith('freeze-gate: bad config: windows is not JSON'), true);
check('no offset', bad(JSON.stringify([{ start: '2026-12-24T00:00:00', end: '2026-12-27T00:00:00Z' }])),
  'freeze-gate: bad config: windows[0].start: "2026-12-24T00:00:00" needs a "Z" or "+hh:mm" offset');
check('named tz', bad(JSON.stringify([{ weekly: 'Fri 18:00-Mon 08:00', tz: 'Asia/Shanghai' }])),
  'freeze-gate: bad config: windows[0].tz must be a fixed UTC offset like "+08:00", not "Asia/Shanghai"');
check('bad weekly', bad(JSON.stringify([{ weekly: 'Fri-Mon' }])),
  'freeze-gate: bad config: windows[0].weekly must look like "Fri 18:00-Mon 08:00", not "Fri-Mon"');
check('end shown as written', decide('release-start', JSON.stringify([{ start: '2026-12-24T00:00:00+08:00', end: '2026-12-27T00:00:00+08:00', reason: 'holidays' }]), '2026-12-25T10:00:00Z'),
  abort('change freeze: holidays until 2026-12-27T00:00:00+08:00'));
check('start after end', bad(JSON.stringify([{ start: '2026-12-27T00:00:00Z', end: '2026-12-24T00:00:00Z' }])),
  'freeze-gate: bad config: windows[0]: start 2026-12-27T00:00:00Z is not before end 2026-12-24T00:00:00Z');
check('bad now', bad(holidays, 'tomorrow'), 'freeze-gate: bad config: now: "tomorrow" needs a "Z" or "+hh:mm" offset');

logs.length = 0;
decide('release-start', holidays, '2026-12-25T10:00:00Z');
decide('release-start', holidays, '2026-12-28T10:00:00Z');
check('logs the decision', logs, [
  ['warn', 'freeze-gate: 2026-12-25T10:00:00.000Z is inside a freeze window: abort: change freeze: holidays until 2026-12-27T00:00:00Z'],
  ['info', 'freeze-gate: no freeze window covers 2026-12-28T10:00:00.000Z: proceed'],
]);

console.log(failed ? `\n${failed} check(s) failed` : '\nall checks passed');
process.exit(failed ? 1 : 0);

/// Transpiles a component with jco into a temp dir and instantiates it; `extra` adds/overrides imports.
async function load(path, extra) {
  const out = mkdtempSync(join(tmpdir(), 'runner-plugin-check-'));
  try {
    const jco = join(here, 'node_modules/.bin/jco');
    const r = spawnSync(jco, ['transpile', path, '-o', out, '--name', 'plugin', '--instantiation', 'async', '--no-typescript', '-q'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`jco transpile ${basename(path)} failed`);
    const { instantiate } = await import(pathToFileURL(join(out, 'plugin.js')));
    const camel = (s) => s.replace(/-(\w)/g, (_, c) => c.toUpperCase());
    const imports = new Proxy(extra, {
      get(target, key) {
        if (key in target) return target[key];
        const m = /^wasi:([\w-]+)\/([\w-]+)$/.exec(key);
        return m ? wasi[camel(m[1])]?.[camel(m[2])] : undefined;
      },
    });
    const { readFile } = await import('node:fs/promises');
    const core = async (name) => WebAssembly.compile(await readFile(join(out, name)));
    return await instantiate(core, imports);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
