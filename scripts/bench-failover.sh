#!/usr/bin/env bash
# Performance benchmark of `expost failover` against the original notebook's
# pandas data path (bench/baseline_failover.py), on a large campaign made by
# replicating the real seed run (scripts/make-bench-campaign.py).
#
#   ./scripts/bench-failover.sh              # 100 runs x 4 flows x 30 s @ 0.1 s
#   RUNS=10 ./scripts/bench-failover.sh      # smaller campaign
#
# Environment: RUNS (default 100), BASELINE_RUNS (3), EXPOST_RUNS (10),
# PAIRS (7; 0 leaves out (e)).
#
# Measures, in one go:
#   (a) wall time of the baseline (hyperfine, 3 runs, 1 warm-up);
#   (b) wall time of `expost failover CAMPAIGN -o OUT -q` (hyperfine, 10 runs,
#       2 warm-ups), with the default thread count and with RAYON_NUM_THREADS=1;
#   (c) peak RSS of expost (/usr/bin/time -v) against
#       2 x (largest input file + total size of the output folder);
#   (d) the speed-up, baseline / expost;
#   (e) the speed-ups of `--json` and `-o` as the median of PAIRS alternating
#       rounds (scripts/bench-failover-pairs.py), which load from other work
#       on the machine distorts least.
# The output folder is removed before every timed run (hyperfine --prepare),
# so each run writes it from scratch.  Input files are in the page cache
# (warm-up runs), as in repeated interactive use.
#
# Writes everything under bench-out/ (git-ignored) and the summary table to
# bench-out/failover-bench.md.  Needs python3; installs pandas and numpy with
# pip if missing; uses hyperfine and GNU time if present (falls back to a
# timing loop, and skips RSS, if not; as root it installs them with apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-100}
BASELINE_RUNS=${BASELINE_RUNS:-3}
EXPOST_RUNS=${EXPOST_RUNS:-10}
OUT=bench-out
CAMPAIGN=$OUT/campaign
EXPOST_OUT=$OUT/expost-out
BASELINE_OUT=$OUT/baseline-out
REPORT=$OUT/failover-bench.md
BIN=${CARGO_TARGET_DIR:-target}/release/expost

log() { printf '== %s\n' "$*" >&2; }

# ---------------------------------------------------------------- tools
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
if ! python3 -c 'import pandas, numpy, matplotlib' 2>/dev/null; then
    log "installing pandas, numpy and matplotlib (pip)"
    python3 -m pip install --quiet pandas numpy matplotlib
