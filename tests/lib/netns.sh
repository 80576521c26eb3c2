# shellcheck shell=bash
# tests/lib/netns.sh - a throwaway network namespace with a veth pair, for
# tests that attach XDP. Source it, then:
#   netns_create TAG     makes namespace $NS with $VETH_NS inside, and
#                        $VETH_HOST in the root namespace (both up, IPv6
#                        off so the kernel sends nothing on its own)
#   at_exit 'cmd'        run cmd at exit (last added runs first)
# Everything is removed by an EXIT/INT/TERM trap, even when a test fails.
# Names carry $$ so that parallel tests never collide.

_at_exit_cmds=()
at_exit() { _at_exit_cmds+=("$1"); }
_run_at_exit() {
	local i
	for ((i = ${#_at_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_at_exit_cmds[$i]}" >/dev/null 2>&1 || true
	done
	_at_exit_cmds=()
}
trap _run_at_exit EXIT
trap '_run_at_exit; exit 130' INT TERM

# netns_create TAG (at most 3 characters): sets NS, VETH_HOST, VETH_NS.
netns_create() {
	local tag=${1:-t}
	NS="fx-$tag-$$"
	VETH_HOST="fxh$tag$$"
	VETH_NS="fxn$tag$$"
	ip netns add "$NS" || return 1
	at_exit "ip netns del '$NS'"
	ip link add "$VETH_HOST" type veth peer name "$VETH_NS" || return 1
	at_exit "ip link del '$VETH_HOST'"
	ip link set "$VETH_NS" netns "$NS" || return 1
	for dev in "$VETH_HOST"; do
		sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
		ip link set "$dev" up
	done
	ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$VETH_NS.disable_ipv6=1"
	ip netns exec "$NS" ip link set "$VETH_NS" up
	ip netns exec "$NS" ip link set lo up
	# wait (bounded, 30 s) for the carrier, so that the first frames are not lost
	for _ in $(seq 300); do
		[ "$(cat "/sys/class/net/$VETH_HOST/operstate" 2>/dev/null)" = up ] && return 0
		sleep 0.1
	done
	echo "# veth $VETH_HOST did not come up" >&2
	return 1
}

# The id of the XDP program attached to an interface (empty when none, or
# several in libxdp's multi mode). ip's JSON is one line, with "mode" then
# "prog" in "xdp": read by grep, since the wait loops call this every 0.1 s
# and a Python start took 0.4 s of it on a loaded machine.
xdp_prog_on() {
	ip -j link show dev "$1" 2>/dev/null |
		grep -o '"xdp":{[^{}]*"prog":{"id":[0-9]*' | grep -o '[0-9]*$'
}

# rx_of IFACE: frames the interface received (with XDP on a veth: every
# frame its program saw)
rx_of() { cat "/sys/class/net/$1/statistics/rx_packets"; }
# rx_reached IFACE BEFORE N: waits (bounded, 30 s) until IFACE received N
# frames since BEFORE: a veth passes frames on asynchronously (NAPI), so a
# fixed sleep before stopping the receiver may cut the last ones off under
# load; then 0.3 s more for the program to finish the last one
rx_reached() {
	for _ in $(seq 300); do
		[ $(($(rx_of "$1") - $2)) -ge "$3" ] && break
		sleep 0.1
	done
	sleep 0.3
}
