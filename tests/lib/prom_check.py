#!/usr/bin/env python3
"""prom_check.py PAGE STATS: check PAGE (a /metrics scrape) line by line
against the Prometheus text exposition format 0.0.4, then compare its
values with the last JSON counters line of STATS (--stats-file with -j).
Prints TAP lines; exits 1 on any failure. Standard library only."""
import json
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(\{{(?:{LABEL})(?:,{LABEL})*,?\}}|\{{\}})? "
                    r"([-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|NaN|[-+]Inf))"
                    r"(?: -?[0-9]+)?$")
HELP = re.compile(rf"^# HELP ({NAME}) (.*)$")
TYPE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")

page_path, stats_path = sys.argv[1], sys.argv[2]
page = open(page_path, encoding="utf-8").read()
fails = 0


def check(what, cond, detail=""):
    global fails
    print(("ok - " if cond else "not ok - ") + what + (f" ({detail})" if detail and not cond else ""))
    if not cond:
        fails += 1


bad, helps, types, samples, seen_after = [], {}, {}, {}, set()
check("the page ends with a newline", page.endswith("\n"))
for n, line in enumerate(page.rstrip("\n").split("\n"), 1):
    if m := HELP.match(line):
        if m[1] in helps:
            bad.append(f"{n}: second HELP for {m[1]}")
        helps[m[1]] = m[2]
    elif m := TYPE.match(line):
        if m[1] in types or m[1] in seen_after:
            bad.append(f"{n}: TYPE for {m[1]} repeated or after its samples")
        types[m[1]] = m[2]
    elif line.startswith("#"):
        bad.append(f"{n}: a comment that is neither HELP nor TYPE: {line!r}")
    elif m := SAMPLE.match(line):
        name = m[1]
        if name not in types or name not in helps:
            bad.append(f"{n}: {name} has no HELP or TYPE before it")
        if types.get(name) == "counter" and not name.endswith("_total"):
            bad.append(f"{n}: counter {name} does not end in _total")
        seen_after.add(name)
        samples[name + (m[2] or "")] = float(m[3])
    else:
        bad.append(f"{n}: not a sample, HELP or TYPE line: {line!r}")
check(f"every line is a HELP, TYPE or sample line of the text format ({len(samples)} samples)",
      not bad, "; ".join(bad[:5]))

stats = [json.loads(l)["counters"] for l in open(stats_path) if l.startswith('{"counters"')]
check("the stats file has a counters line", bool(stats))
if stats:
    c = stats[-1]
    pairs = {
        "packets_seen_total": "packets", "packets_not_sampled_total": "notSampled",
        "packets_flowed_total": "flowed", "packets_not_parsed_total": "notParsed",
        "packets_self_export_total": "selfExport", "packets_malformed_total": "malformed",
        "packets_internal_total": "internal", "missed_tail_calls_total": "missedTailCalls",
        "ring_packets_total": "ringPackets", "overflow_packets_total": "overflowPackets",
        "overflow_octets_total": "overflowOctets", "active_flows": "activeFlows",
        "evicted_flows_total": "evictedFlows", "exported_records_total": "exportedRecords",
        "exported_packets_total": "exportedPackets", "exported_octets_total": "exportedOctets",
        "sent_records_total": "sentRecords", "unsent_records_total": "unsentRecords",
        "sent_packets_total": "sentPackets", "unsent_packets_total": "unsentPackets",
        "send_errors_total": "sendErrors",
        "egress_packets_seen_total": "egressPackets", "egress_packets_not_sampled_total": "egressNotSampled",
        "egress_packets_flowed_total": "egressFlowed", "egress_packets_not_parsed_total": "egressNotParsed",
        "egress_packets_malformed_total": "egressMalformed", "egress_packets_internal_total": "egressInternal",
        "forwarded_packets_total": "forwarded", "notices_lost_total": "noticesLost",
    }
    diff = [f"{k}={samples.get('flowexport_' + k)} vs {v}={c[v]}" for k, v in pairs.items()
            if samples.get("flowexport_" + k) != c[v]]
    check(f"all {len(pairs)} counters equal the last counters line (packets {c['packets']}, exported {c['exportedPackets']})",
          not diff, "; ".join(diff))
    per = lambda name: sum(v for k, v in samples.items() if k.startswith(f"flowexport_{name}{{collector="))
    check("per-collector records sent add up to sentRecords",
          per("collector_records_sent_total") == c["sentRecords"],
          f"{per('collector_records_sent_total')} vs {c['sentRecords']}")
    check("per-collector records dropped add up to unsentRecords",
          per("collector_records_dropped_total") == c["unsentRecords"])
    check("per-collector packets sent and dropped add up to sentPackets and unsentPackets",
          per("collector_packets_sent_total") == c["sentPackets"] and
          per("collector_packets_dropped_total") == c["unsentPackets"])
sys.exit(1 if fails else 0)
