#!/usr/bin/env bash
# Benchmark of the preemption simulator against the Bamboo notebook's own
# simulation (bench/baseline_bamboo.py), in one run:
#
#   ./scripts/bench-sim.sh            # 5 rates x 4 strategies x 10,000 seeds, 24 h, 64 nodes
#   SEEDS=1000 ./scripts/bench-sim.sh # smaller sweep
#
# Measures (a) the wall time of the Bamboo-style sweep with `expost sweep`
# (all outputs written: sweep.csv/.parquet, points, optima, figures), and
# (b) simulated seconds per wall second of expost against the notebook's
# 5-second simulation on its own inputs (the notebook's per-tick log goes to a
# temporary file, as the notebook writes it), and (c) the cost of one
# `expost simulate` process: a simulation of 1 simulated second (all
# start-up: arguments, profile, set-up, output) and of 24 hours, each the
# mean of RUNS processes. Writes bench-out/sim-bench.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-10000}
OUT=bench-out
BIN=${CARGO_TARGET_DIR:-target}/release/expost
DATA=tests/fixtures/preemption
PROFILE=$DATA/bamboo-simulation/profiling-runs/run-86
mkdir -p "$OUT"
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
python3 -c 'import pandas, numpy' 2>/dev/null || python3 -m pip install --quiet pandas numpy
cargo build --release -p expost

echo "== notebook baseline (355 simulated minutes, 5 s ticks)" >&2
base_json=$(python3 bench/baseline_bamboo.py "$DATA" "$OUT/baseline-bamboo" --no-record)
base_rate=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['sim_s_per_wall_s'])" "$base_json")

echo "== expost sweep: 5 rates x 4 strategies x $SEEDS seeds, 24 h, 64 nodes" >&2
rm -rf "$OUT/sim-sweep"
start=$(date +%s.%N)
"$BIN" sweep --profile "$PROFILE" --rates 0.01,0.05,0.1,0.25,0.5 \
    --strategies reconfigure,checkpoint-restart,redundant,elastic-restart --seeds "$SEEDS" \
    --nodes 64 --hours 24 -q -o "$OUT/sim-sweep"
end=$(date +%s.%N)

RUNS=${RUNS:-200}
echo "== one expost simulate process, $RUNS times: 1 simulated second, then 24 h" >&2
per_process() { # hours: mean wall seconds of one process
    local t0 t1
    t0=$(date +%s.%N)
    for _ in $(seq "$RUNS"); do
        "$BIN" simulate --profile "$PROFILE" --rate 0.1 --hours "$1" --json >/dev/null
    done
    t1=$(date +%s.%N)
    python3 -c "import sys; print((float(sys.argv[2]) - float(sys.argv[1])) / int(sys.argv[3]))" "$t0" "$t1" "$RUNS"
}
startup=$(per_process 0.0002777777777777778)
day=$(per_process 24)

python3 - "$start" "$end" "$SEEDS" "$base_rate" "$startup" "$day" <<'PY' | tee "$OUT/sim-bench.md"
import sys
start, end, seeds, base, startup, day = map(float, sys.argv[1:])
wall = end - start
sims = 5 * 4 * seeds
sim_s = sims * 24 * 3600
rate = sim_s / wall
print("| measure | value |")
print("|---|---|")
print(f"| sweep: simulations | {int(sims)} |")
print(f"| sweep: wall time (s), outputs included | {wall:.2f} |")
print(f"| expost: simulated s per wall s | {rate:.3e} |")
print(f"| notebook: simulated s per wall s | {base:.3e} |")
print(f"| speed-up | {rate / base:.0f}x |")
print(f"| one `expost simulate` process, 1 simulated second (start-up) | {startup * 1000:.2f} ms |")
print(f"| one `expost simulate` process, 24 simulated hours | {day * 1000:.2f} ms |")
PY
