# shellcheck shell=bash
# udp_flows.sh - UDP flows from a namespace with scapy, and what a test
# collector (build/tests/ipfix_collector, "rec SRC PACKETS OCTETS ...")
# received of them, summed per source address. Needs $TMP.
#   send_udp NS IFACE [-i SEC] SRC:PACKETS:PAYLOAD ...
#        sends (to 10.77.0.2:9, one packet every SEC seconds if given) and
#        appends "SRC PACKETS OCTETS" per flow to $TMP/sent
#   sums              per source: packets octets, summed, sorted
#   received FILE [FROM_LINE]  what the collector printed into FILE
#   wait_received FILE WANT    bounded wait until received FILE = WANT

send_udp() {
	local ns=$1 ifn=$2 inter=0
	shift 2
	if [ "$1" = -i ]; then
		inter=$2
		shift 2
	fi
	timeout 60 ip netns exec "$ns" /usr/bin/python3 - "$ifn" "$inter" "$@" <<'PYEOF'
import sys
from scapy.all import Ether, IP, UDP, Raw, sendp
frames = []
for spec in sys.argv[3:]:
    src, n, size = spec.split(":")
    frames += [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") /
               IP(src=src, dst="10.77.0.2") / UDP(sport=4000, dport=9) /
               Raw(b"x" * int(size))] * int(n)
sendp(frames, iface=sys.argv[1], inter=float(sys.argv[2]), verbose=False)
PYEOF
	local spec src n size
	for spec in "$@"; do
		IFS=: read -r src n size <<<"$spec"
		echo "$src $n $((n * (28 + size)))" >>"$TMP/sent"
	done
}

sums() { awk '{p[$1]+=$2; o[$1]+=$3} END {for (k in p) print k, p[k], o[k]}' | sort; }

received() {
	tail -n +"${2:-1}" "$1" | grep -a '^rec ' | cut -d' ' -f2-4 | sums
}

wait_received() {
	local i
	for i in $(seq 100); do
		[ "$(received "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}
