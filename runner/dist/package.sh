#!/usr/bin/env bash
# Builds what runner ships, into target/dist/: the static binary (x86_64 musl, no dynamic
# dependency: it starts on CentOS 7 as on Debian 12), its .deb and its .rpm, each holding
# /usr/bin/runner, the runner-watch unit, /etc/runner/runner.toml (a config file an upgrade
# keeps), shell completions and the man page. Installs the musl target, musl-tools (ring's C
# code), cargo-deb and cargo-generate-rpm when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Only what this run builds: an older version's packages would be picked up beside it.
rm -rf target/dist
triple=x86_64-unknown-linux-musl
rustup target add "$triple" >/dev/null
command -v musl-gcc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null; }
command -v cargo-deb >/dev/null || cargo install --locked cargo-deb
command -v cargo-generate-rpm >/dev/null || cargo install --locked cargo-generate-rpm

cargo build --release --locked --target "$triple" -p runner
out="target/$triple/release"
mkdir -p "$out/dist" target/dist
"$out/runner" completions bash > "$out/dist/runner.bash"
"$out/runner" completions zsh > "$out/dist/_runner"
"$out/runner" completions fish > "$out/dist/runner.fish"
"$out/runner" man > "$out/dist/runner.1"
cp "$out/runner" target/dist/runner-x86_64-linux-static

cargo deb --no-build --no-strip -p runner --target "$triple" --output target/dist/
cargo generate-rpm -p runner --target "$triple" --output target/dist/
ls -l target/dist/
