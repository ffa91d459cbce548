// Runs the built audit-log component in node against a fake runner host and checks the log it writes.
// The component is transpiled with jco; WASI comes from @bytecodealliance/preview2-shim, with only
// the audit log's directory preopened, at its host path, as runner does. Both come from
// plugins/freeze-gate-js/node_modules (its build.sh or `npm ci` there installs them).
// Usage: node check.mjs [component.wasm]   (default: <repo>/target/plugins/audit-log-py.wasm)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// componentize-py's CPython uses extended-const, which node 20's V8 has behind a flag.
setFlagsFromString('--experimental-wasm-extended-const');

const here = dirname(fileURLToPath(import.meta.url));
const jsTools = resolve(here, '../freeze-gate-js/node_modules');
const wasm = resolve(process.argv[2] ?? join(here, '../../target/plugins/audit-log-py.wasm'));
if (!existsSync(wasm)) {
  console.error(`check: ${wasm} not found; run ${join(here, 'build.sh')} first`);
  process.exit(2);
}
if (!existsSync(join(jsTools, '.bin/jco'))) {
  console.error(`check: needs jco: run (cd ${dirname(jsTools)} && npm ci) first`);
  process.exit(2);
}
const wasi = await import(pathToFileURL(join(jsTools, '@bytecodealliance/preview2-shim/dist/nodejs/index.js')));

const logDir = mkdtempSync(join(tmpdir(), 'audit-log-check-'));
const file = join(logDir, 'audit.jsonl');
wasi.filesystem._setPreopens({ [logDir]: logDir });
// CPython's os.open goes through wasi-libc and the preview1 adapter, which ask for mutate-directory
// on every write open. Wasmtime ignores that flag when opening a file; the node shim refuses it
// ("unsupported"), so drop it here for non-directory opens.
const { Descriptor } = wasi.filesystem.types;
const openAt = Descriptor.prototype.openAt;
Descriptor.prototype.openAt = function (pathFlags, path, openFlags, descriptorFlags) {
  const flags = openFlags.directory ? descriptorFlags : { ...descriptorFlags, mutateDirectory: false };
  return openAt.call(this, pathFlags, path, openFlags, flags);
};

const logs = [];
const host = {
  log: (level, message) => logs.push([level, message]),
  exec: () => {
    throw new Error('exec not granted');
  },
  http: () => {
    throw new Error('http not granted');
  },
  stateGet: () => undefined,
  stateSet: () => {},
  sleep: () => {},
};
const fresh = await loader(wasm, { 'runner:plugin/host': host });
const plugin = await fresh();

// The plugin's stderr goes to a file, as runner captures it: a failed call shows it.
const stderrDir = mkdtempSync(join(tmpdir(), 'audit-log-stderr-'));
const stderrDescriptor = wasi.filesystem._createPreopenDescriptor(stderrDir);
/// Calls handle in a fresh instance: [the decision or undefined, its stderr, the error it threw].
async function call(ev) {
  const out = stderrDescriptor.openAt({ symlinkFollow: false }, 'stderr', { create: true, truncate: true }, { write: true });
  wasi.cli._setStderr(out.writeViaStream(0n));
  let decision, thrown;
  try {
    decision = (await fresh()).handle(ev);
  } catch (e) {
    thrown = String(e.message ?? e);
  }
  await new Promise((r) => setTimeout(r, 50)); // the shim writes through a worker
  return [decision, readFileSync(join(stderrDir, 'stderr'), 'utf8'), thrown];
}

