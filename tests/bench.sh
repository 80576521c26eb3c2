#!/usr/bin/env bash
# make bench: measures and prints; asserts nothing (tests do that). Every
# figure goes to $BENCH_OUT/results.jsonl (one JSON object a measurement,
# "part" says which), then tests/lib/bench_report.py prints the tables and
# writes results.csv and bench.png beside it.
#   a. per-packet cost under BPF_PROG_TEST_RUN, 1 to 1M flows, each
#      strategy, against the empty and the bare map program (-t 0 --flows)
#   b. live frames (contrib/flowgen) through a veth, 1, 100k and 1M flows:
#      XDP_PASS, bare map program, flowexport (native XDP, default
#      settings): highest rate with every packet in the records, manager CPU
#   c. the same traffic at the same offered rates through softflowd and
#      pmacctd (pcap) into nfcapd at 30k, 100k and 300k pps: packets
#      accounted (by nfcapd and by the meter), CPU above XDP_PASS only,
#      beside the bare map program's
#   d. export: records/s to a file and to nfcapd (tests/bench-export.sh);
#      drain and expiry of 1M flows at exit
#   e. memory at 1M flows: kernel (map memlock) and user (RSS) per flow
# Generator and receive path share CPU 1 (the receive side of a veth runs
# in the sender's softirq), managers and meters run on CPU 0. b and c
# run in rounds (BENCH_LIVE_ROUNDS, BENCH_PEER_ROUNDS: 3). About 15
# minutes on 2 cores; every wait is bounded.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (BPF)"; exit 1; }
. tests/lib/netns.sh
. tests/lib/collectors.sh
OUT=${BENCH_OUT:-build/bench}
RES=$OUT/results.jsonl
GEN=build/flowgen
SINK=build/flowsink
PY=/usr/bin/python3
WORK=$(mktemp -d)
PIN=/sys/fs/bpf/fx-bench-$$
at_exit "rm -rf '$WORK' '$PIN'"
at_exit collectors_cleanup
mkdir -p "$OUT"
: >"$RES"
HZ=$(getconf CLK_TCK)
PARTS=${BENCH_PARTS:-abcde}
LIVE_FLOWS=${BENCH_LIVE_FLOWS:-"1 100000 1000000"}