fi
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
if ((${#missing[@]})) && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]} (apt-get)"
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null || true
fi
HAVE_HYPERFINE=0; command -v hyperfine >/dev/null && HAVE_HYPERFINE=1
HAVE_GNU_TIME=0; /usr/bin/time -v true >/dev/null 2>&1 && HAVE_GNU_TIME=1

# ---------------------------------------------------------------- build
log "cargo build --release -p expost"
cargo build --release -p expost
[ -x "$BIN" ] || { echo "no binary at $BIN" >&2; exit 1; }

# ---------------------------------------------------------------- campaign
mkdir -p "$OUT"
rm -rf "$CAMPAIGN" "$EXPOST_OUT" "$BASELINE_OUT"
log "campaign: $RUNS runs"
python3 scripts/make-bench-campaign.py "$CAMPAIGN" --runs "$RUNS" | tee "$OUT/campaign.txt" >&2
INPUT_BYTES=$(find "$CAMPAIGN" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
INPUT_FILES=$(find "$CAMPAIGN" -type f | wc -l)
LARGEST_BYTES=$(find "$CAMPAIGN" -type f -printf '%s\n' | sort -n | tail -1)

# ---------------------------------------------------------------- sanity run
# One untimed run; its stderr and exit code are reported as they are.
log "expost sanity run"
set +e
"$BIN" failover "$CAMPAIGN" -o "$EXPOST_OUT" -q >"$OUT/expost-sanity.stdout" 2>"$OUT/expost-sanity.stderr"
EXPOST_RC=$?
set -e
if [ "$EXPOST_RC" != 0 ] || [ -s "$OUT/expost-sanity.stderr" ]; then
    log "expost sanity run: exit status $EXPOST_RC, stderr:"
    cat "$OUT/expost-sanity.stderr" >&2
fi
OUTPUT_BYTES=$(find "$EXPOST_OUT" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
OUTPUT_FILES=$(find "$EXPOST_OUT" -type f | wc -l)
IGNORE_FAIL=()
[ "$EXPOST_RC" = 0 ] || IGNORE_FAIL=(-i)

# ---------------------------------------------------------------- timing
# Other processes on the machine distort wall times; the load average at the
# start is reported, and CPU times alongside wall times.
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
# measure NAME RUNS WARMUP PREPARE COMMAND: writes "mean stddev min max user
# system" (s; user/system are mean CPU times, nan without hyperfine) to
# $OUT/time-NAME.txt.
measure() {
    local name=$1 runs=$2 warmup=$3 prepare=$4 cmd=$5
    log "timing $name: $cmd"
    if [ "$HAVE_HYPERFINE" = 1 ]; then
        hyperfine "${IGNORE_FAIL[@]}" --style basic --runs "$runs" --warmup "$warmup" \
            --prepare "$prepare" --export-json "$OUT/hyperfine-$name.json" \
            --command-name "$name" "$cmd" >&2
        python3 - "$OUT/hyperfine-$name.json" >"$OUT/time-$name.txt" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(r["mean"], r["stddev"] or 0.0, r["min"], r["max"], r["user"], r["system"])
EOF
    else
        local i t0 t1 times=()
        for ((i = 0; i < warmup; i++)); do
            bash -c "$prepare"; bash -c "$cmd" >/dev/null 2>&1 || true
        done
        for ((i = 0; i < runs; i++)); do
            bash -c "$prepare"
            t0=$(date +%s.%N); bash -c "$cmd" >/dev/null 2>&1 || true; t1=$(date +%s.%N)
            times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
        done
        python3 - "${times[@]}" >"$OUT/time-$name.txt" <<'EOF'
import statistics, sys
t = [float(x) for x in sys.argv[1:]]
print(statistics.mean(t), statistics.stdev(t) if len(t) > 1 else 0.0, min(t), max(t), "nan", "nan")
EOF
    fi
}

measure baseline "$BASELINE_RUNS" 1 "rm -rf $BASELINE_OUT" \
    "python3 bench/baseline_failover.py $CAMPAIGN -o $BASELINE_OUT"
# The notebook also draws its figures, as expost does: the same with --plot.
measure baseline-plots "$BASELINE_RUNS" 1 "rm -rf $BASELINE_OUT" \
    "python3 bench/baseline_failover.py $CAMPAIGN -o $BASELINE_OUT --plot"
measure expost "$EXPOST_RUNS" 2 "rm -rf $EXPOST_OUT" \
    "$BIN failover $CAMPAIGN -o $EXPOST_OUT -q"
measure expost-1thread "$EXPOST_RUNS" 2 "rm -rf $EXPOST_OUT" \
    "RAYON_NUM_THREADS=1 $BIN failover $CAMPAIGN -o $EXPOST_OUT -q"
# For the breakdown: the same without -o (ingest + analysis, no output files).
measure expost-no-output "$EXPOST_RUNS" 2 "true" \
    "$BIN failover $CAMPAIGN -q"

# ---------------------------------------------------------------- memory
# peak_rss NAME COMMAND...: max resident set size in kB, or "-".
peak_rss() {
    local name=$1; shift
    if [ "$HAVE_GNU_TIME" = 1 ]; then
        /usr/bin/time -v -o "$OUT/rss-$name.txt" "$@" >/dev/null 2>"$OUT/rss-$name.stderr" || true
        awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/rss-$name.txt"
    else
        echo -
    fi
}
log "peak RSS"
rm -rf "$EXPOST_OUT"
RSS_EXPOST=$(peak_rss expost "$BIN" failover "$CAMPAIGN" -o "$EXPOST_OUT" -q)
rm -rf "$EXPOST_OUT"
RSS_EXPOST_1=$(peak_rss expost-1thread env RAYON_NUM_THREADS=1 "$BIN" failover "$CAMPAIGN" -o "$EXPOST_OUT" -q)
rm -rf "$BASELINE_OUT"
RSS_BASELINE=$(peak_rss baseline python3 bench/baseline_failover.py "$CAMPAIGN" -o "$BASELINE_OUT")
BASELINE_SPLIT=$(grep '^baseline:' "$OUT/rss-baseline.stderr" 2>/dev/null | tail -1 || true)

# ---------------------------------------------------------------- report
CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
python3 - "$OUT" "$RUNS" "$INPUT_FILES" "$INPUT_BYTES" "$LARGEST_BYTES" "$OUTPUT_FILES" \
    "$OUTPUT_BYTES" "$RSS_EXPOST" "$RSS_EXPOST_1" "$RSS_BASELINE" "$EXPOST_RC" "$(nproc)" \
    "${CPU:-unknown}" "$("$BIN" --version 2>/dev/null || echo expost)" "$HAVE_HYPERFINE" \
    "$BASELINE_SPLIT" "$BASELINE_RUNS" "$EXPOST_RUNS" "$LOAD_START" >"$REPORT" <<'EOF'
import re, sys
(out, runs, in_files, in_bytes, largest, out_files, out_bytes, rss, rss1, rss_bl, rc,
 cores, cpu_model, version, hyperfine, split, bl_runs, ex_runs, load) = sys.argv[1:]

def t(name):
    return tuple(float(x) for x in open(f"{out}/time-{name}.txt").read().split())

bl, blp, ex, ex1, exn = t("baseline"), t("baseline-plots"), t("expost"), t("expost-1thread"), t("expost-no-output")
in_bytes, largest, out_bytes = int(in_bytes), int(largest), int(out_bytes)
limit = 2 * (largest + out_bytes)
mb = lambda b: f"{b / 1e6:.1f} MB"
rss_mb = lambda kb: "-" if kb in ("", "-") else f"{int(kb) * 1024 / 1e6:.1f} MB"
ok = lambda c: "yes" if c else "**no**"
tool = "hyperfine" if hyperfine == "1" else "timing loop"
cpu = lambda m: "" if m[4] != m[4] else f"; CPU {m[4] + m[5]:.3f} s"
fmt = lambda m: f"{m[0]:.3f} s ± {m[1]:.3f} (min {m[2]:.3f}{cpu(m)})"

lines = [
    "# expost failover benchmark",
    "",
    f"Campaign: {runs} runs x 4 flows x 30 s at 0.1 s intervals (the real seed run "
    f"replicated byte for byte), {in_files} files, {mb(in_bytes)}; largest file "
    f"{largest} bytes.  Machine: {cores} cores ({cpu_model}), load average {load} "
    f"at the start.  {version}.  Times: {tool}, "
    f"mean ± sd over {bl_runs} runs (baseline) / {ex_runs} runs (expost) after warm-up, "
    "output folder removed before each run, inputs in the page cache; CPU = mean "
    "user + system time.",
    "",
    "| measure | value | target | met |",
    "| --- | --- | --- | --- |",
    f"| baseline (notebook path, pandas, 1 core), tables only | {fmt(bl)} | | |",
    f"| baseline with the notebook's figures (matplotlib) | {fmt(blp)} | | |",
    f"| expost failover -o OUT, default threads | {fmt(ex)} | < 1 s | {ok(ex[0] < 1)} |",
    f"| expost failover -o OUT, RAYON_NUM_THREADS=1 | {fmt(ex1)} | | |",
    f"| speed-up, default threads (baseline / expost) | {bl[0] / ex[0]:.1f}x | >= 20x | {ok(bl[0] / ex[0] >= 20)} |",
    f"| speed-up, 1 thread | {bl[0] / ex1[0]:.1f}x | | |",
    f"| speed-up vs. the baseline with figures (both draw figures) | {blp[0] / ex[0]:.1f}x | >= 20x | {ok(blp[0] / ex[0] >= 20)} |",
    f"| (breakdown) expost failover without -o: ingest + analysis, no files | {fmt(exn)} | | |",
]
if rss not in ("", "-"):
    rss_b = int(rss) * 1024
    lines.append(
        f"| peak RSS expost, default threads | {rss_mb(rss)} | < 2 x (largest input "
        f"{mb(largest)} + output {mb(out_bytes)}, {out_files} files) = {mb(limit)} | {ok(rss_b < limit)} |")
    if rss1 not in ("", "-"):
        lines.append(f"| peak RSS expost, 1 thread | {rss_mb(rss1)} | < {mb(limit)} | {ok(int(rss1) * 1024 < limit)} |")
    lines.append(
        f"| peak RSS expost vs. the stricter reading 2 x largest input + output | {rss_mb(rss)} | "
        f"< {mb(2 * largest + out_bytes)} | {ok(rss_b < 2 * largest + out_bytes)} |")
    lines.append(f"| peak RSS baseline | {rss_mb(rss_bl)} | | |")
m = re.search(r"import ([\d.]+) s, analysis ([\d.]+) s", split)
if m:
    imp, ana = float(m.group(1)), float(m.group(2))
    lines.append(f"| baseline split (one run): python + pandas import / analysis | {imp:.3f} s / {ana:.3f} s | | |")
    lines.append(f"| speed-up, baseline analysis without the import / expost whole run | {ana / ex[0]:.1f}x | | |")
lines.append("")
if rc != "0":
    lines.append(f"expost exited with status {rc} on this campaign; see {out}/expost-sanity.stderr.")
    lines.append("")
print("\n".join(lines))
EOF
PAIRS=${PAIRS:-7}
if [ "$PAIRS" -gt 0 ]; then
    log "alternating pairs: $PAIRS rounds"
    {
        echo "Median of alternating pairs (scripts/bench-failover-pairs.py):"
        echo
        python3 scripts/bench-failover-pairs.py "$CAMPAIGN" --pairs "$PAIRS" --bin "$BIN" | sed 's/^/    /'
        echo
    } >>"$REPORT"
fi
echo
cat "$REPORT"
log "written to $REPORT"
