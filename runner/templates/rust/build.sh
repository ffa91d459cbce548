#!/usr/bin/env bash
# Builds @NAME@.wasm, a WASM component, from this dir: ./build.sh
# Needs cargo from rustup (it adds the wasm32-wasip2 target). CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
rustup target add wasm32-wasip2 >/dev/null
cargo build --release --target wasm32-wasip2
cp "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/@CRATE@.wasm" @NAME@.wasm
echo "built $PWD/@NAME@.wasm"