emit() { echo "$1" >>"$RES"; }
# calc EXPR: a number, 4 decimals (awk: no bc needed)
calc() { awk "BEGIN{printf \"%.4f\", $*}"; }
note() { echo "bench: $*" >&2; }
# jget JSON KEY: one key of a JSON object given as a string
jget() { $PY -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"; }
# counter FILE KEY: a counter of the last line of a -j --stats-file
counter() { $PY -c 'import json,sys; l=open(sys.argv[1]).read().split(); print(json.loads(l[-1])["counters"][sys.argv[2]] if l else "")' "$1" "$2" 2>/dev/null; }
# CPU ticks (user + system) of pids: their run time, kept exact by the
# scheduler
proc_ticks() { local t=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}'))); done; echo $t; }
# The whole machine's busy time is what its idle time leaves: /proc/stat's
# user and system times are sampled at the tick, and flowgen's bursts,
# which start at a tick and end before the next, were mostly missed (0.04
# to 1.06 s for the same 500k frames), while idle and iowait are measured
# at each idle entry and exit (NO_HZ; softirq work on an idle CPU is not
# idle). machine_mark prints a mark; machine_busy MARK0 MARK1 the CPU
# seconds busy between two (steal: the host's, not ours).
NCPU=$(grep -c '^cpu[0-9]' /proc/stat)
machine_mark() { echo "$(date +%s.%N) $(awk '/^cpu /{print $5 + $6 + $9}' /proc/stat)"; }
machine_busy() {
	awk -v a="$1" -v b="$2" -v n="$NCPU" -v hz="$HZ" \
		'BEGIN{split(a, x, " "); split(b, y, " "); printf "%.4f", (y[1] - x[1]) * n - (y[2] - x[2]) / hz}'
}
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
# kernel memory of every BPF map a process holds (fdinfo memlock)
map_bytes() { cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '/^memlock:/{s += $2} END{print s + 0}'; }
rx_packets() { cat "/sys/class/net/$VETH_HOST/statistics/rx_packets"; }
# wait_for CMD...: up to 10 s
wait_for() { for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done; return 1; }
attached() { [ -n "$(xdp_prog_on "$VETH_HOST")" ]; }
# gen ARGS...: flowgen from the namespace on CPU 1, its JSON line on stdout
gen() { timeout 120 ip netns exec "$NS" taskset -c 1 $GEN -i "$VETH_NS" -j -T 60 "$@"; }
# stop PID [SEC]: SIGTERM, wait up to SEC (20) s; prints seconds taken
stop_timed() {
	local pid=$1 max=${2:-20} t0
	t0=$(date +%s.%N)
	kill -TERM "$pid" 2>/dev/null
	timeout "$max" tail -s 0.01 --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	calc "$(date +%s.%N) - $t0"
}

if [[ $PARTS == *a* ]]; then
	note "a. BPF_PROG_TEST_RUN per-packet cost"
	./flowexport -t 0 -j -q | while read -r l; do
		emit "{\"part\":\"testrun\",\"flows\":1,\"mode\":\"one flow\",${l#\{}"
	done
	for n in 1 1000 100000 1000000; do
		./flowexport -t 0 -j -q --flows "$n" | while read -r l; do
			emit "{\"part\":\"testrun\",\"mode\":\"cycled\",${l#\{}"
		done
	done
fi

if [[ $PARTS == *[bcde]* ]]; then
	netns_create bn || { echo "bench: cannot create the namespace"; exit 1; }
fi

# The first live run after the namespace is made is slow (XDP_PASS 0.78
# and 0.99 Mpps against 1.8-2.2 after it): one unmeasured burst first.
live_warm_up() {
	$SINK -i "$VETH_HOST" -p pass -T 60 >/dev/null 2>"$WORK/warm.err" &
	local pid=$!
	at_exit "kill $pid"
	wait_for grep -q attached "$WORK/warm.err" && gen -n 1000000 -f 1000 >/dev/null
	kill -INT "$pid"
	wait "$pid" 2>/dev/null
}

if [[ $PARTS == *[bc]* ]]; then
	live_warm_up
fi

# The bare map program's table has as many entries as flowexport's by
# default (--kernel-flows): the same buckets for the same flows.
KERNEL_FLOWS=2097152

# in_order ROUND ITEM...: the items for this round, rotated by the round
# and reversed in every second one, so that no item always follows the
# same other one (a run can leave the next a warm or a cold machine)
in_order() {
	local round=$1 n i
	shift
	n=$#
	local items=("$@") out=()
	for ((i = 0; i < n; i++)); do out+=("${items[$(((i + round - 1) % n))]}"); done
	if ((round % 2 == 0)); then
		for ((i = n - 1; i >= 0; i--)); do echo "${out[$i]}"; done
	else
		printf '%s\n' "${out[@]}"
	fi
}

# live_sink PROG FLOWS RATE COUNT ROUND: flowsink (pass|map|map-ondemand)
# on the host end
live_sink() {
	local prog=$1 flows=$2 rate=$3 count=$4 round=$5 pid r0 g
	$SINK -i "$VETH_HOST" -p "$prog" -n "$KERNEL_FLOWS" -T 300 -j \
		>"$WORK/sink.out" 2>"$WORK/sink.err" &
	pid=$!
	at_exit "kill $pid"
	wait_for grep -q attached "$WORK/sink.err" || { note "flowsink did not attach"; kill $pid; return 1; }
	r0=$(rx_packets)
	g=$(gen -n "$count" -f "$flows" -r "$rate")
	local received=$(($(rx_packets) - r0))
	kill -INT "$pid"
	timeout 30 tail --pid="$pid" -f /dev/null
	wait "$pid"
	local secs
	secs=$(jget "$g" seconds)
	emit "{\"part\":\"live\",\"round\":$round,\"receiver\":\"$prog\",\"flows\":$flows,\"offered_pps\":$rate,\"sent\":$(jget "$g" packets),\"seconds\":$secs,\"received\":$received,\"accounted\":$([ "$prog" != pass ] && jget "$(cat "$WORK/sink.out")" packets || echo $received),\"mpps\":$(calc "$received / $secs / 1000000")}"
}

# live_fx FLOWS RATE COUNT ROUND: flowexport, default settings, native
# XDP on the host end, JSON records counted as they come; succeeds when
# every packet sent is in a record, returns 2 when it did not attach
live_fx() {
	local flows=$1 rate=$2 count=$3 round=$4 pid cnt r0 c0 c1 m0 m1 rss0 rss1 kmem g secs drain
	mkfifo "$WORK/fx.fifo"
	$PY tests/lib/bench_count.py <"$WORK/fx.fifo" >"$WORK/fx.count" &
	cnt=$!
	taskset -c 0 ./flowexport -d "$VETH_HOST" -m native -F "$PIN" -j -q \
		--stats-file "$WORK/fx.stats" --stats-interval 1 \
		>"$WORK/fx.fifo" 2>"$WORK/fx.err" &
	pid=$!
	at_exit "kill $pid $cnt"
	if ! wait_for attached; then
		note "flowexport did not attach: $(cat "$WORK/fx.err")"
		kill $pid $cnt
		wait $pid $cnt
		rm -f "$WORK/fx.fifo"
		return 2
	fi
	sleep 1
	rss0=$(rss_kb $pid)
	r0=$(rx_packets)
	c0=$(proc_ticks $pid)
	m0=$(machine_mark)
	g=$(gen -n "$count" -f "$flows" -r "$rate")
	c1=$(proc_ticks $pid)
	m1=$(machine_mark)
	local received=$(($(rx_packets) - r0))
	sleep 2 # a drain or two: every flow into the user-space cache
	rss1=$(rss_kb $pid)
	kmem=$(map_bytes $pid)
	local active
	active=$(counter "$WORK/fx.stats" activeFlows)
	drain=$(stop_timed $pid 120)
	timeout 60 tail --pid="$cnt" -f /dev/null
	wait "$cnt"
	rm -f "$WORK/fx.fifo"
	secs=$(jget "$g" seconds)
	local sent exported
	sent=$(jget "$g" packets)
	exported=$(jget "$(cat "$WORK/fx.count")" packets)
	emit "{\"part\":\"live\",\"round\":$round,\"receiver\":\"flowexport\",\"flows\":$flows,\"offered_pps\":$rate,\"sent\":$sent,\"seconds\":$secs,\"received\":$received,\"accounted\":${exported:-0},\"records\":$(jget "$(cat "$WORK/fx.count")" records),\"mpps\":$(calc "$sent / $secs / 1000000"),\"manager_cpu\":$(calc "($c1 - $c0) / $HZ / $secs"),\"machine_cpu\":$(calc "$(machine_busy "$m0" "$m1") / $secs"),\"rss_kb_idle\":$rss0,\"rss_kb\":$rss1,\"active_flows\":\"$active\",\"map_bytes\":$kmem,\"exit_seconds\":$drain,\"ring\":\"$(counter "$WORK/fx.stats" ringPackets)\",\"overflow\":\"$(counter "$WORK/fx.stats" overflowPackets)\",\"evicted\":\"$(counter "$WORK/fx.stats" evictedFlows)\"}"
	[ "${exported:-0}" = "$sent" ]
}

# flowexport: the highest rate with every packet in the records: as fast
# as possible, then 80% and 60% of what that reached
live_fx_best() {
	local flows=$1 count=$2 round=$3 top pct rc
	live_fx "$flows" 0 "$count" "$round"
	rc=$?
	[ $rc -eq 0 ] && return 0
	[ $rc -eq 2 ] && return 1 # nothing measured: no rate to go below
	top=$(tail -1 "$RES")
	top=$(awk "BEGIN{printf \"%d\", $(jget "$top" sent) / $(jget "$top" seconds)}")
	for pct in 80 60; do
		live_fx "$flows" $((top * pct / 100)) "$count" "$round" && return 0
	done
	return 1
}

# A receiver's rate moves from run to run here (XDP_PASS alone 1.65-2.28
# Mpps): each flow count is run BENCH_LIVE_ROUNDS times (3), the receivers
# in a different order each round (in_order), and the report takes the
# ratios within a round and their median.
LIVE_ROUNDS=${BENCH_LIVE_ROUNDS:-3}
LIVE_RECEIVERS=(pass map map-ondemand flowexport)
if [[ $PARTS == *b* ]]; then
	for flows in $LIVE_FLOWS; do
		count=$((flows * 4 > 3000000 ? flows * 4 : 3000000))
		for round in $(seq "$LIVE_ROUNDS"); do
			note "b. live, $flows flows, $count frames, round $round of $LIVE_ROUNDS: XDP_PASS, bare map program (preallocated, on demand), flowexport"
			for rcv in $(in_order "$round" "${LIVE_RECEIVERS[@]}"); do
				if [ "$rcv" = flowexport ]; then
					live_fx_best "$flows" "$count" "$round"
				else
					live_sink "$rcv" "$flows" 0 "$count" "$round"
				fi
			done
		done
	done
fi

# peer_run METER RATE FLOWS COUNT ROUND: one meter on the host end at one
# offered rate into nfcapd; METER = none (XDP_PASS only: the idle
# reference), map (the bare map program, its table allocated on demand as
# ours: the table's own cost at this rate, nothing exported), flowexport,
# softflowd, pmacctd
peer_run() {
	local meter=$1 rate=$2 flows=$3 count=$4 round=$5 port dir pids=() spid="" c0 c1 m0 m1 g p
	port=$(free_port udp)
	dir="$WORK/nf-$meter-$rate"
	rm -rf "$dir"
	mkdir -p "$dir"
	# the largest socket buffer rmem_max allows (4 MB here): the collector
	# should not be what loses records when a meter sends in bursts
	nfcapd -w "$dir" -b 127.0.0.1 -p "$port" -B "$(sysctl -n net.core.rmem_max)" \
		>"$dir.log" 2>&1 &
	COLLECTOR_PIDS+=($!)
	wait_listen udp "$port"
	local nfpid=${COLLECTOR_PIDS[-1]}
	if [ "$meter" != flowexport ]; then # pcap meters need a program to take XDP_TX frames
		$SINK -i "$VETH_HOST" -p "$([ "$meter" = map ] && echo map-ondemand || echo pass)" \
			-n "$KERNEL_FLOWS" -T 300 >/dev/null 2>"$WORK/psink.err" &
		spid=$!
		at_exit "kill $spid"
		wait_for grep -q attached "$WORK/psink.err"
	fi
	case $meter in
	flowexport)
		rm -f "$WORK/peer.stats"
		taskset -c 0 ./flowexport -d "$VETH_HOST" -m native -F "$PIN" -q -j \
			--stats-file "$WORK/peer.stats" -c "127.0.0.1:$port" 2>"$WORK/peer.err" &
		pids=($!)
		wait_for attached ;;
	softflowd)
		rm -f "$WORK/sf.ctl" "$WORK/sf.stats" # the last round's are not this one's
		taskset -c 0 softflowd -d -i "$VETH_HOST" -n "127.0.0.1:$port" -v 10 -A milli \
			-m 200000 -B 67108864 -c "$WORK/sf.ctl" -p "$WORK/sf.pid" >"$WORK/peer.err" 2>&1 &
		pids=($!)
		wait_for test -S "$WORK/sf.ctl" ;;
	pmacctd)
		cat >"$WORK/pm.conf" <<-EOF
			daemonize: false
			pcap_interface: $VETH_HOST
			aggregate: src_host, dst_host, src_port, dst_port, proto
			plugins: nfprobe
			nfprobe_receiver: 127.0.0.1:$port
			nfprobe_version: 10
			nfprobe_maxflows: 200000
			plugin_pipe_size: 102400000
			plugin_buffer_size: 102400
		EOF
		taskset -c 0 pmacctd -f "$WORK/pm.conf" >"$WORK/peer.err" 2>&1 &
		pids=($!)
		sleep 2 ;;
	esac
	for p in "${pids[@]}"; do at_exit "kill $p"; done
	sleep 1
	[ "$meter" = pmacctd ] && mapfile -t -O "${#pids[@]}" pids < <(pgrep -P "${pids[0]}")
	# the same window for every meter: the frames and a second to catch
	# up; a meter's start and stop (loading, a table walk at exit) cost
	# the same whatever the traffic and stay outside
	c0=$(proc_ticks "${pids[@]}")
	m0=$(machine_mark)
	g=$(gen -n "$count" -f "$flows" -r "$rate")
	sleep 1
	c1=$(proc_ticks "${pids[@]}")
	m1=$(machine_mark)
	case $meter in
	softflowd)
		timeout 20 softflowctl -c "$WORK/sf.ctl" statistics >"$WORK/sf.stats" 2>&1
		timeout 20 softflowctl -c "$WORK/sf.ctl" shutdown >/dev/null 2>&1
		timeout 20 tail --pid="${pids[0]}" -f /dev/null ;;
	pmacctd) kill -INT "${pids[0]}"; timeout 20 tail --pid="${pids[0]}" -f /dev/null ;;
	flowexport) stop_timed "${pids[0]}" >/dev/null ;;
	esac
	[ -n "$spid" ] && { kill -INT "$spid"; wait "$spid" 2>/dev/null; }
	sleep 1
	stop_pid "$nfpid"
	local acc
	acc=$(nfdump -R "$dir" -q -6 -N -o 'fmt:%pkt' 2>/dev/null | awk '{s += $1} END{print s + 0}')
	case $meter in none | map) acc=0 ;; esac
	# what the meter says it metered (flowexport: packets in its records;
	# softflowd: packets processed), apart from what reached nfcapd
	local own=""
	[ "$meter" = flowexport ] && own=$(counter "$WORK/peer.stats" exportedPackets)
	[ "$meter" = softflowd ] && own=$(sed -n 's/^Packets processed: //p' "$WORK/sf.stats")
	emit "{\"part\":\"peers\",\"round\":$round,\"meter\":\"$meter\",\"flows\":$flows,\"offered_pps\":$rate,\"sent\":$(jget "$g" packets),\"seconds\":$(jget "$g" seconds),\"accounted\":$acc,\"own_count\":\"$own\",\"meter_cpu_s\":$(calc "($c1 - $c0) / $HZ"),\"machine_cpu_s\":$(machine_busy "$m0" "$m1")}"
}

