#!/usr/bin/env bash
# contrib/demo.sh - flowexport end to end in about 15 seconds (make demo).
#
# Makes a throwaway network namespace joined to the root namespace by a
# veth pair, starts nfcapd on loopback, runs flowexport on the host end of
# the veth (XDP skb mode) exporting IPFIX to nfcapd, sends a few kinds of
# traffic from the namespace (a TCP connection closed with FIN, UDP, ICMP
# ping, IPv6 ping), stops flowexport with SIGTERM (it exports every flow it
# still holds), stops nfcapd and prints the flows with nfdump. Everything it
# made (namespace, veth, XDP program, pins, processes, temp files) is
# removed on exit, on failure and on Ctrl-C.
#
# Run as root from the repository, after `make`. The flows are those the
# host end of the veth RECEIVES (XDP meters ingress): what the namespace
# sent, not the host's replies.
set -u
cd "$(dirname "$0")/.." || exit 1

die() { echo "demo: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (XDP, namespaces)"
[ -x ./flowexport ] || die "./flowexport is not built: run make"
for tool in ip nfcapd nfdump ping python3 ss; do
	command -v "$tool" >/dev/null || die "$tool is missing: run make deps"
done

ID=$$
NS=fxdemo-$ID
VH=fxdh$ID   # host end, metered
VN=fxdn$ID   # namespace end
PIN=/sys/fs/bpf/fxdemo-$ID
TMP=$(mktemp -d /tmp/fxdemo.XXXXXX)
NET=10.$((200 + ID % 50)).$(((ID / 50) % 250))
H4=$NET.1 N4=$NET.2
G6=fd00:fe:$(printf %x $((ID % 65536)))
H6=$G6::1 N6=$G6::2
PIDS=()

cleanup() {
	local pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || continue
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	ip link set dev "$VH" xdp off 2>/dev/null
	ip link del "$VH" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$PIN" "$TMP"
}
trap cleanup EXIT
trap 'echo "demo: interrupted, cleaning up" >&2; exit 130' INT TERM

# wait_for SECONDS CMD...: poll (bounded) until CMD succeeds
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq 1 "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
xdp_attached() { ip link show dev "$VH" | grep -q 'prog/xdp'; }
listening() { ss -Hlnu "sport = :$1" | grep -q .; }

echo "demo: namespace $NS, veth $VH (metered) <-> $VN, pins $PIN"
ip netns add "$NS" || die "cannot create namespace $NS"
ip link add "$VH" type veth peer name "$VN" netns "$NS" || die "cannot create veth $VH"
ip addr add "$H4/30" dev "$VH"
ip -6 addr add "$H6/64" dev "$VH" nodad
ip link set "$VH" up
ip netns exec "$NS" sh -c "ip link set lo up &&
	ip addr add $N4/30 dev $VN && ip -6 addr add $N6/64 dev $VN nodad &&
	ip link set $VN up" || die "cannot configure $VN"
wait_for 30 sh -c "[ \"\$(cat /sys/class/net/$VH/operstate)\" = up ]" ||
	die "veth $VH did not come up"

# nfcapd on loopback, a free port
PORT=
for _ in $(seq 1 50); do
	p=$((20000 + RANDOM % 40000))
	listening "$p" || { PORT=$p; break; }
done
[ -n "$PORT" ] || die "no free UDP port"
mkdir -p "$TMP/nfcapd"
nfcapd -w "$TMP/nfcapd" -b 127.0.0.1 -p "$PORT" >"$TMP/nfcapd.log" 2>&1 &
NFCAPD=$!
PIDS+=("$NFCAPD")
echo "demo: nfcapd pid $NFCAPD on 127.0.0.1:$PORT, files in $TMP/nfcapd"
wait_for 30 listening "$PORT" || die "nfcapd did not start: $(cat "$TMP/nfcapd.log")"

# flowexport on the host end of the veth
./flowexport -d "$VH" -F "$PIN" -c "127.0.0.1:$PORT" --idle-timeout 2 \
	--active-timeout 10 >"$TMP/flowexport.out" 2>&1 &
FX=$!
PIDS=("$FX" "${PIDS[@]}") # stopped first, so that it flushes to nfcapd
echo "demo: flowexport pid $FX: ./flowexport -d $VH -F $PIN -c 127.0.0.1:$PORT --idle-timeout 2 --active-timeout 10"
wait_for 60 xdp_attached || die "flowexport did not attach: $(cat "$TMP/flowexport.out")"

# a TCP listener on the host: one connection, answers, closes
python3 - "$H4" <<-'EOF' >"$TMP/listener.out" 2>&1 &
	import socket, sys
	s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind((sys.argv[1], 8080)); s.listen(1); s.settimeout(15)
	c, _ = s.accept(); c.settimeout(5)
	c.recv(1000); c.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello from the host\n"); c.close()
EOF
LISTENER=$!
PIDS+=("$LISTENER")
wait_for 30 sh -c "ss -Hlnt 'sport = :8080' src $H4 | grep -q ."

echo "demo: traffic from $NS: TCP $N4 -> $H4:8080 (FIN close), UDP -> :9999, ping, ping -6"
ip netns exec "$NS" python3 - "$H4" <<-'EOF' || echo "demo: TCP/UDP client failed" >&2
	import socket, sys, time
	h = sys.argv[1]
	c = socket.create_connection((h, 8080), timeout=5)
	c.sendall(b"GET / HTTP/1.0\r\n\r\n")
	while c.recv(1000):
	    pass
	c.close()
	u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	for i in range(5):
	    u.sendto(b"datagram %d" % i, (h, 9999)); time.sleep(0.05)
EOF
ip netns exec "$NS" ping -q -c 4 -i 0.2 -W 2 "$H4" >/dev/null || echo "demo: ping failed" >&2
ip netns exec "$NS" ping -6 -q -c 3 -i 0.2 -W 2 "$H6" >/dev/null || echo "demo: ping -6 failed" >&2
wait "$LISTENER" 2>/dev/null

sleep 3 # idle timeout 2 s: the UDP and ping flows expire while running
echo "demo: stopping flowexport (SIGTERM exports every flow still held)"
kill -TERM "$FX"
rc=0
wait_for 60 sh -c "! kill -0 $FX" || rc=124
wait "$FX" 2>/dev/null || rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/flowexport.out" >&2; die "flowexport exited with status $rc"; }
grep '^counters:' "$TMP/flowexport.out" | tail -1 | sed 's/^/flowexport /'
sleep 0.5
kill -TERM "$NFCAPD"
wait_for 30 sh -c "! kill -0 $NFCAPD"
wait "$NFCAPD" 2>/dev/null

echo
echo "demo: the flows nfcapd stored (nfdump -R DIR -o extended):"
nfdump -R "$TMP/nfcapd" -o extended || die "nfdump failed"
echo
echo "demo: done; removing $NS, $VH, $PIN and $TMP"
