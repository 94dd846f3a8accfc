#!/usr/bin/env python3
"""Telemetry of one ombt run, as telegraf would record it (used by
make-ombt-fixtures.sh): every 0.5 s, `cpu` (usage_idle, per host and role,
from /proc/stat) and, every few samples, `rabbitmq_overview` (from rabbitmqctl)
and `rabbitmq_node` (the broker VM's resident memory, fds and sockets, from /proc). Each point is written to InfluxDB 1.x
(/write, ns precision) and appended to an export file in the
`influx_inspect export` layout. Stops on SIGTERM.

usage: ombt-telemetry-sampler.py INFLUX_URL RABBIT_NODE OUT.lp
"""
import signal
import socket
import subprocess
import sys
import time
import urllib.request

URL, NODE, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
HOST = socket.gethostname().replace(" ", "\\ ").replace(",", "\\,")
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)


def cpu_times():
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    values = [int(v) for v in parts]
    return values[3] + values[4], sum(values)


def rabbit(args):
    try:
        out = subprocess.run(["rabbitmqctl", "-n", NODE, "-q"] + args,
                             capture_output=True, text=True, timeout=10).stdout
    except Exception:
        return None
    return [line for line in out.splitlines() if line.strip()]


BEAM_PID = None


def beam_stats():
    """Resident memory (bytes), open fds and sockets of the broker's VM."""
    global BEAM_PID
    if BEAM_PID is None:
        pid = rabbit(["eval", "os:getpid()."])
        if not pid:
            return None
        BEAM_PID = pid[0].strip().strip('"')
    try:
        with open(f"/proc/{BEAM_PID}/status") as f:
            rss = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmRSS:"))
        fd_dir = f"/proc/{BEAM_PID}/fd"
        import os
        fds = os.listdir(fd_dir)
        sockets = sum(1 for fd in fds if os.readlink(os.path.join(fd_dir, fd)).startswith("socket:"))
    except (OSError, StopIteration):
        return None
    return rss, len(fds), sockets


def write(lines, out):
    body = "\n".join(lines).encode()
    req = urllib.request.Request(URL + "/write?db=telegraf&precision=ns", data=body, method="POST")
    urllib.request.urlopen(req, timeout=5).read()
    out.write("\n".join(lines) + "\n")
    out.flush()


with open(OUT, "w") as out:
    out.write("# INFLUXDB EXPORT: 1677-09-21T00:12:43Z - 2262-04-11T23:47:16Z\n"
              "# DDL\nCREATE DATABASE telegraf WITH NAME autogen\n"
              "# DML\n# CONTEXT-DATABASE:telegraf\n# CONTEXT-RETENTION-POLICY:autogen\n"
              "# writing wal data\n")
    idle0, total0 = cpu_times()
    tick = 0
    while running:
        time.sleep(0.5)
        idle1, total1 = cpu_times()
        now = time.time_ns()
        usage_idle = 100.0 * (idle1 - idle0) / max(total1 - total0, 1)
        idle0, total0 = idle1, total1
        lines = [f"cpu,cpu=cpu-total,host={HOST},role={role} usage_idle={usage_idle!r} {now}"
                 for role in ("bus", "ombt-server")]
        if tick % 4 == 0:
            queues = rabbit(["list_queues", "name", "messages", "consumers"])
            conns = rabbit(["list_connections", "name"])
            if queues is not None and conns is not None:
                rows = [q.split() for q in queues if len(q.split()) >= 3]
                consumers = sum(int(r[-1]) for r in rows if r[-1].isdigit())
                messages = sum(int(r[-2]) for r in rows if r[-2].isdigit())
                lines.append(
                    f"rabbitmq_overview,host={HOST} queues={len(rows)}i,"
                    f"connections={len(conns)}i,consumers={consumers}i,messages={messages}i {now}")
            node = beam_stats()
            if node is not None:
                mem, fds, sockets = node
                lines.append(
                    f"rabbitmq_node,host={HOST},node={NODE} mem_used={mem}i,"
                    f"fd_used={fds}i,sockets_used={sockets}i {now}")
        tick += 1
        try:
            write(lines, out)
        except Exception as e:  # influxd stopping: keep the file consistent
            print(f"sampler: {e}", file=sys.stderr)
            break
