#!/usr/bin/env bash
# make-failover-fixtures.sh - regenerate the iperf3 failover fixture campaigns
# by really running the experiment on this machine.
#
# Usage (as root):  scripts/make-failover-fixtures.sh [examples|seed|tcp|all]
#
#   examples  -> examples/failover/   fec_udp_failover_{020,050,100} x 3 trials
#                                     (UDP, 2 flows, 8 s) and hc_failover_{020,100}
#                                     x 2 trials (TCP, 2 flows, 8 s)
#   seed      -> benches/seed/        fec_udp_failover_010, 1 trial, 4 UDP flows, 30 s
#   tcp       -> tests/fixtures/failover_tcp/  tcp_pN_MMM: TCP, one client with
#                                     -P N streams (N = 1, 2, 4), 3 s, a blackhole
#                                     of MMM ms (20 to 200) 1.5 s after launch;
#                                     tcp_rto5_pN_MMM: the same with the client's
#                                     route at rto_min 5ms, so TCP recovers within
#                                     tens of ms and the dips are shallow
#   all       -> examples and seed (default)
#
# What it does, per run (mirrors the Flightplan failover study run by Shremote):
#   * two network namespaces, expost-a (iperf3 servers) and expost-b (iperf3
#     clients), joined by one veth pair exa0 <-> exb0 with 10.200.0.1/24 and
#     10.200.0.2/24.  Neither namespace has any other interface or route, so
#     all traffic stays between the two namespaces on this machine.
#   * one `iperf3 -s -1 -i 0.1` per flow in expost-a, on port 5200+N;
#     1 s later one `iperf3 -c ... -J -i 0.1 -t DUR` per flow in expost-b, all
#     launched back to back (a few ms apart), UDP with -u -b 20M or TCP -b 50M.
#   * FAIL_AT s after the clients were launched, an nftables table (family
#     netdev, ingress hook, policy drop) is loaded on both ends of the link,
#     exa0 in expost-a and exb0 in expost-b: every frame on the link is
#     dropped on arrival, as on a dead path (senders see no local error; TCP
#     must retransmit).  After OUTAGE ms both tables are deleted.  That is the
#     failover outage.  It is derived from the configuration value, the
#     controller's poll interval in ms:
#         outage_ms = DETECT_MS + MISSED_POLLS * poll_ms + phase_ms
#         DETECT_MS = 30, MISSED_POLLS = 3,
#         phase_ms  = (trial - 1) * poll_ms / trials   (where in the poll period
#                                                       the failure landed)
#     The helper does the adds/deletes in-process through libnftables (about
#     1 ms for both ends), measures the times around them and the script
#     writes injected.csv (outage_ms_applied = middle of deletes - middle of
#     adds).
#   * the servers' text output goes to iperf/server_N.out, prefixed with a
#     timestamp on every line: `| ts %.s` (moreutils, epoch seconds) or
#     iperf3's own --timestamps (default "%c " or '%Y-%m-%d %H:%M:%S '),
#     always with TZ=UTC.  Clients write iperf/client_N.json (stdout+stderr).
#   * event_log.json in one of Shremote's two formats (old: one entry per
#     command with name_/time_/stop_time_/starts_/stops_ and the command's
#     variables; new: one entry per host with addr_/start_/time_/stop_time_
#     and the formatted command config), with the real epoch times taken
#     here: iperf_server, iperf_client (the anchor: launch of the clients)
#     and failover (time_ = drop began, stop_time_ = drop removed).
#   * fec_udp_failover_050_2 runs flow 1's client through `sudo -n` with
#     stderr in the same file, in a host whose name does not resolve: sudo
#     really prints "sudo: unable to resolve host ..." before iperf3's JSON,
#     the classic junk first line of testbed logs.
#
# Needs: iperf3 nftables moreutils iproute2 util-linux sudo python3.
# Everything created (namespaces, veth, nft table, processes) is removed on
# exit; only processes started here (recorded pids, and processes inside the
# namespaces created here) are ever signalled.

