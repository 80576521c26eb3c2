#!/usr/bin/env bash
# make soak: an endurance run, not a test of make test.
#
# flowexport meters one end of a veth (native XDP) for SOAK_SECONDS
# (default 600) while build/flowgen sends SOAK_RATE packets a second from
# the namespace, SOAK_NEW_FLOWS new flows every second (flowgen -F moves
# on), each flow living SOAK_FLOW_SECONDS seconds, so flows start and
# expire all the time. Records go to two collectors on loopback:
#   TCP: killed (SIGKILL) at 30% of the run, restarted 20 s later (10% of
#        the run if shorter);
#   UDP: its port closed at 50% for SOAK_UDP_DOWN seconds (default 60):
#        a relay in front of it (tests/lib/udp_relay.py) stops taking
#        datagrams, so that the exporter gets ICMP port unreachable as from
#        a stopped collector, while nothing the collector already took is
#        lost with it (a stopped process loses its socket's queue, which no
#        exporter can know of).
# Every 10 s it samples the manager's RSS, the kernel memory of its maps
# (bpftool's bytes_memlock) and the counters line. At the end:
#   - the TCP collector received every packet sent;
#   - the UDP collector received every packet sent, except those of the
#     records flowexport counted as unsent (unsentPackets) while it was down;
#   - the flow cache holds no more than the live flows (activeFlows stays
#     below what SOAK_NEW_FLOWS x (SOAK_FLOW_SECONDS + timeouts) allows);
#   - memory is flat: once both outages are over (and a minute has passed),
#     RSS and map memory stay within SOAK_GROWTH_PCT (default 10) percent
#     of their lowest sample (an outage's backlog is given back after it).
# Results: build/soak/samples.csv, build/soak/soak.png, and a summary
# (build/soak/summary.txt) whose figures the README quotes.
set -u
cd "$(dirname "$0")/.."
. tests/lib/netns.sh
. tests/lib/collectors.sh
. tests/leftovers.sh
PY=/usr/bin/python3
SECONDS_TOTAL=${SOAK_SECONDS:-600}
RATE=${SOAK_RATE:-50000}
NEW_FLOWS=${SOAK_NEW_FLOWS:-2000}
FLOW_SECONDS=${SOAK_FLOW_SECONDS:-5}
UDP_DOWN=${SOAK_UDP_DOWN:-60}
GROWTH_PCT=${SOAK_GROWTH_PCT:-10}
TCP_DOWN=$((SECONDS_TOTAL / 10 < 20 ? SECONDS_TOTAL / 10 : 20))
IDLE=5
OUT=${SOAK_DIR:-build/soak}
COLLECTOR=build/tests/ipfix_collector
FX=./flowexport
GEN=build/flowgen
PIN=/sys/fs/bpf/fx-soak-$$
for b in "$FX" "$GEN" "$COLLECTOR"; do
	[ -x "$b" ] || { echo "soak: $b is not built (make all)" >&2; exit 1; }
done
rm -rf "$OUT"
mkdir -p "$OUT"
at_exit "collectors_cleanup"
at_exit "rm -rf '$PIN'"
netns_create sk || { echo "soak: no namespace" >&2; exit 1; }

tcp_port=$(free_port tcp)
udp_port=$(free_port udp)
# start_collector PROTO PORT FILE: appends the collector's records to FILE
start_collector() {
	$COLLECTOR "$1" "$2" 127.0.0.1 >>"$3" 2>>"$3.err" &
	COLLECTOR_PIDS+=($!)
	wait_listen "$1" "$2"
}
start_collector tcp "$tcp_port" "$OUT/tcp.out"
tcp_pid=${COLLECTOR_PIDS[-1]}
udp_coll_port=$(free_port tcp)
start_collector tcp "$udp_coll_port" "$OUT/udp.out"
udp_pid=${COLLECTOR_PIDS[-1]}
$PY tests/lib/udp_relay.py "$udp_port" "$udp_coll_port" >"$OUT/relay.out" 2>&1 &
relay=$!
COLLECTOR_PIDS+=($relay)
wait_listen udp "$udp_port"

$FX -d "$VETH_HOST" -m native -F "$PIN" -q \
	-c "tcp://127.0.0.1:$tcp_port" -c "udp://127.0.0.1:$udp_port" \
	--idle-timeout $IDLE --active-timeout 60 \
	--stats-interval 10 --stats-file "$OUT/stats.jsonl" -j \
	>/dev/null 2>"$OUT/fx.err" &
