#!/usr/bin/env python3
"""Build the failover benchmark campaign by replicating the real seed run.

    python3 scripts/make-bench-campaign.py OUT_DIR [--runs 100] [--seed DIR]

The seed is one real iperf3 failover run (4 UDP flows, 30 s, 0.1 s intervals;
see benches/seed/README.md).  Its files are copied byte for byte, unchanged,
into --runs run folders spread over 4 configurations (001, 010, 020, 050) in
the layout `expost failover` reads by default:

    OUT_DIR/fec_udp_failover_<cfg>/fec_udp_failover_<cfg>_<trial>/
        event_log.json
        iperf/client_N.json
        iperf/server_N.out

Run k (0-based) goes to configuration k % 4, trial k // 4 + 1, so 100 runs
are 4 configurations x 25 trials.  Every run holds identical data: the point
is the data volume, not the numbers.  The output is deterministic.

OUT_DIR must not exist or be empty.  Prints the run count, the file count,
the total bytes and the largest file.
"""

import argparse
import os
import shutil
import sys

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DEFAULT_SEED = os.path.join(
    REPO, "benches", "seed", "fec_udp_failover_010", "fec_udp_failover_010_1"
)
CONFIGS = ("001", "010", "020", "050")
EXPERIMENT = "fec_udp_failover"


def seed_files(seed):
    """Relative paths of the seed's files: event_log.json and iperf/*, sorted."""
    files = []
    if not os.path.isfile(os.path.join(seed, "event_log.json")):
        sys.exit(f"error: no event_log.json in seed '{seed}'")
    files.append("event_log.json")
    iperf = os.path.join(seed, "iperf")
    if not os.path.isdir(iperf):
        sys.exit(f"error: no iperf/ folder in seed '{seed}'")
    names = sorted(os.listdir(iperf))
    if not names:
        sys.exit(f"error: seed '{iperf}' is empty")
    for name in names:
        if not os.path.isfile(os.path.join(iperf, name)):
            sys.exit(f"error: unexpected entry '{name}' in '{iperf}'")
        files.append(os.path.join("iperf", name))
    return files


def main():
    parser = argparse.ArgumentParser(
        description="Replicate the real seed run into a large failover campaign."
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", help="campaign folder to create")
    parser.add_argument(
        "--runs", type=int, default=100, help="number of runs (default 100)"
    )
    parser.add_argument(
        "--seed",
        default=DEFAULT_SEED,
        help="seed run folder (default benches/seed/fec_udp_failover_010/fec_udp_failover_010_1)",
    )
    args = parser.parse_args()
    if args.runs < 1:
        sys.exit("error: --runs must be at least 1")
    out = args.out_dir
    if os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        sys.exit(f"error: '{out}' exists and is not an empty folder; remove it first")

    files = seed_files(args.seed)
    # Read the seed once; write the same bytes everywhere (a real copy per
    # run, not a hard link, so the benchmark reads the full volume from disk
    # or page cache like a real campaign).
    contents = {}
    for rel in files:
        with open(os.path.join(args.seed, rel), "rb") as f:
            contents[rel] = f.read()

    total = 0
    count = 0
    largest = (0, "")
    for k in range(args.runs):
        cfg = CONFIGS[k % len(CONFIGS)]
        trial = k // len(CONFIGS) + 1
        exp = f"{EXPERIMENT}_{cfg}"
        run_rel = os.path.join(exp, f"{exp}_{trial}")
        run_dir = os.path.join(out, run_rel)
        os.makedirs(os.path.join(run_dir, "iperf"), exist_ok=True)
        for rel in files:
            data = contents[rel]
            with open(os.path.join(run_dir, rel), "wb") as f:
                f.write(data)
            total += len(data)
            count += 1
            if len(data) > largest[0]:
                largest = (len(data), os.path.join(run_rel, rel))

    # Sanity check: the copies are byte for byte the seed.
    for rel in files:
        src = os.path.join(args.seed, rel)
        dst = os.path.join(out, f"{EXPERIMENT}_{CONFIGS[0]}", f"{EXPERIMENT}_{CONFIGS[0]}_1", rel)
        with open(src, "rb") as a, open(dst, "rb") as b:
            if a.read() != b.read():
                sys.exit(f"error: copy of '{rel}' differs from the seed")

    configs = min(args.runs, len(CONFIGS))
    print(
        f"campaign: {out}: {args.runs} runs ({configs} configurations), "
        f"{count} files, {total} bytes ({total / 1e6:.1f} MB)"
    )
    print(f"largest file: {largest[0]} bytes ({largest[1]})")


if __name__ == "__main__":
    main()
