#!/usr/bin/env bash
# Benchmarks of `expost ombt`:
#  1. 500 runs (the real fixture runs replicated, scripts/make-ombt-bench.py)
#     analysed without telemetry: `expost ombt --no-telemetry --json` against
#     the notebook's own pandas path on the same files
#     (bench/baseline_ombt.py), timed by hyperfine in one run, and the ratio;
#  2. line-protocol reading on one core (crates/formats/benches/line_protocol.rs);
#  3. telemetry from tarballs (when influxd is installed): the 8 real runs
#     with their own independent tarballs, and the same runs as an
#     incremental campaign leaves them (scripts/make-incremental-tarballs.sh:
#     snapshots of one InfluxDB), served by one influxd (the default) or by
#     one per run (--influxd-per-run).
#
#   ./scripts/bench-ombt.sh [OUT_DIR]     (default bench-out/ombt)
#
# Needs python3 with pandas; hyperfine is used when installed (as root it is
# installed with apt-get), otherwise each command is timed as best of 10.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-out/ombt}"
runs="${RUNS:-500}"
mkdir -p "$out"

if ! command -v hyperfine >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq hyperfine >/dev/null 2>&1 || true
fi

cargo build --release -p expost --quiet
bin=target/release/expost
python3 scripts/make-ombt-bench.py "$out/campaign" "$runs"
# Both must succeed on the campaign before they are timed.
"$bin" ombt "$out/campaign" --no-telemetry --json > "$out/expost.json"
python3 bench/baseline_ombt.py "$out/campaign" "$out"

echo "== $runs runs, no telemetry: expost vs the notebook's pandas path ($(nproc) cores)"
expost_cmd="$bin ombt $out/campaign --no-telemetry --json"
baseline_cmd="python3 bench/baseline_ombt.py $out/campaign $out"
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 2 --min-runs 10 --style basic \
        --export-json "$out/hyperfine.json" \
        -n expost "$expost_cmd" -n notebook "$baseline_cmd"
    python3 - "$out/hyperfine.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
e, b = r["expost"]["mean"], r["notebook"]["mean"]
print("expost %.4f s, notebook %.4f s (means): expost is %.1fx faster" % (e, b, b / e))
EOF
else
    best() {
        local b=999999 s e t
        for _ in $(seq 10); do
            s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N)
            t=$(python3 -c "print($e - $s)"); b=$(python3 -c "print(min($b, $t))")
        done
        echo "$b"
    }
    # shellcheck disable=SC2086
    e=$(best $expost_cmd)
    # shellcheck disable=SC2086
    b=$(best $baseline_cmd)
    python3 -c "print('expost %.4f s, notebook %.4f s (best of 10): expost is %.1fx faster' % ($e, $b, $b / $e))"
fi

echo "== line protocol, one core"
cargo bench -p expost-formats --bench line_protocol --quiet

if command -v influxd >/dev/null; then
    echo "== telemetry from tarballs, 8 real runs ($(nproc) cores)"
    rm -rf "$out/independent" "$out/incremental"
    cp -r tests/fixtures/ombt/campaign "$out/independent"
    cp -r tests/fixtures/ombt/campaign "$out/incremental"
    ./scripts/make-incremental-tarballs.sh "$out/incremental"
    tar_cmd="$bin ombt --telemetry tarball --json"
    if command -v hyperfine >/dev/null; then
        hyperfine --warmup 1 --min-runs 5 --style basic \
            --export-json "$out/hyperfine-tarballs.json" \
            -n "independent tarballs" "$tar_cmd $out/independent" \
            -n "snapshots, one influxd" "$tar_cmd $out/incremental" \
            -n "snapshots, --influxd-per-run" "$tar_cmd $out/incremental --influxd-per-run"
        python3 - "$out/hyperfine-tarballs.json" <<'EOF2'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
one, per = r["snapshots, one influxd"], r["snapshots, --influxd-per-run"]
print("snapshots: one influxd %.3f s, one per run %.3f s: %.1fx faster" % (one, per, per / one))
EOF2
    else
        for args in "$out/independent" "$out/incremental" "$out/incremental --influxd-per-run"; do
            # shellcheck disable=SC2086
            /usr/bin/time -f "%e s  $args" $tar_cmd $args > /dev/null
        done
    fi
else
    echo "== telemetry from tarballs: skipped (no influxd; apt-get install influxdb)"
fi
