#!/usr/bin/env bash
# Builds @NAME@.wasm, a WASM component, from this dir: ./build.sh
# Needs node and npm; installs jco into ./node_modules. The QuickJS engine: small and fast.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
[[ -x node_modules/.bin/jco ]] || npm install --no-audit --no-fund --loglevel=error
# Sync exports: runner's engine does not enable the component-model async ABI.
node_modules/.bin/jco componentize plugin.js --wit wit --world-name plugin \
    --backend quickjs --backend-qjs-disable-async -o @NAME@.wasm
echo "built $PWD/@NAME@.wasm"
