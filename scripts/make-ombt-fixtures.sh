#!/usr/bin/env bash
# Makes a small real ombt campaign on 127.0.0.1, laid out as ombt-orchestrator
# lays it out: test_case_1/params.json (a list of runs) and per run its
# backup_dir with the controller's JSON results (ombt-controller.log), its
# human-readable output (ombt-controller_docker.log), the run's telemetry as
# an `influx_inspect export`-style line-protocol file (telemetry.lp) and the
# InfluxDB data directory after influxd stopped (influxdb-data.tar.gz).
#
# Needs (as root, or with the tools already there): rabbitmq-server and
# influxdb (Debian), python3 -m venv, and ombt (its Python package).
#
#   ./scripts/make-ombt-fixtures.sh [OUT_DIR]   (default tests/fixtures/ombt/campaign)
#
# Nothing leaves the machine: RabbitMQ, epmd and influxd listen on 127.0.0.1
# only; every process started here is stopped by pid at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-tests/fixtures/ombt/campaign}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [ -n "${RABBIT_PID:-}" ]; then
        HOME=$WORK rabbitmqctl -n "$NODE" stop >/dev/null 2>&1 || kill "$RABBIT_PID" 2>/dev/null || true
    fi
    [ -n "${EPMD_STARTED:-}" ] && epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# The Debian wrappers in /usr/sbin switch to the rabbitmq user; run the real
# scripts instead, so the private node's folders under $WORK stay usable.
RMQ=/usr/lib/rabbitmq/bin
rabbitmqctl() { "$RMQ/rabbitmqctl" "$@"; }
export -f rabbitmqctl 2>/dev/null || true
export PATH="$RMQ:$PATH"

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

OMBT=${OMBT:-}
if [ -z "$OMBT" ]; then
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install -q ombt
    OMBT="$WORK/venv/bin/ombt2"
fi

# --- RabbitMQ on a private node, loopback only
AMQP_PORT=$(free_port); DIST_PORT=$(free_port); EPMD_PORT=$(free_port)
NODE="ombtfix@localhost"
export ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=127.0.0.1
epmd -port "$EPMD_PORT" -address 127.0.0.1 -daemon && EPMD_STARTED=1
export RABBITMQ_NODENAME=$NODE RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$AMQP_PORT \
    RABBITMQ_DIST_PORT=$DIST_PORT RABBITMQ_MNESIA_BASE=$WORK/mnesia RABBITMQ_LOG_BASE=$WORK/rlog \
    RABBITMQ_ENABLED_PLUGINS_FILE=$WORK/plugins RABBITMQ_CONFIG_FILE=$WORK/rabbitmq HOME=$WORK
echo "[]." > "$WORK/plugins"
echo "loopback_users = none" > "$WORK/rabbitmq.conf"
"$RMQ/rabbitmq-server" > "$WORK/rabbit.out" 2>&1 &
RABBIT_PID=$!
for _ in $(seq 120); do
    rabbitmqctl -n "$NODE" await_startup >/dev/null 2>&1 && break
    sleep 1
done
URL="rabbit://guest:guest@127.0.0.1:$AMQP_PORT/"

# --- one run: influxd for its telemetry, servers, clients, controller
run_one() { # call_type nbr_clients nbr_servers nbr_calls backup_dir
    local call=$1 nc=$2 ns=$3 calls=$4 dir=$5
    local rd=$WORK/run; rm -rf "$rd"; mkdir -p "$rd/influxdb-data" "$dir"
    local http; http=$(free_port); local bind; bind=$(free_port)
    cat > "$rd/influxd.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$bind"
[meta]
  dir = "$rd/influxdb-data/meta"
[data]
  dir = "$rd/influxdb-data/data"
  wal-dir = "$rd/influxdb-data/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$http"
  log-enabled = false
EOF
    influxd -config "$rd/influxd.conf" > "$rd/influxd.out" 2>&1 &
    local ipid=$!; PIDS+=("$ipid")
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/ping" && break; sleep 0.1; done
    curl -sf -XPOST "http://127.0.0.1:$http/query" --data-urlencode 'q=CREATE DATABASE telegraf' >/dev/null
    # Telemetry sampler: CPU idle of this host under both roles, and the broker's counts.
    python3 scripts/ombt-telemetry-sampler.py "http://127.0.0.1:$http" "$NODE" "$rd/telemetry.lp" &
    local spid=$!; PIDS+=("$spid")
    local topic="t$RANDOM"
    local spids=()
    for i in $(seq "$ns"); do
        "$OMBT" --url "$URL" --topic "$topic" rpc-server --name "server-$i" > "$rd/s$i.out" 2>&1 &
        spids+=($!); PIDS+=($!)
    done
    for i in $(seq "$nc"); do
        "$OMBT" --url "$URL" --topic "$topic" rpc-client --name "client-$i" > "$rd/c$i.out" 2>&1 &
        spids+=($!); PIDS+=($!)
    done
    sleep 3
    "$OMBT" --url "$URL" --topic "$topic" --timeout 60 controller --output "$dir/ombt-controller.log" \
        "$call" --calls "$calls" --pause 0.002 > "$dir/ombt-controller_docker.log" 2>&1
    "$OMBT" --url "$URL" --topic "$topic" controller shutdown >/dev/null 2>&1 || true
    sleep 1
    kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
    for p in "${spids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    kill "$ipid"; wait "$ipid" 2>/dev/null || true
    cp "$rd/telemetry.lp" "$dir/telemetry.lp"
    tar -C "$rd" -czf "$dir/influxdb-data.tar.gz" influxdb-data
}

rm -rf "$OUT"; mkdir -p "$OUT/test_case_1"
PARAMS="["
n=0
for call in rpc-call rpc-cast; do
    for nc in 1 2; do
        for ns in 1 2; do
            n=$((n + 1))
            bd="test_case_1/run_${n}_${call}_${nc}c_${ns}s"
            echo "run $n: $call, $nc clients, $ns servers"
            run_one "$call" "$nc" "$ns" 100 "$OUT/$bd"
            [ "$n" -gt 1 ] && PARAMS+=","
            PARAMS+="{\"backup_dir\": \"$bd\", \"call_type\": \"$call\", \"nbr_clients\": $nc, \"nbr_servers\": $ns, \"nbr_topics\": 1, \"executor\": \"threading\", \"pause\": 0.002, \"length\": 1024, \"nbr_calls\": 100, \"timeout\": 60, \"version\": \"ombt-3.0.0\", \"driver\": \"rabbitmq\"}"
        done
    done
done
PARAMS+="]"
python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), indent=2))' "$PARAMS" > "$OUT/test_case_1/params.json"
# backup_dir in params.json is relative to the campaign root, as in ombt-orchestrator's env dir.
echo "wrote $OUT"