set -euo pipefail
cd "$(dirname "$0")/.."

HELPER=scripts/failover_fixture_helper.py

NS_SRV=expost-a
NS_CLI=expost-b
DEV_SRV=exa0
DEV_CLI=exb0
ADDR_SRV=10.200.0.1
ADDR_CLI=10.200.0.2
HOST_SRV=fp-server
HOST_CLI=fp-client
NFT_TABLE=expost_failover
BASE_PORT=5200
INTERVAL=0.1
DETECT_MS=30
MISSED_POLLS=3

CREATED_NS=()
PIDS=()
TMP=""

log() { printf '[make-failover-fixtures] %s\n' "$*" >&2; }

cleanup() {
    local rc=$? pid ns
    set +e
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null
        fi
    done
    for ns in "${CREATED_NS[@]}"; do
        ip netns exec "$ns" nft delete table netdev "$NFT_TABLE" 2>/dev/null
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill "$pid" 2>/dev/null
        done
    done
    sleep 0.2
    for ns in "${CREATED_NS[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -9 "$pid" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null   # also removes the veth pair
    done
    [ -n "$TMP" ] && rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

preflight() {
    [ "$(id -u)" -eq 0 ] || { log "must run as root"; exit 1; }
    local c
    for c in iperf3 nft ts ip ss unshare timeout sudo python3; do
        command -v "$c" >/dev/null || { log "missing command: $c"; exit 1; }
    done
    for c in "$NS_SRV" "$NS_CLI"; do
        if ip netns list | grep -qw "$c"; then
            log "namespace $c already exists; refusing to touch it"; exit 1
        fi
    done
    TMP=$(mktemp -d)
}

setup_net() {
    ip netns add "$NS_SRV"; CREATED_NS+=("$NS_SRV")
    ip netns add "$NS_CLI"; CREATED_NS+=("$NS_CLI")
    ip -n "$NS_SRV" link add "$DEV_SRV" type veth peer name "$DEV_CLI" netns "$NS_CLI"
    ip -n "$NS_SRV" addr add "$ADDR_SRV/24" dev "$DEV_SRV"
    ip -n "$NS_CLI" addr add "$ADDR_CLI/24" dev "$DEV_CLI"
    ip -n "$NS_SRV" link set lo up
    ip -n "$NS_CLI" link set lo up
    ip -n "$NS_SRV" link set "$DEV_SRV" up
    ip -n "$NS_CLI" link set "$DEV_CLI" up
    # the only route in either namespace is the connected /24 of the veth
}

now() { printf '%s' "$EPOCHREALTIME"; }

# in_ns NS HOSTNAME LIMIT CMD... : run CMD in namespace NS, in a UTS namespace
# of its own called HOSTNAME, with TZ=UTC, killed after LIMIT seconds.
in_ns() {
    local ns=$1 host=$2 limit=$3
    shift 3
    ip netns exec "$ns" env TZ=UTC LC_ALL=C timeout "$limit" \
        unshare --uts -- sh -c 'hostname "$0" && exec "$@"' "$host" "$@"
}

wait_listening() {   # wait_listening PORT
    local port=$1 i
    for i in $(seq 1 100); do
        if [ -n "$(ip netns exec "$NS_SRV" ss -Hltn "sport = :$port")" ]; then
            return 0
        fi
        sleep 0.05
    done
    log "server on port $port did not start"; return 1
}

outage_ms_for() {    # outage_ms_for POLL_MS TRIAL NTRIALS
    local poll=$1 trial=$2 ntrials=$3
    echo $(( DETECT_MS + MISSED_POLLS * poll + (trial - 1) * poll / ntrials ))
}

# run_one ROOT EXP CFG TRIAL NTRIALS PROTO NFLOWS FIRST_FLOW DUR RATE FAIL_AT SRVFMT LOGFMT JUNK_FLOW [OUTAGE_MS STREAMS]
#   OUTAGE_MS: the outage length itself (default: from the poll interval CFG)
#   STREAMS:   iperf3 -P of each client (default 1)
run_one() {
    local root=$1 exp=$2 cfg=$3 trial=$4 ntrials=$5 proto=$6 nflows=$7 first=$8
    local dur=$9 rate=${10} fail_at=${11} srvfmt=${12} logfmt=${13} junk_flow=${14}
    local fixed_ms=${15:-} streams=${16:-1}
    local poll=$((10#$cfg))
    local outage_ms
    if [ -n "$fixed_ms" ]; then
        outage_ms=$fixed_ms
    else
        outage_ms=$(outage_ms_for "$poll" "$trial" "$ntrials")
    fi
    local rel="${exp}_${cfg}/${exp}_${cfg}_${trial}"
    local dir="$root/$rel"
    local events="$TMP/events.tsv" outage_json="$TMP/outage.json"
    local f port srv_pids=() cli_pids=() t_srv t_cli
    local -a srv_t srv_cmd cli_t cli_cmd

    log "$rel: $proto, $nflows flows x $streams streams, ${dur}s, outage ${outage_ms} ms at client+${fail_at}s (server output: $srvfmt, event log: $logfmt)"
    rm -rf "$dir"
    mkdir -p "$dir/iperf"
    : > "$events"

    # ---- servers (Shremote command iperf_server, begin 0)
    local last=$((first + nflows - 1))
    t_srv=$(now)
    for f in $(seq "$first" "$last"); do
        port=$((BASE_PORT + f))
        local out="$dir/iperf/server_$f.out"
        local -a scmd=(iperf3 -s -1 -p "$port" -i "$INTERVAL" --forceflush)
        srv_t[f]=$(now)
        case $srvfmt in
        ts)
            srv_cmd[f]="iperf3 -s -1 -p $port -i $INTERVAL --forceflush | ts %.s > iperf/server_$f.out 2>&1"
            { in_ns "$NS_SRV" "$HOST_SRV" $((dur + 30)) "${scmd[@]}" 2>&1 | ts %.s > "$out"; } &
            ;;
        c)
            srv_cmd[f]="iperf3 -s -1 -p $port -i $INTERVAL --forceflush --timestamps > iperf/server_$f.out 2>&1"
            in_ns "$NS_SRV" "$HOST_SRV" $((dur + 30)) "${scmd[@]}" --timestamps > "$out" 2>&1 &
            ;;
        ymd)
            srv_cmd[f]="iperf3 -s -1 -p $port -i $INTERVAL --forceflush --timestamps='%Y-%m-%d %H:%M:%S ' > iperf/server_$f.out 2>&1"
            in_ns "$NS_SRV" "$HOST_SRV" $((dur + 30)) "${scmd[@]}" '--timestamps=%Y-%m-%d %H:%M:%S ' > "$out" 2>&1 &
            ;;
        *) log "bad server format $srvfmt"; return 1 ;;
        esac
        srv_pids[f]=$!
        PIDS+=("$!")
    done
    for f in $(seq "$first" "$last"); do
        wait_listening $((BASE_PORT + f))
    done

    # ---- clients (Shremote command iperf_client, begin 1)
    python3 "$HELPER" sleep-until "$(python3 -c "print($t_srv + 1.0)")"
    local -a copts=(-c "$ADDR_SRV" -J -i "$INTERVAL" -t "$dur" -b "$rate")
    local copts_txt="-c $ADDR_SRV -J -i $INTERVAL -t $dur -b $rate"
    if [ "$proto" = udp ]; then
        copts+=(-u)
        copts_txt+=" -u"
    fi
    if [ "$streams" -gt 1 ]; then
        copts+=(-P "$streams")
        copts_txt+=" -P $streams"
    fi
    t_cli=$(now)
    for f in $(seq "$first" "$last"); do
        port=$((BASE_PORT + f))
        local cout="$dir/iperf/client_$f.json"
        cli_t[f]=$(now)
        if [ "$f" = "$junk_flow" ]; then
            cli_cmd[f]="sudo -n iperf3 $copts_txt -p $port > iperf/client_$f.json 2>&1"
            in_ns "$NS_CLI" "$HOST_CLI" $((dur + 20)) sudo -n iperf3 "${copts[@]}" -p "$port" > "$cout" 2>&1 &
        else
            cli_cmd[f]="iperf3 $copts_txt -p $port > iperf/client_$f.json 2>&1"
            in_ns "$NS_CLI" "$HOST_CLI" $((dur + 20)) iperf3 "${copts[@]}" -p "$port" > "$cout" 2>&1 &
        fi
        cli_pids[f]=$!
        PIDS+=("$!")
    done

    # ---- failover outage (Shremote command failover, begin 1 + FAIL_AT)
    python3 "$HELPER" outage --end "$NS_SRV:$DEV_SRV" --end "$NS_CLI:$DEV_CLI" --table "$NFT_TABLE" \
        --at "$(python3 -c "print($t_cli + $fail_at)")" --ms "$outage_ms" --out "$outage_json"

    # ---- wait for everything to finish (each bounded by its timeout)
    local -a cli_end srv_end
    for f in $(seq "$first" "$last"); do
        wait "${cli_pids[f]}"
        cli_end[f]=$(now)
    done
    for f in $(seq "$first" "$last"); do
        wait "${srv_pids[f]}"
        srv_end[f]=$(now)
    done

    # ---- event log
    local fstart fend
    read -r fstart fend < <(python3 -c "
import json; o = json.load(open('$outage_json')); print(repr(o['start']), repr(o['end']))")
    for f in $(seq "$first" "$last"); do
        printf 'iperf_server\t%s\t%s\t%s\t%s\t0\t%s\t\n' "$f" "$ADDR_SRV" "${srv_t[f]}" "${srv_end[f]}" "${srv_cmd[f]}" >> "$events"
    done
    for f in $(seq "$first" "$last"); do
        printf 'iperf_client\t%s\t%s\t%s\t%s\t1\t%s\t\n' "$f" "$ADDR_CLI" "${cli_t[f]}" "${cli_end[f]}" "${cli_cmd[f]}" >> "$events"
    done
    printf 'failover\t\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ADDR_CLI" "$fstart" "$fend" \
        "$(python3 -c "print(1 + $fail_at)")" \
        "nft -f failover.nft  # table netdev $NFT_TABLE, chain on ingress of $DEV_SRV (server side) and of $DEV_CLI (client side), policy drop" \
        "nft delete table netdev $NFT_TABLE  # on both sides" >> "$events"
    python3 "$HELPER" eventlog --format "$logfmt" --events "$events" --out "$dir/event_log.json" \
        --var "iperf_server.port=$((BASE_PORT + first))" \
        --var "iperf_server.interval=$INTERVAL" \
        --var "iperf_server.max_duration=$((dur + 30))" \
        --var "iperf_server.host_name=$HOST_SRV" \
        --var "iperf_server.log_out=server_{flow}.out" \
        --var "iperf_client.time=$dur" \
        --var "iperf_client.rate=$rate" \
        --var "iperf_client.proto=$proto" \
        --var "iperf_client.interval=$INTERVAL" \
        --var "iperf_client.server=$ADDR_SRV" \
        --var "iperf_client.port=$((BASE_PORT + first))" \
        --var "iperf_client.n_flows=$nflows" \
        --var "iperf_client.streams=$streams" \
        --var "iperf_client.max_duration=$((dur + 20))" \
        --var "iperf_client.host_name=$HOST_CLI" \
        --var "iperf_client.log_out=client_{flow}.json" \
        --var "failover.poll_ms=$poll" \
        --var "failover.outage_ms=$outage_ms" \
        --var "failover.devs=$DEV_SRV,$DEV_CLI" \
        --var "failover.duration=$(python3 -c "print($outage_ms / 1000)")" \
        --var "failover.host_name=$HOST_CLI"

    # ---- injected.csv row
    python3 - "$outage_json" "$exp" "$cfg" "$trial" "$poll" "$rel" >> "$root/injected.csv" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
exp, cfg, trial, poll, rel = sys.argv[2:7]
print(",".join([rel, exp, cfg, trial, poll, "%.6f" % o["start"], "%.6f" % o["end"],
                "%d" % o["target_ms"], "%.2f" % o["applied_ms"],
                "%.2f" % o["add_latency_ms"], "%.2f" % o["del_latency_ms"]]))
EOF
    log "$rel: outage applied $(tail -n 1 "$root/injected.csv" | cut -d, -f9) ms"
}

