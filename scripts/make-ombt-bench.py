#!/usr/bin/env python3
"""Makes a benchmark campaign of N runs (default 500) by replicating the
real ombt runs of tests/fixtures/ombt/campaign: run i is a copy of real run
i mod 8 (its controller's JSON results and its human-readable output,
byte for byte) under its own backup_dir, listed in test_case_1/params.json
with the real run's parameters. Telemetry files are left out (the benchmark
is run with --no-telemetry).

    python3 scripts/make-ombt-bench.py OUT_DIR [N]
"""
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "fixtures", "ombt", "campaign")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    with open(os.path.join(FIXTURE, "test_case_1", "params.json")) as f:
        real = json.load(f)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(os.path.join(out, "test_case_1"))
    params = []
    for i in range(n):
        src = real[i % len(real)]
        run = dict(src)
        run["backup_dir"] = "test_case_1/run_%04d" % (i + 1)
        dst = os.path.join(out, run["backup_dir"])
        os.makedirs(dst)
        for name in ("ombt-controller.log", "ombt-controller_docker.log"):
            shutil.copyfile(os.path.join(FIXTURE, src["backup_dir"], name), os.path.join(dst, name))
        params.append(run)
    with open(os.path.join(out, "test_case_1", "params.json"), "w") as f:
        json.dump(params, f, indent=2)
    print("wrote %d runs into %s" % (n, out))


if __name__ == "__main__":
    main()