let failed = 0;
function check(name, got, want) {
  const ok = JSON.stringify(got) === JSON.stringify(want);
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : `\n     got  ${JSON.stringify(got)}\n     want ${JSON.stringify(want)}`}`);
}

const change = (path, action) => ({ path, action, oldSha256: 'aa', newSha256: 'bb', oldSize: 1n, newSize: 2n });
function event(hook, config, extra = {}) {
  const [phase, step] = hook.startsWith('release-')
    ? [hook === 'release-start' ? 'before' : 'after', 'release']
    : hook.split(/-(.*)/);
  return {
    hook,
    step,
    phase,
    releaseId: '20261204-180000-pdms',
    app: 'pdms',
    host: 'app1.example',
    changes: [change('lib/a.jar', 'modified'), change('lib/b.jar', 'added'), change('lib/c.jar', 'unchanged')],
    dryRun: false,
    error: undefined,
    outcome: undefined,
    config: Object.entries(config),
    ...extra,
  };
}
const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
const proceed = { tag: 'proceed' };

try {
  check('describe', plugin.describe(), {
    name: 'audit-log',
    version: '0.1.0',
    hooks: ['release-start', 'release-end', 'after-install', 'after-rollback'],
    needs: { exec: [], dirs: [], http: [] },
  });

  const before = Date.now();
  check('release-start proceeds', plugin.handle(event('release-start', { file })), proceed);
  check('logs at debug', logs, [['debug', `audit log: release-start appended to ${file}`]]);
  check('after-install proceeds', plugin.handle(event('after-install', { file }, { dryRun: true })), proceed);
  check('after-rollback proceeds', plugin.handle(event('after-rollback', { file }, { error: 'verify: timed out' })), proceed);
  check('release-end proceeds', plugin.handle(event('release-end', { file }, { outcome: 'rolled-back', error: 'verify: timed out' })), proceed);
  const got = lines();
  check('one line per call', got.length, 4);
  const { time, ...first } = got[0] ?? {};
  check('line fields', Object.keys(got[0] ?? {}), ['time', 'hook', 'release_id', 'app', 'host', 'dry_run', 'changes', 'error', 'outcome']);
  check('release-start line', first, {
    hook: 'release-start', release_id: '20261204-180000-pdms', app: 'pdms', host: 'app1.example',
    dry_run: false, changes: 2, error: null, outcome: null,
  });
  check('time is ISO-8601 UTC, now', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(time) && Math.abs(Date.parse(time) - before) < 60_000, true);
  check('dry run recorded', got[1]?.dry_run, true);
  check('release-end line', [got[3]?.hook, got[3]?.outcome, got[3]?.error], ['release-end', 'rolled-back', 'verify: timed out']);

  // A path outside every preopen is what a missing grant looks like. A failed write fails the
  // call (a trap), so runner applies the plugin's on_error; its stderr says why.
  const denied = '/var/log/runner-not-granted/audit.jsonl';
  const [d1, err1, threw1] = await call(event('release-start', { file: denied }));
  check('write failure traps', [d1, /unreachable/.test(threw1 ?? '')], [undefined, true]);
  check('  stderr says why', err1.includes(`AuditLogError: audit log: cannot append to ${denied}: `), true);
  const [d2, err2] = await call(event('release-start', {}));
  check('no file configured traps', [d2, err2.includes('AuditLogError: audit log: config `file` is not set')], [undefined, true]);
  check('a fresh instance works after a trap', (await call(event('after-install', { file })))[0], proceed);
  check('nothing else written', lines().length, 5);
} finally {
  rmSync(logDir, { recursive: true, force: true });
  rmSync(stderrDir, { recursive: true, force: true });
}

console.log(failed ? `\n${failed} check(s) failed` : '\nall checks passed');
process.exit(failed ? 1 : 0);

/// Transpiles a component with jco once; returns a function making a fresh instance, as runner does
/// per hook call (a trapped instance cannot be entered again). `extra` adds/overrides imports.
async function loader(path, extra) {
  const out = mkdtempSync(join(tmpdir(), 'runner-plugin-check-'));
  try {
    const r = spawnSync(join(jsTools, '.bin/jco'), ['transpile', path, '-o', out, '--name', 'plugin', '--instantiation', 'async', '--no-typescript', '-q'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`jco transpile ${basename(path)} failed`);
    const { instantiate } = await import(pathToFileURL(join(out, 'plugin.js')));
    const modules = new Map();
    for (const name of readdirSync(out).filter((n) => n.endsWith('.wasm'))) {
      modules.set(name, await WebAssembly.compile(await readFile(join(out, name))));
    }
    const camel = (s) => s.replace(/-(\w)/g, (_, c) => c.toUpperCase());
    const imports = new Proxy(extra, {
      get(target, key) {
        if (key in target) return target[key];
        const m = /^wasi:([\w-]+)\/([\w-]+)$/.exec(key);
        return m ? wasi[camel(m[1])]?.[camel(m[2])] : undefined;
      },
    });
    return () => instantiate((name) => modules.get(name), imports);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
