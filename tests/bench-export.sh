#!/usr/bin/env bash
# Export throughput (part of make bench; prints, asserts nothing):
# 1M synthetic records through the exporter API to an IPFIX file and as
# NetFlow v9 over UDP to nobody (unpaced), each timed until all are written
# or sent, then 300k records over loopback
# UDP to a real nfcapd, unpaced, at the default --udp-rate and at 25,000
# messages/s (about 500k records/s), with what nfcapd stored. With
# BENCH_RESULTS=FILE, each figure is appended to FILE as a JSON line too.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/collectors.sh
WORK=$(mktemp -d)
trap 'collectors_cleanup; rm -rf "$WORK"' EXIT
result() { [ -z "${BENCH_RESULTS:-}" ] || echo "$1" >>"$BENCH_RESULTS"; }

echo "== export throughput (synthetic records through exporter_send)"
for fmt in ipfix v9; do
	port=$(free_port udp)
	dest="file:$WORK/out.$fmt"
	[ "$fmt" = v9 ] && dest="127.0.0.1:$port" # v9 is UDP only: nobody listens
	# --wait: handed over as at exit; timed until every record is
	# written (sent) and the exporter closed
	read -r n ms < <("$EXPORT_DRIVER" -c "$dest" --format "$fmt" --records 1000000 \
		--batch 1000 --udp-rate 0 --wait 2>&1 >/dev/null | sed -n 's/^delivered \(.*\) records in \(.*\) ms$/\1 \2/p')
	awk -v f="$fmt" -v d="$dest" -v n="$n" -v ms="$ms" 'BEGIN{printf "%-6s %-28s %d records in %d ms = %.2f M records/s\n", f, d, n, ms, n / ms / 1000}'
	kind=file
	[ "$fmt" = v9 ] && kind=udp
	result "{\"part\":\"export\",\"path\":\"$fmt $kind\",\"records\":$n,\"ms\":$ms,\"records_per_s\":$(awk -v n="$n" -v ms="$ms" 'BEGIN{printf "%d", n * 1000 / ms}')}"
done
for rate in 0 20000 25000; do # 0: unpaced; 20000: the default --udp-rate
	port=$(free_port udp)
	start_nfcapd "$WORK/nf$rate" "$port"
	"$EXPORT_DRIVER" -c "127.0.0.1:$port" --records 300000 --batch 1000 \
		--udp-rate "$rate" 2>"$WORK/err" >/dev/null
	sent_ms=$(sed -n 's/^sent .* records in \(.*\) ms$/\1/p' "$WORK/err")
	sleep 1 # what is still in its socket buffer, before nfcapd stops
	stop_pid "${COLLECTOR_PIDS[-1]}" || true
	stored=$(nfdump -R "$WORK/nf$rate" -q -o 'fmt:%pkt' 2>/dev/null | grep -c . || true)
	echo "ipfix  udp to nfcapd, --udp-rate $rate: 300000 records sent in ${sent_ms} ms, nfcapd stored $stored"
	result "{\"part\":\"export\",\"path\":\"ipfix udp to nfcapd, --udp-rate $rate\",\"records\":300000,\"ms\":$sent_ms,\"records_per_s\":$(awk -v ms="$sent_ms" 'BEGIN{printf "%d", 300000000 / ms}'),\"stored\":$stored}"
done
