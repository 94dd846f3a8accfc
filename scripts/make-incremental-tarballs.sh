#!/usr/bin/env bash
# Rewrites the influxdb-data.tar.gz of every run of a copy of an ombt
# campaign the way ombt-orchestrator's incremental campaigns leave them:
# one InfluxDB kept across the runs, its data folder tarred after each run
# (influxd stopped, tarred, started again), so the tarball of run k holds
# the telemetry of runs 1..k. Each run's telemetry is its telemetry.lp
# (influx_inspect export layout), loaded through /query (DDL) and /write.
#
#   ./scripts/make-incremental-tarballs.sh CAMPAIGN_COPY
#
# CAMPAIGN_COPY is changed in place (e.g. a copy of tests/fixtures/ombt/campaign).
# Needs influxd (Debian's influxdb package) and curl; influxd listens on
# 127.0.0.1 only and is stopped by pid.
set -euo pipefail
root=${1:?usage: $0 CAMPAIGN_COPY}
work=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

start() {
    local http bind
    http=$(free_port); bind=$(free_port)
    cat > "$work/influxd.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$bind"
[meta]
  dir = "$work/influxdb-data/meta"
[data]
  dir = "$work/influxdb-data/data"
  wal-dir = "$work/influxdb-data/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$http"
  log-enabled = false
CONF
    influxd -config "$work/influxd.conf" > "$work/influxd.log" 2>&1 &
    pid=$!
    url="http://127.0.0.1:$http"
    for _ in $(seq 300); do
        curl -sf "$url/ping" >/dev/null && return 0
        sleep 0.1
    done
    echo "influxd did not start:" >&2; tail "$work/influxd.log" >&2; exit 1
}

stop() {
    kill -TERM "$pid"
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    pid=
}

load() { # telemetry.lp: DDL lines through /query, DML lines through /write
    local file=$1 db
    db=$(sed -n 's/^# CONTEXT-DATABASE://p' "$file" | head -1)
    sed -n '/^# DDL/,/^# DML/p' "$file" | grep -v '^#' | grep -v '^$' | while read -r ddl; do
        curl -sf -XPOST "$url/query" --data-urlencode "q=$ddl" >/dev/null
    done
    sed -n '/^# DML/,$p' "$file" | grep -v '^#' | grep -v '^$' > "$work/dml.lp" || true
    curl -sf -XPOST "$url/write?db=$db&precision=ns" --data-binary @"$work/dml.lp"
}

# The runs in the order params.json lists them.
mapfile -t runs < <(python3 - "$root" <<'PY'
import json, os, sys
root = sys.argv[1]
for folder, _, files in sorted(os.walk(root)):
    if "params.json" not in files:
        continue
    for run in json.load(open(os.path.join(folder, "params.json"))):
        # backup_dir is relative to its params.json, else to the campaign
        near = os.path.join(folder, run["backup_dir"])
        print(near if os.path.isdir(near) else os.path.join(root, run["backup_dir"]))
PY
)
for run in "${runs[@]}"; do
    start
    load "$run/telemetry.lp"
    stop
    tar -C "$work" -czf "$run/influxdb-data.tar.gz" influxdb-data
done
echo "rewrote ${#runs[@]} tarballs as snapshots of one InfluxDB in $root"
