# shellcheck shell=bash
# collectors.sh - start and stop real collectors on loopback for the export
# tests. Every process started here is recorded and killed by pid in
# collectors_cleanup (install it in an EXIT trap).

COLLECTOR_PIDS=()
EXPORT_DRIVER=${EXPORT_DRIVER:-build/tests/export_driver}
export FLOWEXPORT_TEMPLATE_DIR=${FLOWEXPORT_TEMPLATE_DIR:-$PWD/templates}
NFDUMP_FMT='fmt:%pr|%sa|%sp|%da|%dp|%pkt|%byt|%flg|%svln|%in|%tsr|%td'

# A free port on 127.0.0.1 for protocol udp|tcp (bounded tries).
free_port() {
	local proto=$1 p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! ss -Hln"${proto:0:1}" "sport = :$p" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Waits (bounded) until something listens on port/proto.
wait_listen() {
	local proto=$1 port=$2
	for _ in $(seq 1 50); do
		ss -Hln"${proto:0:1}" "sport = :$port" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# start_nfcapd DIR PORT: nfcapd for IPFIX and v9 on 127.0.0.1:PORT/udp.
start_nfcapd() {
	mkdir -p "$1"
	nfcapd -w "$1" -b 127.0.0.1 -p "$2" >"$1.log" 2>&1 &
	COLLECTOR_PIDS+=($!)
	wait_listen udp "$2"
}

# stop_pid PID: SIGTERM, wait up to 5 s, then SIGKILL; lets nfcapd flush.
stop_pid() {
	local pid=$1
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

collectors_cleanup() {
	for pid in "${COLLECTOR_PIDS[@]}"; do
		stop_pid "$pid"
	done
}

# nfdump_flows DIR: every flow nfcapd stored, one line each (NFDUMP_FMT).
nfdump_flows() {
	nfdump -R "$1" -q -6 -N -o "$NFDUMP_FMT" 2>/dev/null | grep '|'
}

# tap helpers
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILED=1; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
