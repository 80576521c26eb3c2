#!/usr/bin/env bash
# Manager CPU with N live flows, then the time to end them all at exit
# (README "Flow table lifecycle"). Not a test: it prints figures.
#   tests/bench-lifecycle.sh FLOWS WINDOW_SECONDS [flowexport options...]
# flowexport meters one end of a veth in a namespace of its own; two
# loaders (build/tests/table_cost load) keep the flows alive through its own
# entry program (BPF_PROG_TEST_RUN, kernel clock); the manager's CPU comes
# from /proc/PID/stat over the window, after two rounds of every flow.
set -u
cd "$(dirname "$0")/.."
. tests/lib/netns.sh
. tests/leftovers.sh
N=${1:?flows} WIN=${2:?seconds}
shift 2
TMP=$(mktemp -d)
at_exit "rm -rf '$TMP'"
PIN=/sys/fs/bpf/fx-lcbench-$$
at_exit "rm -rf '$PIN'"
netns_create lcb || exit 1
./flowexport -d "$VETH_HOST" -F "$PIN" -j -c udp://127.0.0.1:9 "$@" \
	--stats-file "$TMP/stats" --stats-interval 5 >/dev/null 2>"$TMP/err" &
pid=$!
at_exit "kill $pid 2>/dev/null"
LINK="$PIN/flowexport-$VETH_HOST/link_$VETH_HOST"
for _ in $(seq 100); do [ -e "$LINK" ] && break; sleep 0.1; done
H=$((N / 2))
build/tests/table_cost load "$LINK" 0 "$H" $((WIN + 60)) >"$TMP/load1" 2>&1 &
l1=$!
at_exit "kill $l1 2>/dev/null"
build/tests/table_cost load "$LINK" "$H" $((N - H)) $((WIN + 60)) >"$TMP/load2" 2>&1 &
l2=$!
at_exit "kill $l2 2>/dev/null"
for _ in $(seq 600); do
	[ "$(grep -c round "$TMP/load1")" -ge 2 ] && [ "$(grep -c round "$TMP/load2")" -ge 2 ] && break
	sleep 1
done
tk=$(getconf CLK_TCK)
t0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); s0=$(date +%s.%N)
sleep "$WIN"
t1=$(awk '{print $14 + $15}' "/proc/$pid/stat"); s1=$(date +%s.%N)
echo "flows $N: manager CPU $(echo "($t1 - $t0) / $tk / ($s1 - $s0)" | bc -l | cut -c1-6) cores over $(echo "$s1 - $s0" | bc | cut -c1-5) s"
echo "loader rounds: $(tail -n 1 "$TMP/load1"); $(tail -n 1 "$TMP/load2")"
tail -n 1 "$TMP/stats"
kill "$l1" "$l2"
wait "$l1" "$l2" 2>/dev/null
a=$(date +%s.%N)
kill -TERM "$pid"
wait "$pid"
b=$(date +%s.%N)
echo "exit (detach, end and hand out every flow): $(echo "$b - $a" | bc | cut -c1-5) s"
grep "at exit" "$TMP/err"
