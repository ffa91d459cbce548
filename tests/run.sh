#!/usr/bin/env bash
# Every test, on a fresh machine: installs what the tests need (JDK, nginx, the wasm32-wasip2
# target, the Python, JS and C plugin toolchains, sshd, rsync, the musl target and the packaging
# tools), then fmt, clippy, the static binary and its packages, and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v javac >/dev/null || need+=(default-jdk-headless)
command -v curl >/dev/null || need+=(curl)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v script >/dev/null || need+=(bsdutils)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v rsync >/dev/null || need+=(rsync)
command -v node >/dev/null || need+=(nodejs npm)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
command -v musl-gcc >/dev/null || need+=(musl-tools)
command -v rpm >/dev/null || need+=(rpm)
# The C plugin template: clang 14 for wasm32-wasi, its linker, libc and builtins.
command -v clang >/dev/null || need+=(clang)
command -v wasm-ld >/dev/null || need+=(lld)
[ -e /usr/lib/wasm32-wasi/libc.a ] || need+=(wasi-libc)
compgen -G '/usr/lib/llvm-14/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a' >/dev/null || need+=(libclang-rt-14-dev-wasm32)
if [ ${#need[@]} -gt 0 ]; then
  echo "[tests] installing ${need[*]}" >&2
  # Tests start their own nginx and sshd on 127.0.0.1; keep the packages from starting system ones.
  policy=/usr/sbin/policy-rc.d
  [ -e "$policy" ] || { printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; trap 'rm -f "$policy"' EXIT; }
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

# The plugins the end-to-end tests load (the test harness also builds them if missing).
cargo build --locked --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml --target-dir target/plugins
bash plugins/audit-log-py/build.sh
bash plugins/freeze-gate-js/build.sh
ENGINE=starlingmonkey bash plugins/freeze-gate-js/build.sh target/plugins/freeze-gate-js-sm.wasm
# The C template's tools (wit-bindgen-cli, wasm-tools, the WASI adapter), installed by its own
# build.sh into target/c-tools, where the test that builds the template looks for them.
cargo build --locked -p runner
rm -rf target/tmp/c-tools-warm && mkdir -p target/tmp/c-tools-warm
target/debug/runner plugin new warm --language c --dir target/tmp/c-tools-warm >/dev/null
TOOLS="$PWD/target/c-tools" target/tmp/c-tools-warm/warm/build.sh

# The static binary and the packages (runner/dist/package.sh), checked in an empty chroot and a
# throwaway root; the fleet tests then run it as their hosts' agent.
bash runner/dist/package.sh
bash tests/dist.sh
export RUNNER_E2E_AGENT="$PWD/target/dist/runner-x86_64-linux-static"

cargo test --workspace --locked
