# Sourced by test suites: snapshot BPF pins and XDP attachments now, and
# report with check_leftovers (one TAP line) whether the suite left any.
pins_now() { find /sys/fs/bpf -mindepth 1 2>/dev/null | sort; }
xdp_now() { ip -o link show 2>/dev/null | grep 'xdp' | cut -d: -f2 | sort; }
leftover_pins_before=$(pins_now)
leftover_xdp_before=$(xdp_now)

check_leftovers() {
	local new_pins new_xdp
	new_pins=$(comm -13 <(echo "$leftover_pins_before") <(pins_now))
	new_xdp=$(comm -13 <(echo "$leftover_xdp_before") <(xdp_now))
	if [ -z "$new_pins" ] && [ -z "$new_xdp" ]; then
		echo "ok - nothing left pinned under /sys/fs/bpf or attached"
		return 0
	fi
	echo "not ok - left behind: pins [$new_pins] XDP on [$new_xdp]"
	return 1
}
