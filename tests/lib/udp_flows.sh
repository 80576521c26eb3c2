# shellcheck shell=bash
# udp_flows.sh - UDP flows from a namespace with scapy, and what a test
# collector (build/tests/ipfix_collector, "rec SRC PACKETS OCTETS ...")
# received of them, summed per source address. Needs $TMP.
#   send_udp NS IFACE [-i SEC] SRC:PACKETS:PAYLOAD ...
#        sends (to 10.77.0.2:9, one packet every SEC seconds if given) and
#        appends "SRC PACKETS OCTETS" per flow to $TMP/sent
#   udp_sender NS IFACE  keeps a sender (tests/lib/udp_send.py --serve) in NS
#        for the rest of the test: send_udp NS IFACE then writes a line to it
#        and waits for its reply, instead of starting Python and importing
#        scapy each time (1-4 s here). Not for send_udp run in the background.
#   sums              per source: packets octets, summed, sorted
#   received FILE [FROM_LINE]  what the collector printed into FILE
#   wait_received FILE WANT    bounded wait until received FILE = WANT

declare -gA _UDP_SENDER_FDS

udp_sender() {
	local ns=$1 ifn=$2 fifo="$TMP/udp-sender-$1-$2" in out
	mkfifo "$fifo.in" "$fifo.out" || return 1
	ip netns exec "$ns" /usr/bin/python3 tests/lib/udp_send.py "$ifn" --serve \
		<"$fifo.in" >"$fifo.out" 2>"$fifo.err" &
	at_exit "kill $!"
	# both ends open once the sender has opened its own (a FIFO's open waits)
	exec {in}>"$fifo.in" {out}<"$fifo.out"
	_UDP_SENDER_FDS[$ns/$ifn]="$in $out"
}

send_udp() {
	local ns=$1 ifn=$2 inter=0 fds reply
	shift 2
	if [ "$1" = -i ]; then
		inter=$2
		shift 2
	fi
	fds=${_UDP_SENDER_FDS[$ns/$ifn]:-}
	if [ -n "$fds" ]; then
		# in a subshell: a sender gone would kill the test with SIGPIPE
		(echo "$inter $*" >&"${fds% *}") 2>/dev/null
		if ! read -r -t 60 reply <&"${fds#* }" || [ "${reply%% *}" != sent ]; then
			echo "# udp sender in $ns: no reply: $(cat "$TMP/udp-sender-$ns-$ifn.err")" >&2
		fi
	else
		timeout 60 ip netns exec "$ns" /usr/bin/python3 tests/lib/udp_send.py "$ifn" "$inter" "$@"
	fi
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

# bounded: 60 s (the wait ends as soon as it holds)
wait_received() {
	local i
	for i in $(seq 300); do
		[ "$(received "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}
