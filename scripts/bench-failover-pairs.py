#!/usr/bin/env python3
"""Speed-up of `expost failover` over the pandas baseline, as alternating pairs.

    python3 scripts/bench-failover-pairs.py CAMPAIGN [--pairs 7] [--bin target/release/expost]

Each round runs, one after the other, as whole processes with their output
discarded: the baseline (bench/baseline_failover.py CAMPAIGN -o DIR, tables
only), `expost failover CAMPAIGN --json`, and `expost failover CAMPAIGN -o
DIR -q` (the output folder removed before each run, not timed).  A round's
ratios divide the baseline's wall time by each expost time of the same
round, so that load from other processes on the machine weighs on both
sides alike; the summary gives the median over the rounds.  One untimed
round warms the page cache first.  Make the campaign with
scripts/make-bench-campaign.py (scripts/bench-failover.sh does both).
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd):
    """Wall time of `cmd` (a list), in seconds; fails on a non-zero exit."""
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("campaign")
    parser.add_argument("--pairs", type=int, default=7, help="timed rounds (at least 5)")
    parser.add_argument("--bin", default="target/release/expost")
    args = parser.parse_args()
    if args.pairs < 5:
        sys.exit("--pairs: at least 5 rounds are needed for a median of pairs")
    root = Path(__file__).resolve().parent.parent
    work = Path(tempfile.mkdtemp(prefix="expost-pairs-"))
    baseline_out, expost_out = work / "baseline", work / "expost"

    def baseline():
        shutil.rmtree(baseline_out, ignore_errors=True)
        return timed([sys.executable, str(root / "bench/baseline_failover.py"), args.campaign,
                      "-o", str(baseline_out)])

    def expost_json():
        return timed([args.bin, "failover", args.campaign, "--json"])

    def expost_outputs():
        shutil.rmtree(expost_out, ignore_errors=True)
        return timed([args.bin, "failover", args.campaign, "-o", str(expost_out), "-q"])

    try:
        baseline(), expost_json(), expost_outputs()
        rounds = []
        for i in range(args.pairs):
            b, j, o = baseline(), expost_json(), expost_outputs()
            rounds.append((b, j, o))
            print(f"round {i + 1}: baseline {b:.3f} s, --json {j:.3f} s ({b / j:.1f}x), "
                  f"-o {o:.3f} s ({b / o:.1f}x)", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    print(f"rounds: {len(rounds)} (baseline, --json, -o alternating)")
    print(f"baseline (pandas, tables): median {med(r[0] for r in rounds):.3f} s")
    print(f"expost failover --json: median {med(r[1] for r in rounds):.3f} s; "
          f"speed-up, median of pairs {med(r[0] / r[1] for r in rounds):.1f}x")
    print(f"expost failover -o: median {med(r[2] for r in rounds):.3f} s; "
          f"speed-up, median of pairs {med(r[0] / r[2] for r in rounds):.1f}x")


if __name__ == "__main__":
    main()
