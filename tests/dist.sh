#!/usr/bin/env bash
# What runner ships (runner/dist/package.sh built it into target/dist/): the static binary
# starts in an empty chroot (no loader, no libc), the .deb installs into a throwaway root, and
# both packages hold the binary, the unit, the config file (kept on upgrade), the completions
# and the man page.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/dist/runner-x86_64-linux-static}
fail() { echo "dist: $*" >&2; exit 1; }

if readelf -l "$bin" | grep -q INTERP; then fail "$bin asks for a dynamic loader"; fi
readelf -d "$bin" | grep -q NEEDED && fail "$bin needs shared libraries"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/empty" && cp "$bin" "$root/empty/runner"
version=$(chroot "$root/empty" /runner --version)
[ "$version" = "runner $(grep -m1 '^version' Cargo.toml | cut -d'"' -f2)" ] || fail "--version said: $version"
# The agent speaks its protocol there: a client's hello (a frame: length, kind 0, JSON) gets
# the agent's hello back; a loader error would be exit 127, "No such file or directory".
protocol=$(sed -n 's/^pub const VERSION: u32 = \([0-9]*\);/\1/p' runner/src/agent/protocol.rs)
python3 -c '
import json, struct, sys
m = json.dumps({"t": "hello", "version": int(sys.argv[1]), "runner": "dist-test"}).encode()
sys.stdout.buffer.write(struct.pack(">I", len(m) + 1) + b"\0" + m)
' "$protocol" > "$root/hello"
chroot "$root/empty" /runner agent --stdio --root /tmp < "$root/hello" > "$root/agent.out" \
  || fail "the agent did not start ($?)"
grep -q '"t":"hello"' "$root/agent.out" || fail "the agent did not answer hello: $(od -c "$root/agent.out" | head)"

want=(/usr/bin/runner /etc/runner/runner.toml /usr/share/man/man1/runner.1
      /usr/share/bash-completion/completions/runner /usr/share/fish/vendor_completions.d/runner.fish)

deb=$(ls target/dist/runner_*.deb)
mkdir -p "$root/deb/var/lib/dpkg/updates" "$root/deb/var/lib/dpkg/info"
touch "$root/deb/var/lib/dpkg/status"
# Unpacked (installed, not configured: its postinst would need the root's own groupadd).
dpkg --root="$root/deb" --force-not-root --force-script-chrootless --unpack "$deb" >/dev/null
listed=$(dpkg --root="$root/deb" -L runner)
for f in "${want[@]}" /lib/systemd/system/runner-watch.service; do
  grep -qx "$f" <<<"$listed" || fail "$deb lacks $f"
  # A conffile stays <name>.dpkg-new until the package is configured.
  [ -e "$root/deb$f" ] || [ -e "$root/deb$f.dpkg-new" ] || fail "$f not installed from $deb"
done
cmp "$root/deb/usr/bin/runner" "$bin" || fail "$deb holds another binary"
echo "$(basename "$deb") installs:" $(grep -v '/$' <<<"$listed" | while read -r f; do [ -d "$root/deb$f" ] || echo "$f"; done)
dpkg-deb -I "$deb" conffiles | grep -qx /etc/runner/runner.toml || fail "$deb: runner.toml is not a conffile"
sh -n "$root/deb/var/lib/dpkg/info/runner.postinst" || fail "$deb: postinst is not valid sh"

rpm=$(ls target/dist/runner-*.rpm)
listed=$(rpm -qpl "$rpm")
for f in "${want[@]}" /usr/lib/systemd/system/runner-watch.service; do
  grep -qx "$f" <<<"$listed" || fail "$rpm lacks $f"
done
rpm -qp --configfiles "$rpm" | grep -qx /etc/runner/runner.toml || fail "$rpm: runner.toml is not a config file"
echo "$(basename "$rpm") holds:" $listed
echo "dist: the static binary starts in an empty chroot; $(basename "$deb") and $(basename "$rpm") hold what they should"
