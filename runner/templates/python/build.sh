#!/usr/bin/env bash
# Builds @NAME@.wasm, a WASM component, from this dir: ./build.sh
# Needs python3 with venv; installs componentize-py into $VENV (default: ./.venv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
venv="${VENV:-.venv}"
version=0.25.1
"$venv/bin/python" -c '' 2>/dev/null || python3 -m venv "$venv"
if [[ "$("$venv/bin/componentize-py" --version 2>/dev/null || true)" != "componentize-py $version" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "componentize-py==$version"
fi
"$venv/bin/componentize-py" -d wit -w plugin componentize app -p . -o @NAME@.wasm
echo "built $PWD/@NAME@.wasm"
