#!/usr/bin/python3
"""Compare flowexport's JSON records with a capture taken on the metered
interface, per flow and per direction (flowDirection).

  dir_compare.py PCAP OUTPUT HOST_ADDR LABEL [--biflow]

The capture is counted by pcap_count.py, independently of flowexport. A
packet whose source is HOST_ADDR left the host (egress, 1), any other
arrived (ingress, 0). Prints TAP lines; exit 1 on a difference. With
--biflow, each record's forward and reverse sides are two directed flows
(addresses and ports swapped, the other direction).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcap_count  # noqa: E402

ECHO_PAIRS = {(1, 8 << 8): 0, (1, 0): 8 << 8, (58, 128 << 8): 129 << 8,
              (58, 129 << 8): 128 << 8}


def addr_keys(k):
    v = "IPv6" if "sourceIPv6Address" in k else "IPv4"
    return f"source{v}Address", f"destination{v}Address"


def reverse(k):
    s, d = addr_keys(k)
    r = dict(k)
    r[s], r[d] = k[d], k[s]
    if k["protocolIdentifier"] in (1, 58):
        r["destinationTransportPort"] = ECHO_PAIRS.get(
            (k["protocolIdentifier"], k["destinationTransportPort"]), -1)
    else:
        r["sourceTransportPort"] = k["destinationTransportPort"]
        r["destinationTransportPort"] = k["sourceTransportPort"]
    return r


def main():
    pcap, output, host, label = sys.argv[1:5]
    biflow = "--biflow" in sys.argv[5:]
    failed = 0

    def check(cond, what):
        nonlocal failed
        print(("ok - " if cond else "not ok - ") + f"{label}: {what}")
        failed += 0 if cond else 1

    flows, _, _, _ = pcap_count.count(pcap)
    want = {}
    for k, v in flows.items():
        key = json.loads(k)
        src, _ = addr_keys(key)
        key["flowDirection"] = 1 if key[src] == host else 0
        want[json.dumps(key, sort_keys=True)] = v[:2]
    got, records, paired = {}, 0, 0

    def add(key, p, o):
        k = json.dumps(key, sort_keys=True)
        gp, go = got.get(k, (0, 0))
        got[k] = (gp + p, go + o)

    with open(output) as f:
        for line in f:
            rec = json.loads(line)
            if "counters" in rec:
                continue
            records += 1
            key = json.loads(pcap_count.key_of(rec))
            key["flowDirection"] = rec["flowDirection"]
            add(key, rec["packetDeltaCount"], rec["octetDeltaCount"])
            if biflow and rec.get("reversePacketDeltaCount"):
                paired += 1
                r = reverse(key)
                r["flowDirection"] = 1 - key["flowDirection"]
                add(r, rec["reversePacketDeltaCount"], rec["reverseOctetDeltaCount"])
    dirs = {json.loads(k)["flowDirection"] for k in want}
    wp = sum(v[0] for v in want.values())
    wo = sum(v[1] for v in want.values())
    check(dirs == {0, 1}, f"the capture holds both directions: {len(want)} directed flows, {wp} packets, {wo} octets")
    diff = [(k, got.get(k), v) for k, v in want.items() if got.get(k) != v]
    extra = [k for k in got if k not in want]
    check(not diff and not extra,
          "packets and octets per flow and direction equal the capture's"
          + (f": {len(diff)} differ, e.g. {diff[:3]} (got, want); extra {extra[:3]}"
             if diff or extra else ""))
    if biflow:
        # every conversation whose both directions were seen is one record
        convs = {json.dumps(sorted([k, json.dumps(dict(reverse(json.loads(k)), flowDirection=1 - json.loads(k)["flowDirection"]), sort_keys=True)]))
                 for k in want}
        both = sum(1 for c in convs if all(x in want for x in json.loads(c)))
        check(paired == both, f"--biflow: {paired} records carry both directions, {both} conversations have both in the capture")
    print(f"# {label}: {records} records")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
