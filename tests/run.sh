#!/usr/bin/env bash
# Every test, on a fresh machine: installs what the tests need, then fmt, clippy and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v javac >/dev/null || need+=(default-jdk-headless)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "[tests] installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add wasm32-wasip2 >/dev/null

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo fmt --all --check --manifest-path plugins/Cargo.toml
cargo clippy --locked --manifest-path plugins/Cargo.toml --target wasm32-wasip2 --target-dir target/plugins -- -D warnings
cargo test --locked --manifest-path plugins/Cargo.toml -p nginx-drain --target x86_64-unknown-linux-gnu --target-dir target/plugins
cargo test --workspace --locked