start_campaign() {   # start_campaign ROOT EXP...
    local root=$1 exp
    shift
    mkdir -p "$root"
    for exp in "$@"; do
        rm -rf "${root:?}/${exp:?}_"*
    done
    echo "run,experiment,config,trial,poll_ms,outage_start_epoch,outage_end_epoch,outage_ms_target,outage_ms_applied,add_latency_ms,del_latency_ms" \
        > "$root/injected.csv"
}

write_readme() {     # write_readme ROOT TITLE DESCRIPTION
    local root=$1 title=$2 desc=$3
    {
        echo "# $title"
        echo
        echo "$desc"
        echo
        echo "Generated by \`scripts/make-failover-fixtures.sh $MODE_ARG\` (helper:"
        echo "\`scripts/failover_fixture_helper.py\`), run as root on one Linux machine:"
        echo "real iperf3 processes in two network namespaces joined by a veth pair,"
        echo "and a real nftables drop of every frame on the link for the outage."
        echo "No traffic left the machine.  See the header of the script for details."
        echo
        echo "- iperf3: \`$(iperf3 --version | head -n 1)\`"
        echo "- nftables: \`$(nft --version)\`"
        echo "- kernel: Linux $(uname -r | cut -d- -f1)"
        echo "- interval: \`-i $INTERVAL\` on clients (\`-J\`) and servers (text)"
        echo "- outage model: outage_ms = $DETECT_MS + $MISSED_POLLS * poll_ms + (trial - 1) * poll_ms / trials,"
        echo "  where poll_ms is the configuration in the folder name (the controller's poll"
        echo "  interval).  The drop is an nftables \`netdev\` table with an ingress chain,"
        echo "  policy drop, on each end of the veth (server and client namespace): the"
        echo "  link is dead both ways, senders see no local error, TCP has to retransmit."
        echo "  Both tables are added (and later deleted) within about 1 ms, through"
        echo "  libnftables."
        echo "- \`injected.csv\`: per run, the outage start/end (epoch seconds, middle of the"
        echo "  nft add / delete calls), the target and the applied length (end - start),"
        echo "  and how long each nft call took (the uncertainty of the edges)."
        echo "- event_log.json: Shremote format, written by the helper from the epoch times"
        echo "  taken by the script: \`iperf_server\` (begin 0), \`iperf_client\` (begin 1;"
        echo "  time_ = launch of the clients, the anchor) and \`failover\` (time_ = drop"
        echo "  loaded, stop_time_ = drop removed).  stop_time_ of iperf_server/iperf_client"
        echo "  is when the processes had exited."
        echo
        echo "## Runs"
        echo
        echo "| run | server output | event log | outage target (ms) | outage applied (ms) | outage start (epoch) |"
        echo "| --- | --- | --- | --- | --- | --- |"
        python3 - "$root/injected.csv" "$RUN_NOTES" <<'EOF'
import csv, sys
notes = dict(line.split("=", 1) for line in sys.argv[2].split(";") if line)
for r in csv.DictReader(open(sys.argv[1])):
    cfgdir = r["run"].split("/")[0]
    srv, evl = notes.get(cfgdir, "?|?").split("|")
    print("| %s | %s | %s | %s | %s | %s |" % (r["run"], srv, evl, r["outage_ms_target"],
                                               r["outage_ms_applied"], r["outage_start_epoch"]))
EOF
        echo
        if [ -n "$EXTRA_NOTE" ]; then
            echo "$EXTRA_NOTE"
            echo
        fi
        echo "## Checks (output of \`python3 scripts/failover_fixture_helper.py verify $root\`)"
        echo
        echo '```'
        python3 "$HELPER" verify "$root" || log "verify reported problems in $root"
        echo '```'
    } > "$root/README.md"
}

