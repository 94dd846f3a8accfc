#!/usr/bin/env python3
"""Baseline for `scripts/bench-ombt.sh`: the ombt-orchestrator post-mortem
notebook's own path from a campaign's files to its pandas table, without
the InfluxDB part and the plots.

Kept as the notebook has it: ombt's `Stats`/`TestResults` classes, the
controller-log lookup by glob (telling `*_docker.log` apart by name), the
per-run aggregation, the `extraction` dict (with the notebook's bug: the
clients' latency is divided by the servers' count), the DataFrame, and the
`params_calculated.json` and `all_stats.json` files it writes.

Smallest changes to run it from a command line: RESULT_PATH and the
params.json path are arguments (backup_dir is relative to the campaign
root, as ombt-orchestrator writes it), a campaign may have several
test_case_N/params.json, the output files go to OUT_DIR, and `load_stats`
catches `Exception` rather than everything.

    python3 bench/baseline_ombt.py CAMPAIGN_ROOT [OUT_DIR]
"""
import glob
import json
import math
import os
import statistics
import sys
import time

import pandas


class Stats(object):
    """Manage a single statistic"""

    def __init__(self, min=None, max=None, total=0, count=0,
                 sum_of_squares=0, distribution=None):
        self.min = min
        self.max = max
        self.total = total
        self.count = count
        self.sum_of_squares = sum_of_squares
        self.distribution = distribution or dict()

    def to_dict(self):
        new_dict = dict()
        for a in ["min", "max", "total", "count", "sum_of_squares"]:
            new_dict[a] = getattr(self, a)
        new_dict["distribution"] = self.distribution.copy()
        return new_dict

    def average(self):
        return (self.total / float(self.count)) if self.count else 0

    def merge(self, stats):
        if stats.min is not None and self.min is not None:
            self.min = min(self.min, stats.min)
        else:
            self.min = self.min or stats.min
        if stats.max is not None and self.max is not None:
            self.max = max(self.max, stats.max)
        else:
            self.max = self.max or stats.max

        self.total += stats.total
        self.count += stats.count
        self.sum_of_squares += stats.sum_of_squares
        for k in stats.distribution.keys():
            if k in self.distribution:
                self.distribution[k] = [z for z in map(lambda a, b: a + b,
                                                       stats.distribution[k],
                                                       self.distribution[k])]
            else:
                self.distribution[k] = stats.distribution[k]


class TestResults(object):
    """Client results of a test run."""

    def __init__(self, start_time=None, stop_time=None, latency=None,
                 msgs_ok=0, msgs_fail=0, errors=None):
        super(TestResults, self).__init__()
        self.start_time = start_time
        self.stop_time = stop_time
        self.latency = latency or Stats()
        self.msgs_ok = msgs_ok
        self.msgs_fail = msgs_fail
        self.errors = errors or dict()

    def to_dict(self):
        new_dict = dict()
        for a in ['start_time', 'stop_time', 'msgs_ok', 'msgs_fail']:
            new_dict[a] = getattr(self, a)
        new_dict['latency'] = self.latency.to_dict()
        new_dict['errors'] = self.errors.copy()
        return new_dict

    def merge(self, results):
        self.start_time = (min(self.start_time, results.start_time)
                           if self.start_time and results.start_time
                           else (self.start_time or results.start_time))
        self.stop_time = (max(self.stop_time, results.stop_time)
                          if self.stop_time and results.stop_time
                          else (self.stop_time or results.stop_time))
        self.msgs_ok += results.msgs_ok
        self.msgs_fail += results.msgs_fail
        self.latency.merge(results.latency)
        for err in results.errors:
            self.errors[err] = self.errors.get(err, 0) + results.errors[err]


def load_stats(param):
    """Loads the stats for the controller output file."""
    try:
        controller_docker = os.path.join(RESULT_PATH, param["backup_dir"], "*controller*.log")
        files = glob.glob(controller_docker)
        controller_log = files[0]
        if "docker" in controller_log:
            controller_log = files[1]
        with open(controller_log) as f:
            a = f.readlines()
            return json.loads(a[0]), json.loads(a[1])
    except Exception:
        return False