fx=$!
at_exit "kill $fx"
for _ in $(seq 100); do [ -n "$(xdp_prog_on "$VETH_HOST")" ] && break; sleep 0.1; done
[ -n "$(xdp_prog_on "$VETH_HOST")" ] || { echo "soak: flowexport did not attach" >&2; cat "$OUT/fx.err" >&2; exit 1; }

# map_memory: kernel memory (memlock) of every BPF map the manager holds
# open, each map once (its fdinfo: the flow table, rings, arrays)
map_memory() {
	grep -H -E '^(map_id|memlock):' /proc/"$fx"/fdinfo/* 2>/dev/null |
		awk -F'[:\t ]+' '$2 == "map_id" {id[$1] = $3} $2 == "memlock" {mem[$1] = $3}
			END {for (f in id) if (!(id[f] in seen)) {seen[id[f]] = 1; s += mem[f]}; print s + 0}'
}

# the host's UDP receive-buffer drops during the run: a collector that
# could not keep up loses datagrams no exporter hears of
rcvbuf_errors() { nstat -az UdpRcvbufErrors 2>/dev/null | awk '$1 == "UdpRcvbufErrors" {print $2}'; }
rcvbuf_before=$(rcvbuf_errors)
echo "t,rss_kb,map_bytes,packets_sent,packets_seen,active_flows,exported_records" >"$OUT/samples.csv"
sent=0 flow=0 start=$(date +%s) next_sample=0 tcp_killed=0 tcp_back=0 udp_stopped=0 udp_back=0
echo "# soak: ${SECONDS_TOTAL}s, $RATE pps, $NEW_FLOWS new flows/s living ${FLOW_SECONDS}s, idle timeout ${IDLE}s"
while :; do
	now=$(($(date +%s) - start))
	[ "$now" -ge "$SECONDS_TOTAL" ] && break
	# the collectors' outages
	if [ $tcp_killed = 0 ] && [ "$now" -ge $((SECONDS_TOTAL * 3 / 10)) ]; then
		kill -9 "$tcp_pid"; tcp_killed=$now; echo "# ${now}s: TCP collector killed"
	fi
	if [ $tcp_killed != 0 ] && [ $tcp_back = 0 ] && [ "$now" -ge $((tcp_killed + TCP_DOWN)) ]; then
		start_collector tcp "$tcp_port" "$OUT/tcp.out"; tcp_pid=${COLLECTOR_PIDS[-1]}
		tcp_back=$now; echo "# ${now}s: TCP collector back"
	fi
	if [ $udp_stopped = 0 ] && [ "$now" -ge $((SECONDS_TOTAL / 2)) ]; then
		kill -USR1 "$relay"; udp_stopped=$now; echo "# ${now}s: UDP collector's port closed"
	fi
	if [ $udp_stopped != 0 ] && [ $udp_back = 0 ] && [ "$now" -ge $((udp_stopped + UDP_DOWN)) ]; then
		kill -USR2 "$relay"; udp_back=$now; echo "# ${now}s: UDP collector back"
	fi
	# one second of traffic: flows [flow, flow + NEW_FLOWS * FLOW_SECONDS)
	# cycled, the window moving by NEW_FLOWS a second
	n=$(ip netns exec "$NS" timeout 10 $GEN -i "$VETH_NS" -j -n "$RATE" -r "$RATE" -T 2 \
		-f $((NEW_FLOWS * FLOW_SECONDS)) -F $((flow % 8000000)) 2>>"$OUT/gen.err" |
		$PY -c 'import json,sys; print(json.load(sys.stdin)["packets"])' 2>/dev/null)
	sent=$((sent + ${n:-0}))
	flow=$((flow + NEW_FLOWS))
	if [ "$now" -ge "$next_sample" ]; then
		rss=$(awk '/^VmRSS/ {print $2}' "/proc/$fx/status" 2>/dev/null)
		line=$(tail -1 "$OUT/stats.jsonl" 2>/dev/null)
		read -r seen active recs < <(echo "${line:-{\}}" | $PY -c '
import json, sys
try:
    c = json.loads(sys.stdin.read())["counters"]
    print(c["packets"], c["activeFlows"], c["exportedRecords"])
except Exception:
    print(0, 0, 0)')
		echo "$now,${rss:-0},$(map_memory),$sent,$seen,$active,$recs" >>"$OUT/samples.csv"
		next_sample=$((now + 10))
	fi
done
echo "# traffic done: $sent packets sent; waiting for the last flows to expire"
sleep $((IDLE + 3))
kill -TERM "$fx"
timeout 60 tail --pid="$fx" -f /dev/null
wait "$fx"
fxrc=$?
sleep 0.5
stop_pid "$tcp_pid"
stop_pid "$relay"
sleep 0.5
stop_pid "$udp_pid"

rcvbuf_lost=$(($(rcvbuf_errors) - rcvbuf_before))
$PY - "$OUT" "$sent" "$fxrc" "$NEW_FLOWS" "$FLOW_SECONDS" "$IDLE" "$GROWTH_PCT" "$rcvbuf_lost" "$((udp_back > tcp_back ? udp_back : tcp_back))" <<'EOF'
import csv, json, sys
out, sent, fxrc, new_flows, flow_s, idle, growth, rcvbuf_lost, calm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *map(int, sys.argv[4:10])
def received(path):
    n = 0
    for line in open(path, errors="replace"):
        f = line.split()
        if f and f[0] == "rec":
            n += int(f[2])
    return n
tcp, udp = received(f"{out}/tcp.out"), received(f"{out}/udp.out")
last = json.loads(open(f"{out}/stats.jsonl").read().strip().split("\n")[-1])["counters"]
rows = list(csv.DictReader(open(f"{out}/samples.csv")))
fails = []
def check(what, cond):
    print(("ok - " if cond else "not ok - ") + what)
    if not cond:
        fails.append(what)
check(f"flowexport exits 0 ({fxrc})", fxrc == 0)
check(f"the meter saw every packet sent ({last['packets']} of {sent})", last["packets"] >= sent)
check(f"no packet in the overflow totals only ({last['overflowPackets']})", last["overflowPackets"] == 0)
check(f"TCP collector: every packet sent ({tcp} of {sent})", tcp == sent)
check(f"UDP collector: packets received {udp} + unsent {last['unsentPackets']} = sent {sent}"
      + (f" (the host dropped {rcvbuf_lost} UDP datagrams for a full receive buffer)" if rcvbuf_lost else ""),
      udp + last["unsentPackets"] == sent and last["unsentPackets"] > 0)
live_bound = new_flows * (flow_s + idle + 3)
peak = max(int(r["active_flows"]) for r in rows)
check(f"flow cache at most the live flows (peak {peak}, bound {live_bound})", peak <= live_bound)
settled = [r for r in rows if int(r["t"]) >= calm + 60]
if len(settled) >= 3:
    for key in ("rss_kb", "map_bytes"):
        lo, hi = min(int(r[key]) for r in settled), max(int(r[key]) for r in settled)
        check(f"{key} flat after the outages ({len(settled)} samples): {lo} to {hi} (<= +{growth}%)",
              hi <= lo * (1 + growth / 100))
else:
    check("enough samples after the outages to judge memory (run longer)", False)
summary = {
    "seconds": int(rows[-1]["t"]) if rows else 0, "packets_sent": sent,
    "tcp_received": tcp, "udp_received": udp, "udp_unsent_packets": last["unsentPackets"],
    "exported_records": last["exportedRecords"], "peak_active_flows": peak,
    "rss_kb_min": min(int(r["rss_kb"]) for r in rows), "rss_kb_max": max(int(r["rss_kb"]) for r in rows),
    "map_bytes_min": min(int(r["map_bytes"]) for r in rows), "map_bytes_max": max(int(r["map_bytes"]) for r in rows),
}
open(f"{out}/summary.txt", "w").write(json.dumps(summary) + "\n")
print("# " + json.dumps(summary))
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t = [int(r["t"]) for r in rows]
    fig, ax = plt.subplots(3, 1, figsize=(8, 8), sharex=True)
    ax[0].plot(t, [int(r["rss_kb"]) / 1024 for r in rows], label="manager RSS")
    ax[0].plot(t, [int(r["map_bytes"]) / 2**20 for r in rows], label="BPF maps")
    ax[0].set_ylabel("MiB"); ax[0].legend(); ax[0].set_ylim(bottom=0)
    rate = [0] + [(int(b["packets_seen"]) - int(a["packets_seen"])) / max(1, int(b["t"]) - int(a["t"]))
                  for a, b in zip(rows, rows[1:])]
    ax[1].plot(t, [r / 1000 for r in rate]); ax[1].set_ylabel("kpps metered")
    ax[2].plot(t, [int(r["active_flows"]) for r in rows]); ax[2].set_ylabel("flows in cache")
    ax[2].set_xlabel("seconds")
    fig.suptitle("flowexport soak: memory, rate and flows over time")
    fig.savefig(f"{out}/soak.png", dpi=90)
    print(f"# plot: {out}/soak.png")
except ImportError:
    print("# matplotlib missing (make deps): no plot")
print(f"# soak: {len(fails)} check(s) failed" if fails else "# soak: every check passed")
sys.exit(1 if fails else 0)
EOF
rc=$?
rm -rf "$PIN"
check_leftovers || rc=1
exit $rc
