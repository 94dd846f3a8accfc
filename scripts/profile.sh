#!/usr/bin/env bash
# Where an expost command spends its time: runs it RUNS times under `perf
# record` (call graphs, 20 kHz sampling) and prints the top of the profile,
# by shared object and by function (self time, then with callees), to
# bench-out/profile-<name>.txt. Needs Linux `perf` (Debian: linux-perf).
#
#   ./scripts/profile.sh simulate --profile tests/fixtures/preemption/bamboo-simulation/profiling-runs/run-86 --json
#   RUNS=20 NAME=failover ./scripts/profile.sh failover examples/failover --json
#
# Uses target/release/expost (built if missing; the release profile keeps
# line tables, so functions are named).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-100}
NAME=${NAME:-$1}
OUT=bench-out
BIN=${CARGO_TARGET_DIR:-target}/release/expost
command -v perf >/dev/null || { echo "perf is needed (apt-get install -y linux-perf)" >&2; exit 1; }
[ -x "$BIN" ] || cargo build --release -p expost
mkdir -p "$OUT"
data=$(mktemp)
trap 'rm -f "$data"' EXIT
perf record -q -F 20000 -g -o "$data" -- \
    bash -c 'for _ in $(seq "$0"); do "$1" "${@:2}" >/dev/null 2>&1 || true; done' "$RUNS" "$BIN" "$@"
report="$OUT/profile-$NAME.txt"
# `head` ends each listing early: that is not a failure.
set +o pipefail
{
    echo "# expost $* ($RUNS runs)"
    echo
    echo "## By shared object"
    perf report -i "$data" --comm expost --no-children --sort dso --stdio -g none --percentage relative 2>/dev/null | grep -v '^#' | grep '%' | head -10
    echo
    echo "## By function, self time"
    perf report -i "$data" --comm expost --no-children --sort sym --stdio -g none --percentage relative 2>/dev/null | grep -v '^#' | grep '%' | head -30
    echo
    echo "## By function, with callees"
    perf report -i "$data" --comm expost --children --sort sym --stdio -g none --percentage relative 2>/dev/null | grep -v '^#' | grep '%' | head -30
} >"$report"
cat "$report"