gen_examples() {
    local root=examples/failover cfg trial
    start_campaign "$root" fec_udp_failover hc_failover
    # UDP: flows 0..1; configs differ in how the server output was stamped
    # and which Shremote event-log format was written.
    for trial in 1 2 3; do
        run_one "$root" fec_udp_failover 020 "$trial" 3 udp 2 0 8 20M 4 ts old -1
    done
    for trial in 1 2 3; do
        local junk=-1
        [ "$trial" = 2 ] && junk=1
        run_one "$root" fec_udp_failover 050 "$trial" 3 udp 2 0 8 20M 4 c old "$junk"
    done
    for trial in 1 2 3; do
        run_one "$root" fec_udp_failover 100 "$trial" 3 udp 2 0 8 20M 4 ts new -1
    done
    # TCP: flows 1..2
    for trial in 1 2; do
        run_one "$root" hc_failover 020 "$trial" 2 tcp 2 1 8 50M 4 ymd old -1
    done
    for trial in 1 2; do
        run_one "$root" hc_failover 100 "$trial" 2 tcp 2 1 8 50M 4 ts new -1
    done
    RUN_NOTES="fec_udp_failover_020=ts %.s|old;fec_udp_failover_050=--timestamps (%c)|old;fec_udp_failover_100=ts %.s|new;hc_failover_020=--timestamps='%Y-%m-%d %H:%M:%S '|old;hc_failover_100=ts %.s|new"
    EXTRA_NOTE="Experiments: \`fec_udp_failover\` = UDP, 2 flows (client_0/1, ports 5200/5201), \`-u -b 20M\`, \`-t 8\`, 3 trials per config; \`hc_failover\` = TCP, 2 flows (client_1/2, ports 5201/5202), \`-b 50M\`, \`-t 8\`, 2 trials per config.  The outage starts 4 s after the clients were launched.  \`fec_udp_failover_050/fec_udp_failover_050_2/iperf/client_1.json\` begins with a junk line: that flow's client was run as \`sudo -n iperf3 ... > client_1.json 2>&1\` on a host whose name does not resolve, and sudo printed \`sudo: unable to resolve host fp-client: ...\` before iperf3's JSON (drop the first line to parse it)."
    write_readme "$root" "Failover example campaign" \
        "Real iperf3 runs reproducing the Flightplan (NSDI'21) failover experiment: parallel flows, a link outage mid-run whose length follows the controller's poll interval (the config in the folder name, in ms)."
}

