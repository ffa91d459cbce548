#!/usr/bin/env bash
# The quickstart: a sandbox with a real JVM app (built by javac/jar) running build 1.0.0, a new
# build 2.0.0 staged, a real WASM plugin (restart-command: the restart runs through the plugin's
# exec grant), then `runner plugin list`, `plan`, `release`, `status`, `restart`, `history`,
# `rollback`.
#
# usage: examples/quickstart/run.sh [sandbox-dir]     (default: target/quickstart)
# Everything stays inside the sandbox dir; the app listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
SANDBOX=$(realpath -m "${1:-target/quickstart}")

command -v javac >/dev/null || {
  echo "[quickstart] installing a JDK" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless curl >/dev/null
}

echo "[quickstart] building runner and the Rust plugins"
cargo build -q -p runner
RUNNER="$REPO/target/debug/runner"
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
cargo build -q --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml --target-dir target/plugins
PLUGINS="$REPO/target/plugins/wasm32-wasip2/release"

SERVICE="$REPO/examples/demo-app/service.sh"
[ -d "$SANDBOX/deploy/demo" ] && "$SERVICE" stop "$SANDBOX/deploy/demo" >/dev/null 2>&1 || true
rm -rf "$SANDBOX"
mkdir -p "$SANDBOX"/{staging/demo,deploy/demo/conf,backup,state,builds}
trap '"$SERVICE" stop "$SANDBOX/deploy/demo" >/dev/null 2>&1 || true' EXIT

echo "[quickstart] building the demo app (1.0.0 deployed, 2.0.0 staged)"
bash examples/demo-app/build.sh "$SANDBOX/deploy/demo" 1.0.0 1.0.0
bash examples/demo-app/build.sh "$SANDBOX/staging/demo" 2.0.0 2.0.0
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "$PORT" > "$SANDBOX/deploy/demo/conf/port"

sed -e "s|@SANDBOX@|$SANDBOX|g" -e "s|@SERVICE@|$SERVICE|g" -e "s|@PORT@|$PORT|g" -e "s|@PLUGINS@|$PLUGINS|g" \
  examples/quickstart/runner.toml.in > "$SANDBOX/runner.toml"
export RUNNER_CONFIG="$SANDBOX/runner.toml"

"$SERVICE" start "$SANDBOX/deploy/demo" >/dev/null
until curl -sf "http://127.0.0.1:$PORT/actuator/health" >/dev/null; do sleep 0.1; done
echo "[quickstart] serving before the release: $(curl -s "http://127.0.0.1:$PORT/version")"

set -x
"$RUNNER" plugin list
"$RUNNER" plan demo --entries
"$RUNNER" release demo --yes
{ set +x; } 2>/dev/null
echo "[quickstart] serving after the release: $(curl -s "http://127.0.0.1:$PORT/version")"
set -x
"$RUNNER" status
"$RUNNER" restart demo --yes
"$RUNNER" history demo
"$RUNNER" rollback demo --yes
{ set +x; } 2>/dev/null
echo "[quickstart] serving after the rollback: $(curl -s "http://127.0.0.1:$PORT/version")"
echo "[quickstart] done; the sandbox is $SANDBOX (config: $SANDBOX/runner.toml)"
