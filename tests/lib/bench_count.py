#!/usr/bin/python3
"""Counts flowexport -j records on stdin as they come (make bench): prints
{"records": N, "packets": N, "octets": N} at end of input. Counters lines
and anything that is not a flow record are skipped."""
import json
import sys

records = packets = octets = 0
for line in sys.stdin:
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    if "packetDeltaCount" not in rec:
        continue
    records += 1
    packets += rec["packetDeltaCount"]
    octets += rec.get("octetDeltaCount", 0)
print(json.dumps({"records": records, "packets": packets, "octets": octets}))
