#!/usr/bin/env bash
# Export throughput (part of make bench; prints, asserts nothing):
# 1M synthetic records through the exporter API to an IPFIX file and as
# NetFlow v9 over UDP to nobody (unpaced), then 300k records over loopback
# UDP to a real nfcapd, unpaced and at the default --udp-rate, with what
# nfcapd stored.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib/collectors.sh
WORK=$(mktemp -d)
trap 'collectors_cleanup; rm -rf "$WORK"' EXIT

echo "== export throughput (synthetic records through exporter_send)"
for fmt in ipfix v9; do
	port=$(free_port udp)
	dest="file:$WORK/out.$fmt"
	[ "$fmt" = v9 ] && dest="127.0.0.1:$port" # v9 is UDP only: nobody listens
	"$EXPORT_DRIVER" -c "$dest" --format "$fmt" --records 1000000 \
		--batch 1000 --udp-rate 0 2>&1 >/dev/null | sed -n 's/^sent \(.*\) records in \(.*\) ms$/\1 \2/p' |
		awk -v f="$fmt" -v d="$dest" '{printf "%-6s %-28s %d records in %d ms = %.2f M records/s\n", f, d, $1, $2, $1 / $2 / 1000}'
done
for rate in 0 20000; do # 0: unpaced; 20000: the default --udp-rate
	port=$(free_port udp)
	start_nfcapd "$WORK/nf$rate" "$port"
	"$EXPORT_DRIVER" -c "127.0.0.1:$port" --records 300000 --batch 1000 \
		--udp-rate "$rate" 2>"$WORK/err" >/dev/null
	sent_ms=$(sed -n 's/^sent .* records in \(.*\) ms$/\1/p' "$WORK/err")
	stop_pid "${COLLECTOR_PIDS[-1]}" || true
	stored=$(nfdump -R "$WORK/nf$rate" -q -o 'fmt:%pkt' 2>/dev/null | grep -c . || true)
	echo "ipfix  udp to nfcapd, --udp-rate $rate: 300000 records sent in ${sent_ms} ms, nfcapd stored $stored"
done
