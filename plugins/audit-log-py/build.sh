#!/usr/bin/env bash
# Builds the audit-log plugin into a WASM component with componentize-py.
# Usage: plugins/audit-log-py/build.sh [OUT]   (default OUT: <repo>/target/plugins/audit-log-py.wasm)
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:-$repo/target/plugins/audit-log-py.wasm}"
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"

venv="$repo/target/py-venv"
if ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
if [[ "$("$venv/bin/componentize-py" --version 2>/dev/null || true)" != "componentize-py $COMPONENTIZE_PY_VERSION" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "componentize-py==$COMPONENTIZE_PY_VERSION"
fi

# componentize generates the `wit_world` bindings itself (none are kept in the repo) and bundles
# CPython (3.14, whatever python3 is here) with only the modules app.py imports.
cd "$here"
"$venv/bin/componentize-py" -d "$repo/wit/0.1.0" -w plugin componentize app \
    -p "$here" -o "$out"
