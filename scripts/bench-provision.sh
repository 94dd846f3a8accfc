#!/usr/bin/env bash
# Benchmarks of `expost provision`:
#  1. analysis of ~1 million events (10,000 nodes): read the JSON-lines export
#     and analyse it (bench binary, best of 5), the whole command on the same
#     file, and the perf graph script's own Python path on the same entities
#     (bench/baseline_provision.py);
#  2. fetching a ~100,000-entity partition from Azurite: one query following
#     its pages, then disjoint RowKey ranges queried concurrently.
#
#   ./scripts/bench-provision.sh [OUT_DIR]     (default bench-out/provision)
#
# BENCH_AZURITE=0 skips part 2 (it needs npm and Azurite, and takes ~12 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-out/provision}"
mkdir -p "$out"
# Absolute: cargo runs the bench binary from the package's own folder.
out=$(cd "$out" && pwd)

echo "== 1 million events: expost (read + analyse) vs the script's Python path"
cargo bench -p expost-studies --bench provision -- --images 28 --clean --keep "$out/events.jsonl"
cargo build --release -p expost --quiet
bin=target/release/expost
start=$(date +%s.%N)
"$bin" provision --from "$out/events.jsonl" --json > "$out/provision.json"
end=$(date +%s.%N)
echo "expost provision --from (1M events, JSON on stdout): $(python3 -c "print(round($end - $start, 3))") s"
python3 bench/baseline_provision.py "$out/events.jsonl" "$out/baseline.dat"

if [ "${BENCH_AZURITE:-1}" = 0 ]; then
    echo "== fetching from Azurite: skipped (BENCH_AZURITE=0)"
    exit 0
fi

echo "== fetching a 100,000-entity partition from Azurite"
(cd tests/azurite && npm ci --no-audit --no-fund --loglevel=error)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tests/azurite/node_modules/.bin/azurite-table --tableHost 127.0.0.1 --tablePort "$port" \
    --inMemoryPersistence --disableTelemetry --silent &
azurite=$!
trap 'kill $azurite 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
export AZURE_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true;TableEndpoint=http://127.0.0.1:$port/devstoreaccount1"
cargo bench -p expost-studies --bench provision -- --nodes 3500 --images 6 --runs 1 --keep "$out/events100k.jsonl" > /dev/null
wc -l < "$out/events100k.jsonl" | xargs echo "entities:"
time_it() {
    local label=$1; shift
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null 2>&1
    end=$(date +%s.%N)
    echo "$label: $(python3 -c "print(round($end - $start, 3))") s"
}
time_it "load (entity group transactions of 100)" "$bin" provision --load "$out/events100k.jsonl" --table shipyardperf -q
for c in 1 2 4 8; do
    time_it "fetch + analyse, --concurrency $c" "$bin" provision --partition 'batchacct$pool-1' --concurrency "$c" -q
done