# The machine's CPU above the reference is a difference of two noisy
# sums: each rate is run BENCH_PEER_ROUNDS times (3), the meters in a
# different order each round (in_order), and the report takes the median.
PEER_ROUNDS=${BENCH_PEER_ROUNDS:-3}
PEER_METERS=(none map flowexport softflowd pmacctd)
if [[ $PARTS == *c* ]]; then
	for round in $(seq "$PEER_ROUNDS"); do
		for run in 30000:300000 100000:1000000 300000:1000000; do # rate:frames
			rate=${run%:*}
			note "c. peers at $rate pps, 10k flows, ${run#*:} frames, round $round of $PEER_ROUNDS"
			for meter in $(in_order "$round" "${PEER_METERS[@]}"); do
				peer_run "$meter" "$rate" 10000 "${run#*:}" "$round"
			done
		done
	done
fi

if [[ $PARTS == *d* ]]; then
	note "d. export throughput"
	BENCH_RESULTS=$RES tests/bench-export.sh >&2
	# drain and expire 1M flows at exit, records to an IPFIX file
	note "d. 1M flows drained and expired at exit"
	./flowexport -d "$VETH_HOST" -m native -F "$PIN" -q -j -c "file:$WORK/drain.ipfix" \
		--stats-file "$WORK/drain.stats" 2>"$WORK/drain.err" &
	pid=$!
	at_exit "kill $pid"
	if wait_for attached; then
		g=$(gen -n 1000000 -f 1000000)
		sleep 2
		secs=$(stop_timed $pid 120)
		emit "{\"part\":\"drain\",\"flows\":1000000,\"sent\":$(jget "$g" packets),\"exit_seconds\":$secs,\"records\":\"$(counter "$WORK/drain.stats" exportedRecords)\",\"packets\":\"$(counter "$WORK/drain.stats" exportedPackets)\",\"file_bytes\":$(stat -c %s "$WORK/drain.ipfix")}"
	fi
fi

$PY tests/lib/bench_report.py "$OUT"
