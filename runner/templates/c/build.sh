#!/usr/bin/env bash
# Builds @NAME@.wasm, a WASM component, from this dir: ./build.sh
# Needs Debian's clang, lld, wasi-libc and libclang-rt-14-dev-wasm32, curl, and cargo. Installs,
# once, into $TOOLS (default ./.tools): wit-bindgen-cli (the C bindings of wit/), wasm-tools
# (makes the component) and the WASI preview1 adapter (from the crate that carries it, checked
# against its sha256).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
missing() { echo "build.sh: $1 not found: $2" >&2; exit 1; }
command -v clang >/dev/null || missing clang "apt-get install clang"
command -v wasm-ld >/dev/null || missing wasm-ld "apt-get install lld"
command -v curl >/dev/null || missing curl "apt-get install curl"
command -v cargo >/dev/null || missing cargo "install Rust with rustup"
[[ "$(clang --target=wasm32-wasi -print-file-name=libc.a)" == /* ]] ||
    missing "wasi-libc for clang" "apt-get install wasi-libc"
[[ -e "$(clang --target=wasm32-wasi -print-libgcc-file-name)" ]] ||
    missing "compiler-rt for wasm32" "apt-get install libclang-rt-14-dev-wasm32"
tools="$(realpath -m "${TOOLS:-.tools}")"
wit_bindgen=0.61.1 wasm_tools=1.258.3 adapter=48.0.8
adapter_sha256=d3a1674fffec103c1d4367d4417a3bd5423cde3cfd56ff3b326b5fc72c0a8ebd
mkdir -p "$tools" build
if [[ "$("$tools/bin/wit-bindgen" --version 2>/dev/null || true)" != "wit-bindgen-cli $wit_bindgen" ]]; then
    cargo install --quiet --locked --root "$tools" wit-bindgen-cli --version "$wit_bindgen" \
        --no-default-features --features c
fi
if [[ "$("$tools/bin/wasm-tools" --version 2>/dev/null || true)" != "wasm-tools $wasm_tools" ]]; then
    cargo install --quiet --locked --root "$tools" wasm-tools --version "$wasm_tools" \
        --no-default-features --features component
fi
reactor="$tools/wasi_snapshot_preview1.reactor-$adapter.wasm"
if [[ ! -s "$reactor" ]]; then
    crate="$tools/adapter-$adapter.crate"
    curl -sSfL -o "$crate" "https://static.crates.io/crates/wasi-preview1-component-adapter-provider/wasi-preview1-component-adapter-provider-$adapter.crate"
    echo "$adapter_sha256  $crate" | sha256sum --check --quiet
    tar -xzOf "$crate" "wasi-preview1-component-adapter-provider-$adapter/artefacts/wasi_snapshot_preview1.reactor.wasm" > "$reactor.tmp"
    mv "$reactor.tmp" "$reactor"
    rm "$crate"
fi
"$tools/bin/wit-bindgen" c wit --world plugin --out-dir build >/dev/null
# A reactor module (no main) for wasm32-wasi, with the component type wit-bindgen wrote.
clang --target=wasm32-wasi -O2 -Wall -Werror -mexec-model=reactor -Ibuild \
    plugin.c build/plugin.c build/plugin_component_type.o -o build/@NAME@.core.wasm
"$tools/bin/wasm-tools" component new build/@NAME@.core.wasm \
    --adapt "wasi_snapshot_preview1=$reactor" -o @NAME@.wasm
echo "built $PWD/@NAME@.wasm"