def build_agg_results(results):
    agg = TestResults()
    for result in results:
        result["latency"] = Stats(**result["latency"])
        agg.merge(TestResults(**result))
    duration = agg.stop_time - agg.start_time
    total = agg.msgs_ok + agg.msgs_fail
    rate = float(total) / duration
    result = agg.to_dict()
    result["rate"] = rate
    return result


def build_msgs_stats(results, msg_type):
    msgs = [r[msg_type] for r in results]
    return {"mean": statistics.mean(msgs), "min": min(msgs), "max": max(msgs)}


def augment(mydict, myparams, in_key, out_key=None):
    out_key = out_key or in_key
    mydict.update({out_key: [p[in_key] for p in myparams]})


def main():
    global RESULT_PATH
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    RESULT_PATH = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else "."
    started = time.perf_counter()

    params = []
    files = sorted(glob.glob(os.path.join(RESULT_PATH, "test_case_*", "params.json")))
    files = files or [os.path.join(RESULT_PATH, "params.json")]
    for path in files:
        with open(path) as f:
            params.extend(json.load(f))

    PARAMS = params[:]
    for param in PARAMS:
        stats = load_stats(param)
        if not stats:
            continue
        clients, servers = stats
        param["_ombt_clients"] = len(clients.values())
        param["_ombt_servers"] = len(servers.values())
        param["_ombt_msgs_sent_ok"] = build_msgs_stats(clients.values(), "msgs_ok")
        param["_ombt_msgs_received_ok"] = build_msgs_stats(servers.values(), "msgs_ok")
        param["_ombt_msgs_sent_fail"] = build_msgs_stats(clients.values(), "msgs_fail")
        param["_ombt_msgs_received_fail"] = build_msgs_stats(servers.values(), "msgs_fail")
        param["_agg_servers"] = build_agg_results(servers.values())
        param["_agg_clients"] = build_agg_results(clients.values())

    with open(os.path.join(out_dir, "params_calculated.json"), "w") as f:
        json.dump(PARAMS, f)

    extraction = {}
    for e in ["_ombt_clients", "_ombt_servers", "executor", "call_type", "pause", "version"]:
        augment(extraction, PARAMS, e)
    extraction.update({"server_rate": [p["_agg_servers"]["rate"] for p in PARAMS]})
    extraction.update({"server_ok": [p["_agg_servers"]["msgs_ok"] for p in PARAMS]})
    extraction.update({"server_fail": [p["_agg_servers"]["msgs_fail"] for p in PARAMS]})
    extraction.update({"server_latency": [
        p["_agg_servers"]["latency"]["total"] / p["_agg_servers"]["latency"]["count"]
        for p in PARAMS]})
    # The notebook's bug, kept: the clients' total over the servers' count.
    extraction.update({"client_latency": [
        p["_agg_clients"]["latency"]["total"] / p["_agg_servers"]["latency"]["count"]
        for p in PARAMS]})
    extraction.update({"client_rate": [p["_agg_clients"]["rate"] for p in PARAMS]})
    extraction.update({"client_ok": [p["_agg_clients"]["msgs_ok"] for p in PARAMS]})
    extraction.update({"client_fail": [p["_agg_clients"]["msgs_fail"] for p in PARAMS]})
    extraction.update({"per_client_ok": [p["_ombt_msgs_sent_ok"] for p in PARAMS]})
    extraction.update({"per_client_fail": [p["_ombt_msgs_sent_fail"] for p in PARAMS]})
    extraction.update({"per_server_ok": [p["_ombt_msgs_received_ok"] for p in PARAMS]})
    extraction.update({"per_server_fail": [p["_ombt_msgs_received_fail"] for p in PARAMS]})

    df = pandas.DataFrame(extraction)
    with open(os.path.join(out_dir, "all_stats.json"), "w") as f:
        f.write(df.to_json())
    print("baseline: %d runs in %.3f s (after imports)" % (len(df), time.perf_counter() - started),
          file=sys.stderr)


if __name__ == "__main__":
    main()
