#!/usr/bin/python3
"""Compare flowexport JSON output with traffic.py's expected flows.

  check_flows.py OUTPUT [--reasons 1,2,3] [--no-reasons 5] [--frames N]
                 [--not-parsed N] (--stats FILE | --no-counters)

OUTPUT holds JSON lines of flow records only (flowexport -j's stdout);
FILE holds the counters objects (--stats-file), the last one being the
final account. Prints TAP lines ("ok - ..."
/ "not ok - ...") and exits 1 if any check failed. Records of one flow
(several active-timeout reports, the final flush) are summed per key;
the key leaves out the interface, so live and pcap runs compare alike.
"""
import argparse
import json
import os
import subprocess
import sys

KEY_FIELDS = ("sourceIPv4Address", "destinationIPv4Address", "sourceIPv6Address",
              "destinationIPv6Address", "sourceTransportPort",
              "destinationTransportPort", "protocolIdentifier", "vlanId")
failed = 0


def check(cond, what):
    global failed
    print(("ok - " if cond else "not ok - ") + what)
    failed += 0 if cond else 1


def key_of(rec):
    return json.dumps({k: rec[k] for k in KEY_FIELDS if k in rec}, sort_keys=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("output")
    ap.add_argument("--reasons", default="")
    ap.add_argument("--no-reasons", default="", help="end reasons no flow may have")
    ap.add_argument("--stats", help="flowexport's --stats-file (JSON counters)")
    ap.add_argument("--frames", type=int)
    ap.add_argument("--not-parsed", type=int)
    ap.add_argument("--label", default="")
    ap.add_argument("--no-counters", action="store_true",
                    help="records of several instances: skip the counters checks")
    a = ap.parse_args()
    tag = f"{a.label}: " if a.label else ""

    here = os.path.dirname(os.path.abspath(__file__))
    exp_out = subprocess.run([sys.executable, os.path.join(here, "traffic.py"), "expect"],
                             check=True, capture_output=True, text=True).stdout
    expected = {}
    for line in exp_out.splitlines():
        e = json.loads(line)
        expected[json.dumps(e["key"], sort_keys=True)] = (e["packetDeltaCount"], e["octetDeltaCount"])

    got, reasons, counters, bad_lines = {}, {}, None, 0
    with open(a.output) as f:
        for line in f:
            try:
                obj = json.loads(line)
            except ValueError:
                bad_lines += 1
                continue
            if not isinstance(obj, dict) or obj.get("octetDeltaCount") is None:
                bad_lines += 1  # stdout carries flow records only
                continue
            k = key_of(obj)
            p, o = got.get(k, (0, 0))
            got[k] = (p + obj["packetDeltaCount"], o + obj["octetDeltaCount"])
            reasons.setdefault(obj["flowEndReason"], set()).add(k)
            if obj["flowEndMilliseconds"] < obj["flowStartMilliseconds"]:
                bad_lines += 1
    check(bad_lines == 0, f"{tag}every output line is a JSON flow record with start <= end")
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    check(not missing, f"{tag}every expected flow is reported" + (f" (missing {missing})" if missing else ""))
    check(not extra, f"{tag}no unexpected flow" + (f" (extra {extra})" if extra else ""))
    wrong = [(k, got[k], expected[k]) for k in expected if k in got and got[k] != expected[k]]
    check(not wrong, f"{tag}packets and octets exact per flow ({len(expected)} flows)" +
          (f": got/expected {wrong}" if wrong else ""))
    tp = sum(p for p, _ in got.values())
    to = sum(o for _, o in got.values())
    ep = sum(p for p, _ in expected.values())
    eo = sum(o for _, o in expected.values())
    check((tp, to) == (ep, eo), f"{tag}total packets/octets {tp}/{to} == expected {ep}/{eo}")
    for r in filter(None, a.reasons.split(",")):
        check(int(r) in reasons, f"{tag}some flow ended with flowEndReason {r}")
    for r in filter(None, a.no_reasons.split(",")):
        check(int(r) not in reasons, f"{tag}no flow ended with flowEndReason {r}")
    if a.no_counters:
        sys.exit(1 if failed else 0)
    if a.stats:
        with open(a.stats) as f:
            for line in f:
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict) and "counters" in obj:
                    counters = obj["counters"]
    check(counters is not None, f"{tag}a final counters line is printed")
    if counters:
        check(counters["flowed"] - counters["overflowPackets"] == tp,
              f"{tag}counters: flowed {counters['flowed']} - overflow {counters['overflowPackets']} == packets in records {tp}")
        check(counters["exportedPackets"] == tp and counters["exportedOctets"] == to,
              f"{tag}counters: exported packets/octets match the records")
        check(counters["activeFlows"] == 0, f"{tag}counters: no flow left in the cache")
        if a.frames is not None:
            check(counters["packets"] == a.frames,
                  f"{tag}counters: packets seen {counters['packets']} == frames sent {a.frames}")
        if a.not_parsed is not None:
            check(counters["notParsed"] == a.not_parsed,
                  f"{tag}counters: not parsed {counters['notParsed']} == {a.not_parsed}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
