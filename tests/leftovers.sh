# Sourced by test suites: snapshot BPF pins, XDP attachments and our TCX
# programs now, and report with check_leftovers (one TAP line) whether the
# suite left any.
# Names that carry the pid of another live process (fx-e2e-1234, fxh...1234)
# belong to a test running beside this one and are not ours to report.
pins_now() { find /sys/fs/bpf -mindepth 1 2>/dev/null | sort; }
xdp_now() { ip -o link show 2>/dev/null | grep 'xdp' | cut -d: -f2 | sed 's/@.*//' | sort; }
# flowexport's TC entry programs attached through TCX ("IF PROGRAM" lines),
# which neither ip nor bpftool 7.1 lists
tc_now() {
	local q=build/tests/tc_query i d
	[ -x "$q" ] || return 0
	for i in $(ls /sys/class/net); do
		for d in ingress egress; do
			"$q" "$i" $d 2>/dev/null | awk -v i="$i" '$2 ~ /^tc[ie]_start$/ {print i, $2}'
		done
	done | sort
}
leftover_pins_before=$(pins_now)
leftover_xdp_before=$(xdp_now)
leftover_tc_before=$(tc_now)

# Drop lines naming an fx* object after a pid that is alive and not ours.
# A tag may end in digits too (fxhcr1 + 2133): any digit suffix counts.
_others_pid() {
	local digits=$1 i
	for ((i = 0; i < ${#digits} - 1; i++)); do
		local pid=${digits:i}
		[ "$pid" = "$$" ] && return 1
		[ -d "/proc/$pid" ] && return 0
	done
	return 1
}
_not_others() {
	local line digits
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		digits=$(grep -oE 'fx[a-z0-9-]*[0-9]+' <<<"$line" | head -1 | grep -oE '[0-9]+$')
		if [ -n "$digits" ] && _others_pid "$digits"; then
			continue
		fi
		echo "$line"
	done
}

check_leftovers() {
	local new_pins new_xdp new_tc
	new_pins=$(comm -13 <(echo "$leftover_pins_before") <(pins_now) | _not_others)
	new_xdp=$(comm -13 <(echo "$leftover_xdp_before") <(xdp_now) | _not_others)
	new_tc=$(comm -13 <(echo "$leftover_tc_before") <(tc_now) | _not_others)
	if [ -z "$new_pins" ] && [ -z "$new_xdp" ] && [ -z "$new_tc" ]; then
		echo "ok - nothing left pinned under /sys/fs/bpf or attached (XDP, TCX)"
		return 0
	fi
	echo "not ok - left behind: pins [$new_pins] XDP on [$new_xdp] TCX on [$new_tc]"
	return 1
}
