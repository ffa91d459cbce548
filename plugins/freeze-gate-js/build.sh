#!/usr/bin/env bash
# Builds the freeze-gate plugin into a WASM component with jco componentize.
# Usage: plugins/freeze-gate-js/build.sh [OUT]   (default OUT: <repo>/target/plugins/freeze-gate-js.wasm)
#   ENGINE=quickjs (default): jco's QuickJS backend (componentize-qjs), ~1.7 MB, 5x faster per call
#   ENGINE=starlingmonkey:    jco's StarlingMonkey backend (componentize-js, SpiderMonkey), ~12.6 MB
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$repo/target/plugins/freeze-gate-js.wasm}"
engine="${ENGINE:-quickjs}"
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"

cd "$here"
# A lockfile newer than node_modules (a pull that moved a pin) reinstalls too. package.json pins
# @bytecodealliance/preview2-shim to 0.26.0 through `overrides`: 0.26.1 gives node no default
# preopen, and jco 1.35 then cannot read the WIT ("failed to get path metadata ... os error 44").
if [[ ! -x node_modules/.bin/jco || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi

case "$engine" in
quickjs)
    # Sync exports: the async variant needs the component-model async ABI (task.cancel …),
    # which runner's engine does not enable.
    node_modules/.bin/jco componentize freeze-gate.js \
        --wit "$repo/wit/0.1.0" --world-name plugin \
        --backend quickjs --backend-qjs-disable-async \
        -o "$out"
    ;;
starlingmonkey)
    # --disable http fetch-event: no wasi:http imports at all (with only `http`, wasi:http/types
    # stays); plugins reach HTTP through host.http. random: unused.
    node_modules/.bin/jco componentize freeze-gate.js \
        --wit "$repo/wit/0.1.0" --world-name plugin \
        --disable http fetch-event random \
        -o "$out"
    ;;
*)
    echo "build.sh: ENGINE must be quickjs or starlingmonkey, not $engine" >&2
    exit 2
    ;;
esac
