#!/usr/bin/env bash
# Build the demo app: <out_dir>/app.jar and <out_dir>/lib/demo-greeting.jar.
#
# usage: build.sh <out_dir> <app_version> <lib_version> [--fail] [--delay-ms N]
set -euo pipefail

usage() {
    echo "usage: $0 <out_dir> <app_version> <lib_version> [--fail] [--delay-ms N]" >&2
    exit 64
}

[ $# -ge 3 ] || usage
out_arg=$1 app_version=$2 lib_version=$3
shift 3
fail=false
delay_ms=0
while [ $# -gt 0 ]; do
    case "$1" in
        --fail) fail=true; shift ;;
        --delay-ms)
            [ $# -ge 2 ] || usage
            delay_ms=$2; shift 2 ;;
        --delay-ms=*) delay_ms=${1#--delay-ms=}; shift ;;
        *) echo "build.sh: unknown argument: $1" >&2; usage ;;
    esac
done
case "$delay_ms" in
    ''|*[!0-9]*) echo "build.sh: --delay-ms needs a non-negative integer, got '$delay_ms'" >&2; exit 64 ;;
esac

src_root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out_arg"
out=$(cd "$out_arg" && pwd)
build="$out/.build"

JAVAC=${JAVAC:-javac}
JAR=${JAR:-jar}

rm -rf "$build"
trap 'rm -rf "$build"' EXIT
mkdir -p "$build/classes" "$build/res-app" "$build/res-lib" "$out/lib"

# One javac run for both source trees (DemoApp depends on demo.lib.Greeting).
"$JAVAC" --release 17 -nowarn -encoding UTF-8 -d "$build/classes" \
    "$src_root/src/demo/DemoApp.java" \
    "$src_root/lib-src/demo/lib/Greeting.java"

printf 'version=%s\nfail=%s\nstartDelayMs=%s\n' "$app_version" "$fail" "$delay_ms" > "$build/res-app/app.properties"
printf 'version=%s\n' "$lib_version" > "$build/res-lib/demo-lib.properties"

rm -f "$out/app.jar" "$out/lib/demo-greeting.jar"
(
    cd "$build/classes"
    # demo/*.class does not descend into demo/lib/, so the library class stays out of app.jar.
    "$JAR" --create --file "$out/app.jar" --main-class demo.DemoApp \
        demo/*.class -C "$build/res-app" app.properties
    "$JAR" --create --file "$out/lib/demo-greeting.jar" \
        demo/lib/*.class -C "$build/res-lib" demo-lib.properties
)
