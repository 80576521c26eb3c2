#!/usr/bin/env bash
# Export throughput (part of make bench; prints, asserts nothing):
# 1M synthetic records through the exporter API to an IPFIX file and as
# NetFlow v9 over UDP to nfcapd (unpaced), each timed until all are
# written or sent, then 500k IPv4 records (21 a message) over loopback UDP
# to a real nfcapd, timed the same way, unpaced and at the default
# --udp-rate (25,000 messages/s, about 525k records/s), with nfcapd's
# default socket buffer and with -B (net.core.rmem_max at most), with
# what nfcapd stored. With BENCH_RESULTS=FILE, each figure is appended to
# FILE as a JSON line too.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/collectors.sh
WORK=$(mktemp -d)
trap 'collectors_cleanup; rm -rf "$WORK"' EXIT
result() { [ -z "${BENCH_RESULTS:-}" ] || echo "$1" >>"$BENCH_RESULTS"; }

echo "== export throughput (synthetic records through exporter_send)"
for fmt in ipfix v9; do
	dest="file:$WORK/out.$fmt"
	if [ "$fmt" = v9 ]; then # v9 is UDP only
		port=$(free_port udp)
		start_nfcapd "$WORK/nfv9" "$port"
		dest="127.0.0.1:$port"
	fi
	# --wait: handed over as at exit; timed until every record is
	# written (sent) and the exporter closed
	read -r n ms < <("$EXPORT_DRIVER" -c "$dest" --format "$fmt" --records 1000000 \
		--batch 1000 --udp-rate 0 --wait 2>&1 >/dev/null | sed -n 's/^delivered \(.*\) records in \(.*\) ms$/\1 \2/p')
	[ "$fmt" != v9 ] || stop_pid "${COLLECTOR_PIDS[-1]}" || true
	awk -v f="$fmt" -v d="$dest" -v n="$n" -v ms="$ms" 'BEGIN{printf "%-6s %-28s %d records in %d ms = %.2f M records/s\n", f, d, n, ms, n / ms / 1000}'
	kind=file
	[ "$fmt" = v9 ] && kind=udp
	result "{\"part\":\"export\",\"path\":\"$fmt $kind\",\"records\":$n,\"ms\":$ms,\"records_per_s\":$(awk -v n="$n" -v ms="$ms" 'BEGIN{printf "%d", n * 1000 / ms}')}"
done
rmem_max=$(cat /proc/sys/net/core/rmem_max)
for buf in default "$rmem_max"; do
	for rate in 0 25000; do # 0: unpaced; 25000: the default --udp-rate
		port=$(free_port udp)
		mkdir -p "$WORK/nf$rate.$buf"
		opt=()
		[ "$buf" = default ] || opt=(-B "$buf")
		nfcapd -w "$WORK/nf$rate.$buf" -b 127.0.0.1 -p "$port" "${opt[@]}" >"$WORK/nf.log" 2>&1 &
		COLLECTOR_PIDS+=($!)
		wait_listen udp "$port"
		"$EXPORT_DRIVER" -c "127.0.0.1:$port" --records 500000 --batch 1000 --v4-only \
			--udp-rate "$rate" --wait 2>"$WORK/err" >/dev/null
		ms=$(sed -n 's/^delivered .* records in \(.*\) ms$/\1/p' "$WORK/err")
		sleep 1 # what is still in its socket buffer, before nfcapd stops
		stop_pid "${COLLECTOR_PIDS[-1]}" || true
		stored=$(nfdump -R "$WORK/nf$rate.$buf" -q -o 'fmt:%pkt' 2>/dev/null | grep -c . || true)
		echo "ipfix  udp to nfcapd (buffer $buf), --udp-rate $rate: 500000 records sent in ${ms} ms ($(awk -v ms="$ms" 'BEGIN{printf "%d", 500000000 / ms}')/s), nfcapd stored $stored"
		result "{\"part\":\"export\",\"path\":\"ipfix udp to nfcapd (buffer $buf), --udp-rate $rate\",\"records\":500000,\"ms\":$ms,\"records_per_s\":$(awk -v ms="$ms" 'BEGIN{printf "%d", 500000000 / ms}'),\"stored\":$stored}"
	done
done
