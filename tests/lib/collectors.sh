# shellcheck shell=bash
# collectors.sh - start and stop real collectors on loopback for the export
# tests. Every process started here is recorded and killed by pid in
# collectors_cleanup (install it in an EXIT trap).

COLLECTOR_PIDS=()
COLLECTOR_RCVBUF=4194304
EXPORT_DRIVER=${EXPORT_DRIVER:-build/tests/export_driver}
export FLOWEXPORT_TEMPLATE_DIR=${FLOWEXPORT_TEMPLATE_DIR:-$PWD/templates}
NFDUMP_FMT='fmt:%pr|%sa|%sp|%da|%dp|%pkt|%byt|%flg|%svln|%in|%tsr|%td'

# A free port on 127.0.0.1 for protocol udp|tcp (bounded tries). Below the
# kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by
# default), so that no connect() elsewhere on the machine takes it as its
# local port between this check and the test's bind; free in every state
# (a TIME_WAIT or connected socket on it also fails a bind), not only as a
# listener.
free_port() {
	local proto=$1 p low
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ "${low:-0}" -gt 21000 ] || low=32768
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % (low - 20000)))
		if ! ss -Han"${proto:0:1}" "sport = :$p" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Waits (bounded, 30 s: a collector under load or ASan starts slowly; the
# wait ends as soon as it listens) until something listens on port/proto.
wait_listen() {
	local proto=$1 port=$2
	for _ in $(seq 1 300); do
		ss -Hln"${proto:0:1}" "sport = :$port" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# start_nfcapd DIR PORT: nfcapd for IPFIX and v9 on 127.0.0.1:PORT/udp,
# with a receive buffer of 4 MB (what net.core.rmem_max allows, else less):
# with the default 208 KB, nfcapd descheduled for 50 ms on a loaded machine
# let the kernel drop a burst of datagrams.
start_nfcapd() {
	mkdir -p "$1"
	nfcapd -w "$1" -b 127.0.0.1 -p "$2" -B "$COLLECTOR_RCVBUF" >"$1.log" 2>&1 &
	COLLECTOR_PIDS+=($!)
	wait_listen udp "$2"
}

# start_capture FILE FILTER: tcpdump on lo into FILE, packet by packet, from
# the moment it says it listens (bounded): it says so once its filter is
# set, where tshark says "Capturing on" before dumpcap has even started.
# Its pid in CAPTURE_PID (and COLLECTOR_PIDS); stop it with stop_capture.
start_capture() {
	timeout 600 tcpdump -i lo -U -n -w "$1" "$2" 2>"$1.err" &
	CAPTURE_PID=$! CAPTURE_FILE=$1
	COLLECTOR_PIDS+=($CAPTURE_PID)
	for _ in $(seq 1 300); do
		grep -qs 'listening on' "$1.err" && return 0
		sleep 0.1
	done
	echo "# tcpdump did not start: $(cat "$1.err")"
	return 1
}

# queued PID: bytes waiting in the receive queues of PID's TCP and UDP
# sockets (in its own network namespace), 0 when it has none.
queued() {
	nsenter -t "$1" -n ss -Hantup 2>/dev/null |
		awk -v p="pid=$1," '$2 != "LISTEN" && index($0, p) {q += $3} END {print q + 0}'
}

# stop_pid PID: waits (bounded, 30 s) until PID has read what its sockets
# received (a collector stopped with datagrams still queued loses them: a
# fixed sleep before the stop was too short on a loaded machine), then
# SIGTERM, wait up to 30 s, then SIGKILL; lets nfcapd flush.
stop_pid() {
	local pid=$1
	kill -0 "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 300); do
		[ "$(queued "$pid")" = 0 ] && break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# file_settled FILE: waits (bounded, 60 s) until FILE has not changed size
# for 2 s in a row: a capture (tcpdump -U, 1 s buffer timeout) has then
# written every packet of traffic that is over, and can be stopped. A fixed
# sleep before the stop lost the packets still buffered when tcpdump was
# descheduled on a loaded machine.
file_settled() {
	local size last=-1 same=0
	for _ in $(seq 120); do
		size=$(stat -c %s "$1" 2>/dev/null || echo 0)
		if [ "$size" = "$last" ]; then
			same=$((same + 1))
			[ $same -ge 4 ] && return 0
		else
			same=0 last=$size
		fi
		sleep 0.5
	done
	return 1
}

# stop_capture: stops the capture of start_capture once it has written
# every packet of the traffic that is over
stop_capture() {
	file_settled "$CAPTURE_FILE"
	stop_pid "$CAPTURE_PID"
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
