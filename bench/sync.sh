#!/usr/bin/env bash
# Side-by-side sync benchmark, one run, one fleet: the blog's inotifywait+rsync-daemon loops
# (verbatim and TCP_NODELAY-tuned), rsync over ssh, and `runner sync` / `runner watch` over ssh,
# all measured by the same code (../shared/bench/lib/rsyncbench.py) on the same generated fleet.
#
# Usage: bench/sync.sh [--quick] [--work DIR] [--shared DIR] [--skip-baseline] [--static FILE]
#                      [--before FILE]
#   --quick          small fleet, few repeats (~6 min) instead of the full run (~15 min)
#   --shared DIR     the baseline harness (default: ../shared/bench next to the repo)
#   --skip-baseline  reuse the baseline JSON already under WORK/results (runner side only)
#   --static FILE    also runner watch over ssh:// with FILE (the static build), compared with
#                    the glibc build in WORK/results/static-report.txt
#   --before FILE    an earlier runner build, also measured by the one-shot rows (bench/oneshot.py)
# Output: WORK/results/results-{blog,nodelay,runner-ssh,runner-rsync}.json and
#         WORK/results/sync-report.txt (the side-by-side table, also copied to bench/results/).
# Loopback only; every process started is killed by its recorded process group.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=$(realpath -m "$REPO/../shared/bench")
WORK=/tmp/runner-sync-bench
QUICK=0; SKIP=0; STATIC=; BEFORE=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; shift;;
    --work) WORK=$2; shift 2;;
    --shared) SHARED=$(realpath -m "$2"); shift 2;;
    --skip-baseline) SKIP=1; shift;;
    --static) STATIC=$(realpath "$2"); shift 2;;
    --before) BEFORE=$(realpath "$2"); shift 2;;
    -h|--help) awk 'NR>1 && /^#/{sub(/^# ?/,""); print; next} NR>1{exit}' "$0"; exit 0;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
WORK=$(realpath -m "$WORK")
RES=$WORK/results
mkdir -p "$RES"
if [ "$QUICK" = 1 ]; then
  SCALE=0.05; APPS=8; REPEATS=3; REPEATS_ALL=2; IDLE_S=3; BURST=40
else
  SCALE=0.25; APPS=20; REPEATS=10; REPEATS_ALL=5; IDLE_S=10; BURST=200
fi
log() { echo "[sync-bench $(date +%T)] $*" >&2; }

need=()
command -v rsync >/dev/null || need+=(rsync)
command -v inotifywait >/dev/null || need+=(inotify-tools)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

log "building runner (release)"
cargo build --release --locked --manifest-path "$REPO/Cargo.toml" --bin runner >&2
RUNNER=$REPO/target/release/runner

REALARG=()
if python3 "$SHARED/make-fleet.py" fetch-real --cache "$WORK/realjars" >&2; then
  REALARG=(--real-jars "$WORK/realjars")
fi
gen_fleet() { # every phase starts from the identical (deterministic) tree
  python3 "$SHARED/make-fleet.py" gen --root "$WORK/staging" --manifest "$WORK/fleet.json" \
    --apps "$APPS" --scale "$SCALE" --seed 42 "${REALARG[@]}" >&2
}

if [ "$SKIP" = 0 ]; then
  for v in blog nodelay; do
    gen_fleet
    log "baseline: $v loops"
    "$SHARED/baseline-rsync.sh" --work "$WORK" --variant "$v" --results "$RES/results-$v.json" \
      --repeats "$REPEATS" --repeats-all "$REPEATS_ALL" --idle-s "$IDLE_S" --burst "$BURST"
  done
  gen_fleet
  log "baseline: rsync over ssh"
  "$SHARED/baseline-ssh.sh" --work "$WORK" --results "$RES/results-blog.json"
fi

for t in ssh rsync; do
  gen_fleet
  log "runner watch, $t:// targets"
  python3 "$REPO/bench/sync_bench.py" measure --transport "$t" --work "$WORK" --shared "$SHARED" \
    --runner "$RUNNER" --out "$RES/results-runner-$t.json" --repeats "$REPEATS" \
    --repeats-all "$REPEATS_ALL" --idle-s "$IDLE_S" --burst "$BURST"
done
python3 "$REPO/bench/sync_bench.py" report --results "$RES" | tee "$RES/sync-report.txt"
if [ -n "$STATIC" ]; then
  gen_fleet
  log "runner watch, ssh:// targets, the static build"
  python3 "$REPO/bench/sync_bench.py" measure --transport ssh --work "$WORK" --shared "$SHARED" \
    --runner "$STATIC" --out "$RES/results-runner-ssh-static.json" --repeats "$REPEATS" \
    --repeats-all "$REPEATS_ALL" --idle-s "$IDLE_S" --burst "$BURST"
  python3 "$REPO/bench/sync_bench.py" compare --results "$RES" | tee "$RES/static-report.txt"
fi
log "one-shot runner sync against rsync -a over ssh (bench/oneshot.py)"
python3 "$REPO/bench/oneshot.py" --runner "$RUNNER" --shared "$SHARED" --work "$WORK/oneshot" \
  --repeats "$REPEATS_ALL" ${BEFORE:+--before "$BEFORE"} --out "$RES/oneshot-report.txt"
mkdir -p "$REPO/bench/results"
cp "$RES/sync-report.txt" "$REPO/bench/results/sync-scale$SCALE-${APPS}apps.txt"
cp "$RES/oneshot-report.txt" "$REPO/bench/results/oneshot.txt"
log "done: $RES/sync-report.txt"