gen_seed() {
    local root=benches/seed
    start_campaign "$root" fec_udp_failover
    run_one "$root" fec_udp_failover 010 1 1 udp 4 0 30 20M 12 ts old -1
    RUN_NOTES="fec_udp_failover_010=ts %.s|old"
    EXTRA_NOTE="One UDP run: 4 flows (client_0..3, ports 5200..5203), \`-u -b 20M\`, \`-t 30\`, outage 12 s after the clients were launched.  Replicated to build the large benchmark campaign."
    write_readme "$root" "Benchmark seed run" \
        "One real iperf3 failover run, the seed of the benchmark campaign."
}

# set_rto_min [VALUE]: the client namespace's route to the server with
# rto_min VALUE (e.g. 5ms), or back to the kernel's default without VALUE.
set_rto_min() {
    local -a extra=()
    [ -n "${1:-}" ] && extra=(rto_min "$1")
    ip -n "$NS_CLI" route replace 10.200.0.0/24 dev "$DEV_CLI" proto kernel scope link \
        src "$ADDR_CLI" "${extra[@]}"
}

gen_tcp() {
    local root=tests/fixtures/failover_tcp
    start_campaign "$root" tcp_p1 tcp_p2 tcp_p4 tcp_rto5_p1 tcp_rto5_p4
    # run_one ROOT EXP CFG TRIAL NTRIALS PROTO NFLOWS FIRST DUR RATE FAIL_AT SRVFMT LOGFMT JUNK OUTAGE_MS STREAMS
    run_one "$root" tcp_p1 020 1 2 tcp 1 1 3 50M 1.5 ts old -1 20 1
    run_one "$root" tcp_p1 020 2 2 tcp 1 1 3 50M 1.5 ts old -1 20 1
    run_one "$root" tcp_p1 050 1 1 tcp 1 1 3 50M 1.5 ts old -1 50 1
    run_one "$root" tcp_p1 100 1 1 tcp 1 1 3 50M 1.5 ts new -1 100 1
    run_one "$root" tcp_p1 200 1 1 tcp 1 1 3 50M 1.5 ts new -1 200 1
    run_one "$root" tcp_p2 050 1 1 tcp 1 1 3 50M 1.5 ts old -1 50 2
    run_one "$root" tcp_p2 200 1 1 tcp 1 1 3 50M 1.5 ts old -1 200 2
    run_one "$root" tcp_p4 020 1 1 tcp 1 1 3 50M 1.5 ts new -1 20 4
    run_one "$root" tcp_p4 100 1 1 tcp 2 1 3 50M 1.5 ts new -1 100 4
    set_rto_min 5ms
    run_one "$root" tcp_rto5_p1 043 1 1 tcp 1 1 3 50M 1.5 ts old -1 43 1
    run_one "$root" tcp_rto5_p1 070 1 1 tcp 1 1 3 50M 1.5 ts old -1 70 1
    run_one "$root" tcp_rto5_p4 043 1 1 tcp 1 1 3 50M 1.5 ts new -1 43 4
    set_rto_min
    RUN_NOTES="tcp_p1_020=ts %.s|old;tcp_p1_050=ts %.s|old;tcp_p1_100=ts %.s|new;tcp_p1_200=ts %.s|new;tcp_p2_050=ts %.s|old;tcp_p2_200=ts %.s|old;tcp_p4_020=ts %.s|new;tcp_p4_100=ts %.s|new;tcp_rto5_p1_043=ts %.s|old;tcp_rto5_p1_070=ts %.s|old;tcp_rto5_p4_043=ts %.s|new"
    EXTRA_NOTE="TCP runs, \`-b 50M\` per stream, \`-t 3\`, the blackhole 1.5 s after the clients were launched.  \`tcp_pN_MMM\`: each client runs \`-P N\` streams and the outage lasts MMM ms (given directly, not derived from a poll interval; the folder's config is that length).  One client (flow 1, port 5201) per run, except \`tcp_p4_100\` with two clients (flows 1 and 2, ports 5201/5202) of 4 streams each.  \`tcp_rto5_pN_MMM\`: the client namespace's route to the server had \`rto_min 5ms\` (ip route), so TCP retransmits within milliseconds of the path coming back instead of after Linux's default 200 ms minimum, as on a path with a real RTT: the dips are partial intervals, 43 and 70 ms blackholes."
    write_readme "$root" "TCP failover fixtures" \
        "Short real TCP iperf3 runs through a link blackhole of 20 to 200 ms, with 1, 2 and 4 parallel streams: the disruption each one shows (retransmissions, cwnd collapse, throughput dip) is checked against the injected start."
}

MODE_ARG=${1:-all}
RUN_NOTES=""
EXTRA_NOTE=""
case $MODE_ARG in
examples|seed|tcp|all) ;;
*) echo "usage: $0 [examples|seed|tcp|all]" >&2; exit 2 ;;
esac

preflight
setup_net
case $MODE_ARG in
examples) gen_examples ;;
seed) gen_seed ;;
tcp) gen_tcp ;;
all) gen_examples; gen_seed ;;
esac
log "done"
