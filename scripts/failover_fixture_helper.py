#!/usr/bin/env python3
"""Helper for scripts/make-failover-fixtures.sh.

Subcommands:
  sleep-until EPOCH          sleep until the given wall-clock epoch (float)
  outage ...                 apply and remove the nftables drop (the failover
                             outage) at a given epoch, timing both nft calls
  eventlog ...               write a Shremote event_log.json (old or new format)
                             from the launch/stop times recorded by the script
  verify ROOT [ROOT...]      check generated runs and print the numbers

Standard library only.
"""

import argparse
import csv
import ctypes
import json
import os
import re
import subprocess
import sys
import time


# --------------------------------------------------------------------------
# timing helpers


def sleep_until(epoch):
    while True:
        left = epoch - time.time()
        if left <= 0:
            return
        time.sleep(min(left, 0.5))


def cmd_sleep_until(args):
    sleep_until(float(args.epoch))


# --------------------------------------------------------------------------
# outage injection


RULESET = """table netdev {table} {{
    chain failover_in {{
        type filter hook ingress device "{dev}" priority 0; policy drop;
    }}
}}
"""


CLONE_NEWNET = 0x40000000


def enter_netns(ns):
    """Move this (single-threaded) process into network namespace NS."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(os.path.join("/run/netns", ns), os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(%s): %s" % (ns, os.strerror(err)))
    finally:
        os.close(fd)


class Nft:
    """nft commands run in-process through libnftables (shipped with the
    nftables package), so an add or delete costs about a netlink round trip
    instead of a fork+exec; falls back to `ip netns exec NS nft`."""

    def __init__(self, ns):
        self.ns = ns
        self.lib = None
        try:
            lib = ctypes.CDLL("libnftables.so.1")
        except OSError:
            return
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
        lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self.ctx = lib.nft_ctx_new(0)
        lib.nft_ctx_buffer_error(self.ctx)
        self.lib = lib

    def run(self, cmd):
        if self.lib is None:
            subprocess.run(["ip", "netns", "exec", self.ns, "nft", "-f", "-"],
                           input=cmd, text=True, check=True, timeout=10)
            return
        if self.lib.nft_run_cmd_from_buffer(self.ctx, cmd.encode()) != 0:
            err = self.lib.nft_ctx_get_error_buffer(self.ctx)
            raise RuntimeError("nft failed: %s" % (err.decode() if err else cmd))


def cmd_outage(args):
    """Drop every frame arriving on each given link end for MS milliseconds,
    starting at epoch AT.  With both ends of the veth listed (NS:DEV for the
    server side and for the client side) the link is dead in both directions.
    Ingress drops look like losses on the wire to both hosts: senders get no
    error and TCP has to recover by retransmission, as after a real path
    failure.  One libnftables context per namespace (its netlink socket stays
    bound to the namespace it was opened in), so the two tables go in and out
    within about a millisecond.  The times around the adds and deletes are
    written to OUT."""
    ends = []
    for spec in args.end:
        ns, dev = spec.split(":", 1)
        enter_netns(ns)
        nft = Nft(ns)
        nft.run("list tables")          # warm up (library, netlink socket)
        ends.append((nft, RULESET.format(table=args.table, dev=dev)))
    sleep_until(args.at)
    t0 = time.time()
    added = []
    try:
        for nft, ruleset in ends:
            nft.run(ruleset)
            added.append(nft)
        t1 = time.time()
        start = (t0 + t1) / 2.0
        # aim the middle of the deletes at start + ms
        target_mid = start + args.ms / 1000.0
        sleep_until(target_mid - (t1 - t0) / 2.0)
    finally:
        t2 = time.time()
        for nft in added:
            nft.run("delete table netdev %s" % args.table)
        t3 = time.time()
    end = (t2 + t3) / 2.0
    rec = {
        "ends": args.end,
        "add_begin": t0, "add_end": t1, "del_begin": t2, "del_end": t3,
        "start": start, "end": end,
        "target_ms": args.ms,
        "applied_ms": (end - start) * 1000.0,
        "add_latency_ms": (t1 - t0) * 1000.0,
        "del_latency_ms": (t3 - t2) * 1000.0,
    }
    with open(args.out, "w") as f:
        json.dump(rec, f, indent=2)
        f.write("\n")


# --------------------------------------------------------------------------
# Shremote event logs


def parse_scalar(text):
    """'8' -> 8, '0.1' -> 0.1, 'true' -> True, other text stays a string."""
    if text in ("true", "false"):
        return text == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def read_events(path):
    """Tab separated lines written by the bash script:
    name, flow, addr, time, stop_time, begin, start command, stop command."""
    events = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            name, flow, addr, t, stop_t, begin, start_cmd, stop_cmd = line.split("\t")
            events.append({
                "name": name,
                "flow": int(flow) if flow else None,
                "addr": addr,
                "time": float(t),
                "stop_time": float(stop_t) if stop_t else None,
                "begin": parse_scalar(begin),
                "start": start_cmd,
                "stop": stop_cmd or None,
            })
    return events


def group_vars(pairs):
    """--var NAME.KEY=VALUE -> {NAME: {KEY: value}}"""
    out = {}
    for p in pairs or []:
        lhs, value = p.split("=", 1)
        name, key = lhs.split(".", 1)
        out.setdefault(name, {})[key] = parse_scalar(value)
    return out


def old_format(events, cmd_vars, log_dir):
    """Shremote before the 2019 rewrite: one entry per command start holding
    all hosts' shell commands in starts_/stops_, the command's variables
    beside the bookkeeping keys (i and host are those of the last host, as
    that version left them), plus a separate entry when a command was
    stopped by its stop command."""
    order = []
    groups = {}
    for ev in events:
        if ev["name"] not in groups:
            order.append(ev["name"])
            groups[ev["name"]] = []
        groups[ev["name"]].append(ev)
    log = []
    for name in order:
        evs = groups[name]
        last = evs[-1]
        entry = {}
        entry.update(cmd_vars.get(name, {}))
        entry["begin"] = evs[0]["begin"]
        entry["log_dir"] = log_dir
        if last["flow"] is not None:
            entry["i"] = last["flow"]
        entry["host"] = last["addr"]
        entry["name_"] = name
        entry["time_"] = min(e["time"] for e in evs)
        stops = [e["stop_time"] for e in evs if e["stop_time"] is not None]
        if stops:
            entry["stop_time_"] = max(stops)
        entry["starts_"] = [e["start"] for e in evs]
        entry["stops_"] = [e["stop"] for e in evs if e["stop"]]
        log.append((entry["time_"], entry))
        if entry["stops_"] and stops:
            stop_entry = {}
            stop_entry.update(cmd_vars.get(name, {}))
            stop_entry["begin"] = entry["begin"]
            stop_entry["log_dir"] = log_dir
            if last["flow"] is not None:
                stop_entry["i"] = last["flow"]
            stop_entry["name_"] = name
            stop_entry["stop_time_"] = max(stops)
            log.append((max(stops), stop_entry))
    log.sort(key=lambda x: x[0])
    return [e for _, e in log]


def new_format(events, cmd_vars, log_dir):
    """Shremote after the 2019 rewrite: one entry per command and host with
    addr_/start_/time_/stop_time_ followed by the command's formatted config
    tree (name, begin, program, hosts, ... and its user variables)."""
    log = []
    for ev in events:
        v = dict(cmd_vars.get(ev["name"], {}))
        entry = {
            "addr_": ev["addr"],
            "start_": ev["start"],
            "time_": ev["time"],
        }
        if ev["stop_time"] is not None:
            entry["stop_time_"] = ev["stop_time"]
        program = {
            "start": ev["start"],
            "stop": ev["stop"],
            "sudo": ev["start"].startswith("sudo "),
            "background": ev["stop"] is not None,
            "log": {"dir": log_dir},
        }
        if ev["flow"] is not None:
            program["log"]["out"] = v.get("log_out", "").replace("{flow}", str(ev["flow"])) or None
        v.pop("log_out", None)
        entry.update({
            "name": ev["name"],
            "begin": ev["begin"],
            "min_duration": None,
            "max_duration": v.pop("max_duration", None),
            "start_after": None,
            "stop_after": None,
            "hosts": {"addr": ev["addr"], "name": v.pop("host_name", ev["addr"])},
            "program": program,
        })
        if ev["flow"] is not None:
            entry["host_idx"] = ev["flow"]
            entry["flow"] = ev["flow"]
        entry.update(v)
        log.append(entry)
    log.sort(key=lambda e: e["time_"])
    return log


def cmd_eventlog(args):
    events = read_events(args.events)
    cmd_vars = group_vars(args.var)
    if args.format == "old":
        for v in cmd_vars.values():
            v.pop("log_out", None)
            v.pop("host_name", None)
            v.pop("max_duration", None)
        log = old_format(events, cmd_vars, args.log_dir)
    else:
        log = new_format(events, cmd_vars, args.log_dir)
    with open(args.out, "w") as f:
        json.dump(log, f, indent=2)
        f.write("\n")


# --------------------------------------------------------------------------
# verification


EPOCH_PREFIX = re.compile(r"^(\d{9,10}\.\d+) ")
C_PREFIX = re.compile(r"^([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}) ")
YMD_PREFIX = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ")
UDP_LINE = re.compile(r"\[\s*(\d+)\]\s+([\d.]+)-\s*([\d.]+)\s+sec\s+.*?([\d.]+) ms\s+(\d+)/(\d+) \(")
TCP_LINE = re.compile(r"\[\s*(\d+)\]\s+([\d.]+)-\s*([\d.]+)\s+sec\s+([\d.]+) (\w?Bytes)\s+([\d.]+) (\w?bits/sec)\s*$")


def load_client(path):
    text = open(path).read()
    try:
        return json.loads(text), None
    except ValueError:
        first, rest = text.split("\n", 1)
        return json.loads(rest), first


def server_prefix_kind(line):
    if EPOCH_PREFIX.match(line):
        return "epoch"
    if C_PREFIX.match(line):
        return "%c"
    if YMD_PREFIX.match(line):
        return "%Y-%m-%d %H:%M:%S"
    return None


def strip_prefix(line):
    for rx in (EPOCH_PREFIX, C_PREFIX, YMD_PREFIX):
        m = rx.match(line)
        if m:
            return m.group(1), line[m.end():]
    return None, line


def cmd_verify(args):
    injected = {}
    failures = 0
    for root in args.roots:
        csv_path = os.path.join(root, "injected.csv")
        if os.path.exists(csv_path):
            with open(csv_path) as f:
                for row in csv.DictReader(f):
                    injected[os.path.join(root, row["run"])] = row
    for root in args.roots:
        for cfg in sorted(os.listdir(root)):
            cfg_dir = os.path.join(root, cfg)
            if not os.path.isdir(cfg_dir):
                continue
            for run in sorted(os.listdir(cfg_dir)):
                run_dir = os.path.join(cfg_dir, run)
                if not os.path.isdir(run_dir):
                    continue
                failures += verify_run(run_dir, injected.get(run_dir))
    print("verify: %d problem(s)" % failures)
    return 1 if failures else 0


def verify_run(run_dir, inj):
    problems = 0
    log = json.load(open(os.path.join(run_dir, "event_log.json")))
    fmt = "old" if "name_" in log[0] else "new"
    key = "name_" if fmt == "old" else "name"
    anchor = [e for e in log if e.get(key) == "iperf_client" and "time_" in e]
    fail = [e for e in log if e.get(key) == "failover" and "time_" in e]
    t_client = min(e["time_"] for e in anchor)
    fail_rel = fail[0]["time_"] - t_client
    fail_len = (fail[0]["stop_time_"] - fail[0]["time_"]) * 1000.0
    outage_ms = float(inj["outage_ms_applied"]) if inj else fail_len
    print("%s  [event log %s] failover at client+%.3f s, %.1f ms (injected %.1f ms)"
          % (run_dir, fmt, fail_rel, fail_len, outage_ms))
    iperf_dir = os.path.join(run_dir, "iperf")
    for name in sorted(os.listdir(iperf_dir)):
        path = os.path.join(iperf_dir, name)
        if name.startswith("client_"):
            try:
                d, junk = load_client(path)
            except ValueError as e:
                print("   %s: DOES NOT PARSE: %s" % (name, e))
                problems += 1
                continue
            s = d["end"]["sum"] if "sum" in d["end"] else d["end"]["sum_sent"]
            udp = d["start"]["test_start"]["protocol"] == "UDP"
            ts = d["start"]["timestamp"]["timesecs"]
            n_int = len(d["intervals"])
            extra = (" junk first line: %r" % junk) if junk else ""
            if udp:
                pps = s["packets"] / s["seconds"]
                expect = outage_ms / 1000.0 * pps
                ok = s["lost_packets"] > 0 and 0.7 * expect <= s["lost_packets"] <= 1.3 * expect + 20
                problems += 0 if ok else 1
                print("   %s: UDP %d intervals, start.timestamp %d (launched %.3f), %.0f pkt/s, "
                      "lost %d/%d, expected ~%.0f (ratio %.2f)%s%s"
                      % (name, n_int, ts, t_client, pps, s["lost_packets"], s["packets"],
                         expect, s["lost_packets"] / expect if expect else 0,
                         "" if ok else "  <-- UNEXPECTED", extra))
            else:
                retr = d["end"]["sum_sent"].get("retransmits")
                gap = [i for i in d["intervals"] if i["sum"]["bytes"] == 0]
                print("   %s: TCP %d intervals, start.timestamp %d, sent %d bytes, retransmits %s, "
                      "zero-byte intervals %d%s"
                      % (name, n_int, ts, d["end"]["sum_sent"]["bytes"], retr, len(gap), extra))
        elif name.startswith("server_"):
            lines = open(path).read().splitlines()
            kinds = {server_prefix_kind(l) for l in lines}
            interval_lines = 0
            lossy = []
            zero = 0
            for l in lines:
                stamp, body = strip_prefix(l)
                m = UDP_LINE.search(body)
                if m and "receiver" not in body and "sender" not in body:
                    interval_lines += 1
                    lost, total = int(m.group(5)), int(m.group(6))
                    if total == 0:
                        zero += 1
                    if lost > 0:
                        lossy.append("%s-%s lost %d/%d @%s" % (m.group(2), m.group(3), lost, total, stamp))
                    continue
                m = TCP_LINE.search(body)
                if m:
                    interval_lines += 1
                    if float(m.group(4)) == 0.0:
                        zero += 1
            if None in kinds and len(kinds) > 1:
                print("   %s: unprefixed lines present" % name)
                problems += 1
            print("   %s: prefix %s, %d interval lines, %d empty intervals%s"
                  % (name, "/".join(sorted(k for k in kinds if k)), interval_lines, zero,
                     (", lossy: " + "; ".join(lossy)) if lossy else ""))
    return problems


# --------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("sleep-until")
    s.add_argument("epoch")
    s.set_defaults(func=cmd_sleep_until)

    s = sub.add_parser("outage")
    s.add_argument("--end", action="append", required=True, metavar="NS:DEV",
                   help="namespace and device whose ingress is cut (repeatable)")
    s.add_argument("--table", required=True)
    s.add_argument("--at", type=float, required=True)
    s.add_argument("--ms", type=float, required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_outage)

    s = sub.add_parser("eventlog")
    s.add_argument("--format", choices=["old", "new"], required=True)
    s.add_argument("--events", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--log-dir", default="iperf")
    s.add_argument("--var", action="append", help="NAME.KEY=VALUE")
    s.set_defaults(func=cmd_eventlog)

    s = sub.add_parser("verify")
    s.add_argument("roots", nargs="+")
    s.set_defaults(func=cmd_verify)

    args = p.parse_args()
    sys.exit(args.func(args) or 0)


if __name__ == "__main__":
    main()
