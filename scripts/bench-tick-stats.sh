#!/usr/bin/env bash
# The notebook's generator, reproduced: statistics of `expost simulate
# --model tick` on the notebook's own inputs (additions fitted to the node
# trace, preemptions to the terminate trace, 32 starting nodes, 355
# simulated minutes) over SEEDS seeds, against the notebook's simulation
# (bench/baseline_bamboo.py, with its fixed seed and BASE_SEEDS more).
# Writes bench-out/tick-stats.md: events, reconfigurations and steps per
# simulated hour, mean ± standard deviation and range.
#
#   ./scripts/bench-tick-stats.sh              # 100 expost seeds, 10 notebook seeds
#   SEEDS=1000 BASE_SEEDS=30 ./scripts/bench-tick-stats.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-100}
BASE_SEEDS=${BASE_SEEDS:-10}
OUT=bench-out
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/expost}
DATA=tests/fixtures/preemption
TRACES=$DATA/bamboo-simulation/traces/trace--full-64-node-trace
PROFILE=$DATA/bamboo-simulation/profiling-runs/run-86
mkdir -p "$OUT"
[ -x "$BIN" ] || cargo build --release -p expost
python3 -c 'import pandas, numpy' 2>/dev/null || python3 -m pip install --quiet pandas numpy
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== expost: $SEEDS seeds" >&2
for seed in $(seq 0 $((SEEDS - 1))); do
    "$BIN" simulate --profile "$PROFILE" --model tick --nodes 32 --hours 5.916666666666667 \
        --add-trace "$TRACES/full-64-node-trace.csv" \
        --remove-trace "$TRACES/full-64-terminate-trace.csv" \
        --seed "$seed" -o - 2>/dev/null >"$work/expost-$seed.csv"
done

echo "== notebook: seed 2021 and $BASE_SEEDS more" >&2
for seed in 2021 $(seq 1 "$BASE_SEEDS"); do
    python3 bench/baseline_bamboo.py "$DATA" "$work/base-$seed" --seed "$seed" --no-record >/dev/null
done

python3 - "$work" "$SEEDS" "$BASE_SEEDS" <<'PY' | tee "$OUT/tick-stats.md"
import csv, glob, statistics, sys
work, seeds, base_seeds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
HOURS = 355 / 60

def stats(path):
    rows = list(csv.DictReader(open(path)))
    reconf = sum(1 for r in rows if r["event"] == "reconfig")
    steps = len(rows) - reconf
    return len(rows), reconf, steps / HOURS

def describe(values):
    m = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{m:.1f} ± {sd:.1f} ({min(values):.0f}–{max(values):.0f})"

expost = [stats(p) for p in glob.glob(f"{work}/expost-*.csv")]
base = [stats(f"{work}/base-{s}/trace.csv") for s in range(1, base_seeds + 1)]
fixed = stats(f"{work}/base-2021/trace.csv")
print("# The notebook's generator: expost --model tick against the notebook\n")
print("Inputs: the notebook's fit (additions from full-64-node-trace.csv, preemptions")
print("from full-64-terminate-trace.csv), 32 starting nodes, 355 simulated minutes.\n")
print("| measure | expost, %d seeds | notebook, %d seeds | notebook, its fixed seed 2021 |" % (len(expost), len(base)))
print("| --- | --- | --- | --- |")
for i, name in enumerate(["events (steps + reconfigurations)", "reconfigurations", "steps per simulated hour"]):
    print(f"| {name} | {describe([e[i] for e in expost])} | {describe([b[i] for b in base])} | {fixed[i]:.1f} |")
PY
