#!/usr/bin/env bash
# Peak memory of expost on hostile inputs (a benchmark, not a test): each
# case is built in a temporary folder, run once under GNU time, and its peak
# RSS, wall time and exit code are written to bench-out/hostile-bench.md.
# The target is under 200 MB for every case.
#
#   ./scripts/bench-hostile.sh            # junk lines 1,000,000; bombs of 1 GiB and 5 GiB
#   JUNK=200000 BOMB_GIB=2 DATA_GIB=8 MANY=2000000 ./scripts/bench-hostile.sh
#
# Cases:
#   junk      `expost failover` on a run whose client JSON has JUNK junk lines first
#   meta-bomb `expost ombt --telemetry tarball` on the ombt fixture, every run's
#             tarball holding a BOMB_GIB GiB meta/meta.db (zeros: a few MB compressed)
#   inspect   `expost inspect` on one such tarball
#   data-bomb `expost ombt --telemetry tarball` on the ombt fixture, every run's
#             tarball holding a DATA_GIB GiB data file and no meta data at all
#   many      `expost ombt --telemetry tarball`, every run's tarball holding
#             MANY empty files (a tar stream of headers only)
#
# Uses target/release/expost (built if missing) and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

JUNK=${JUNK:-1000000}
BOMB_GIB=${BOMB_GIB:-1}
DATA_GIB=${DATA_GIB:-5}
MANY=${MANY:-1000000}
OUT=bench-out
REPORT=$OUT/hostile-bench.md
BIN=${CARGO_TARGET_DIR:-target}/release/expost

log() { printf '== %s\n' "$*" >&2; }
[ -x /usr/bin/time ] || { echo "GNU time is needed (apt-get install -y time)" >&2; exit 1; }
[ -x "$BIN" ] || { log "cargo build --release -p expost"; cargo build --release -p expost; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"

# One run of `expost ARGS` under GNU time: "peak_kb wall_s exit".
measure() {
    local stats="$work/time.txt" code=0
    /usr/bin/time -v -o "$stats" "$BIN" "$@" >/dev/null 2>"$work/stderr.txt" || code=$?
    local rss wall
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$stats")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$stats")
    echo "$rss $wall $code"
}

row() { # case, what, "rss wall code"
    read -r rss wall code <<<"$3"
    printf '| %s | %s | %s MB | %s | %s |\n' "$1" "$2" "$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')" "$wall" "$code"
}

log "junk: a client file with $JUNK junk lines before its JSON"
junk="$work/junk"
mkdir -p "$junk/x_1"
cp -r examples/failover/hc_failover_020/hc_failover_020_1 "$junk/x_1/x_1_1"
client="$junk/x_1/x_1_1/iperf/client_1.json"
{ awk -v n="$JUNK" 'BEGIN { for (i = 0; i < n; i++) print "junk line here" }'; cat "$client"; } >"$client.new"
mv "$client.new" "$client"
junk_stats=$(measure failover "$junk" -o "$work/junk-out" -q)

log "meta-bomb: every run's tarball with a ${BOMB_GIB} GiB meta.db"
bomb="$work/bomb"
cp -r tests/fixtures/ombt/campaign "$bomb"
staging="$work/staging/influxdb-data"
mkdir -p "$staging/meta" "$staging/data" "$staging/wal"
truncate -s "${BOMB_GIB}G" "$staging/meta/meta.db"
tar -C "$work/staging" -czf "$work/bomb.tar.gz" influxdb-data
rm -rf "$work/staging"
for run in "$bomb"/test_case_*/run_*/; do
    cp "$work/bomb.tar.gz" "$run/influxdb-data.tar.gz"
done
bomb_stats=$(measure ombt "$bomb" --telemetry tarball -q)
inspect_stats=$(measure inspect "$work/bomb.tar.gz")
rm -rf "$bomb" "$work/bomb.tar.gz"

log "data-bomb: every run's tarball with a ${DATA_GIB} GiB data file and no meta.db"
staging="$work/staging/influxdb-data"
mkdir -p "$staging/data" "$staging/wal" "$staging/meta"
truncate -s "${DATA_GIB}G" "$staging/data/huge"
tar -C "$work/staging" -czf "$work/data-bomb.tar.gz" influxdb-data/data influxdb-data/wal
rm -rf "$work/staging"
data_bomb="$work/data-bomb"
cp -r tests/fixtures/ombt/campaign "$data_bomb"
for run in "$data_bomb"/test_case_*/run_*/; do
    cp "$work/data-bomb.tar.gz" "$run/influxdb-data.tar.gz"
done
data_bomb_stats=$(measure ombt "$data_bomb" --telemetry tarball -q)
rm -rf "$data_bomb" "$work/data-bomb.tar.gz"

log "many: every run's tarball with $MANY empty files"
staging="$work/staging/influxdb-data"
mkdir -p "$staging/data" "$staging/wal" "$staging/meta"
# One empty file named many times over in the archive: a stream of headers.
touch "$staging/data/empty"
(cd "$work/staging" && awk -v n="$MANY" 'BEGIN { for (i = 0; i < n; i++) print "influxdb-data/data/empty" }' | tar --hard-dereference -czf "$work/many.tar.gz" -T - influxdb-data/meta influxdb-data/wal)
rm -rf "$work/staging"
many="$work/many"
cp -r tests/fixtures/ombt/campaign "$many"
for run in "$many"/test_case_*/run_*/; do
    cp "$work/many.tar.gz" "$run/influxdb-data.tar.gz"
done
many_stats=$(measure ombt "$many" --telemetry tarball -q --max-unpacked 0.01)

{
    echo "# expost on hostile inputs: peak memory"
    echo
    echo "expost $("$BIN" --version | awk '{print $2}'), $(nproc) cores; target: under 200 MB each."
    echo
    echo "| case | input | peak RSS | wall | exit |"
    echo "| --- | --- | --- | --- | --- |"
    row junk "failover, $JUNK junk lines before a client JSON" "$junk_stats"
    row meta-bomb "ombt --telemetry tarball, 8 runs, ${BOMB_GIB} GiB meta.db each" "$bomb_stats"
    row inspect "inspect, one ${BOMB_GIB} GiB meta.db tarball" "$inspect_stats"
    row data-bomb "ombt --telemetry tarball, 8 runs, a ${DATA_GIB} GiB data file and no meta.db each" "$data_bomb_stats"
    row many "ombt --telemetry tarball --max-unpacked 0.01, 8 runs, $MANY empty files each" "$many_stats"
} | tee "$REPORT"
log "written to $REPORT"
