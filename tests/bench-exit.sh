#!/usr/bin/env bash
# The time from SIGTERM to exit with N live flows (one packet each), every
# record written to an IPFIX file (make bench part d runs the same with 1M).
# Not a test: it prints figures.
#   tests/bench-exit.sh [FLOWS] [flowexport options...]
# FLOWEXPORT_PERF=FILE: record the exit with perf into FILE; FLOWEXPORT=BIN:
# another build (a before/after comparison in one run).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/netns.sh
. tests/leftovers.sh
N=${1:-1000000}
shift
TMP=$(mktemp -d)
at_exit "rm -rf '$TMP'"
PIN=/sys/fs/bpf/fx-exitbench-$$
at_exit "rm -rf '$PIN'"
netns_create eb || exit 1
${FLOWEXPORT:-./flowexport} -d "$VETH_HOST" -m native -F "$PIN" -j -c "file:$TMP/out.ipfix" \
	--stats-file "$TMP/stats" "$@" 2>"$TMP/err" &
pid=$!
at_exit "kill $pid 2>/dev/null"
for _ in $(seq 100); do [ -n "$(xdp_prog_on "$VETH_HOST")" ] && break; sleep 0.1; done
timeout 120 ip netns exec "$NS" taskset -c 1 build/flowgen -i "$VETH_NS" -j -T 60 \
	-n "$N" -f "$N"
sleep 2
if [ -n "${FLOWEXPORT_PERF:-}" ]; then
	perf record -g -o "$FLOWEXPORT_PERF" -p "$pid" >/dev/null 2>&1 &
	perf_pid=$!
	sleep 0.5
fi
a=$(date +%s.%N)
kill -TERM "$pid"
timeout 120 tail -s 0.01 --pid="$pid" -f /dev/null # tail polls each 1 s by default
wait "$pid"
b=$(date +%s.%N)
[ -n "${FLOWEXPORT_PERF:-}" ] && { kill -INT "$perf_pid"; wait "$perf_pid"; }
echo "exit: $(echo "$b - $a" | bc | cut -c1-5) s"
grep "at exit" "$TMP/err"
/usr/bin/python3 -c 'import json,sys; c=json.loads(open(sys.argv[1]).read().split()[-1])["counters"]; print("records", c["exportedRecords"], "packets", c["exportedPackets"])' "$TMP/stats"
echo "file bytes $(stat -c %s "$TMP/out.ipfix")"
