#!/usr/bin/env bash
# The overflow ring's capacity (README "Full table"). Not a test: it prints
# figures. A kernel table of KFLOWS entries, filled by flowgen's first
# frames; the rest of FLOWS flows go down the ring: packets through the
# ring against packets left in the totals only, and the manager's CPU.
#   tests/bench-ring.sh KFLOWS FLOWS COUNT RATE [flowexport options...]
# RATE 0: as fast as possible. flowgen on CPU 0 (its frames are received
# there too), the manager on CPU 1; its context switches are printed
# before and after the send (nonvoluntary only: it never slept, it was
# preempted). PERF=1: perf record -g of the manager during the send
# (PERF_CPU=N: of CPU N instead); KEEP=1 keeps the folder; FLOWEXPORT=BIN:
# another build (a before/after comparison in one run).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/netns.sh
. tests/leftovers.sh
K=${1:?kernel flows} F=${2:?flows} N=${3:?count} R=${4:?rate}
shift 4
TMP=$(mktemp -d)
if [ -n "${KEEP:-}" ]; then echo "# $TMP"; else at_exit "rm -rf '$TMP'"; fi
PIN=/sys/fs/bpf/fx-rbench-$$
at_exit "rm -rf '$PIN'"
netns_create rb || exit 1
taskset -c 1 ${FLOWEXPORT:-./flowexport} -d "$VETH_HOST" -m native -F "$PIN" -j --kernel-flows "$K" \
	--idle-timeout 60 --stats-file "$TMP/stats" "$@" >/dev/null 2>"$TMP/err" &
pid=$!
at_exit "kill $pid 2>/dev/null"
for _ in $(seq 100); do [ -n "$(xdp_prog_on "$VETH_HOST")" ] && break; sleep 0.1; done
# fill the table first (every flow of it once, slowly enough)
timeout 60 ip netns exec "$NS" build/flowgen -i "$VETH_NS" -n "$K" -f "$K" -F 8000000 -r 50000 >/dev/null
sleep 1.5
tk=$(getconf CLK_TCK)
t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
grep ctxt "/proc/$pid/status" | tr -s '\t\n' '  '; echo
if [ -n "${PERF:-}" ]; then
	what=(-p "$pid")
	[ -n "${PERF_CPU:-}" ] && what=(-a -C "$PERF_CPU")
	perf record -g -o "$TMP/perf.data" "${what[@]}" >/dev/null 2>&1 &
	perfpid=$!
fi
timeout 120 ip netns exec "$NS" taskset -c 0 build/flowgen -i "$VETH_NS" -n "$N" -f "$F" -r "$R" -T 100 -j >"$TMP/gen"
t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
grep ctxt "/proc/$pid/status" | tr -s '\t\n' '  '; echo
[ -n "${PERF:-}" ] && { kill -INT "$perfpid"; wait "$perfpid"; }
gen_s=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$TMP/gen")
kill -USR1 "$pid"; sleep 1.5
cat "$TMP/gen"
echo "manager CPU during the send: $(echo "($t1 - $t0) / $tk" | bc -l | cut -c1-6) s (send $gen_s s)"
tail -n 1 "$TMP/stats" | python3 -c '
import json, sys
d = json.loads(sys.stdin.readline())["counters"]
print("counters (SIGUSR1 after the send): packets %d flowed %d ring %d overflow %d" % (d["packets"], d["flowed"], d["ringPackets"], d["overflowPackets"]))'
kill -TERM "$pid"
wait "$pid"
tail -n 1 "$TMP/stats" | python3 -c '
import json, sys
d = json.loads(sys.stdin.readline())["counters"]
print("at exit: packets %d flowed %d ring %d overflow %d exportedPackets %d" % (d["packets"], d["flowed"], d["ringPackets"], d["overflowPackets"], d["exportedPackets"]))'
