#!/usr/bin/env bash
# make bench: measures and prints; asserts nothing (tests do that).
# Per-packet cost of the three share strategies against an empty XDP
# program, with one flow (BPF_PROG_TEST_RUN, repeat 1e6) and with the table
# holding 100k and 1M flows (each packet run once), plus kernel memory per
# flow. Export throughput is measured by tests/bench-export.sh if present.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (BPF)"; exit 1; }
echo "== per-packet cost, one flow (BPF_PROG_TEST_RUN, repeat 1,000,000)"
./flowexport -t 0 -q
for n in 100000 1000000; do
	echo
	echo "== per-packet cost with $n flows in the table"
	./flowexport -t 0 -q --flows "$n" --max-flows "$n"
done
if [ -x tests/bench-export.sh ]; then
	echo
	tests/bench-export.sh
fi
