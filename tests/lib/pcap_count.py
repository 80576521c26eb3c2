#!/usr/bin/python3
"""Count the flows a capture file describes, independently of flowexport,
and compare them with flowexport's JSON output.

  pcap_count.py count FILE                 print the flows as JSON lines
  pcap_count.py compare FILE OUTPUT [--label L]
                                           TAP lines; exit 1 on a difference

Reads pcap (us or ns) and pcapng (any if_tsresol) with its own parser, link
types EN10MB, LINUX_SLL and LINUX_SLL2. A flow is keyed like flowexport's
JSON (addresses, ports, protocol, outer VLAN id; ICMP: type << 8 | code as
destination port); octets are the IP length from the IP header, whatever
the capture kept. What the capture describes, read the way RFC 791/8200
say: a frame under 14 bytes, an IP header or extension chain the capture
cut, or the ports / ICMP type it cut, is malformed; a frame that is not
IPv4/IPv6 (after at most two VLAN tags) is not parsed; a later fragment
takes the ports (ICMP: type/code) of its first fragment when that was seen
earlier in the file (same addresses, protocol, VLAN and IP identification),
else ports 0 (ICMP: 255/255, which no ICMP message has).
"""
import argparse
import json
import socket
import struct
import sys

LINKTYPES = {1: "EN10MB", 113: "LINUX_SLL", 276: "LINUX_SLL2"}
HOPOPTS, ROUTING, FRAGMENT, AH, DSTOPTS = 0, 43, 44, 51, 60
IPV6_EXT = (HOPOPTS, ROUTING, FRAGMENT, AH, DSTOPTS)
cut_frames = 0  # frames the capture kept less of than the wire carried
first_frags = {}  # (version, src, dst, proto, vlan, ip id) -> (sport, dport)


def read_pcap(f, head):
    magic = struct.unpack("<I", head)[0]
    order = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    m = struct.unpack(order + "I", head)[0]
    ns = m == 0xa1b23c4d
    rest = f.read(20)
    linktype = struct.unpack(order + "I", rest[16:20])[0] & 0x0fffffff
    while True:
        h = f.read(16)
        if len(h) < 16:
            return
        sec, frac, caplen, wire = struct.unpack(order + "IIII", h)
        data = f.read(caplen)
        yield linktype, sec * 10**9 + (frac if ns else frac * 1000), data, wire


def read_pcapng(f, head):
    order, ifaces = "<", []
    block = head
    while True:
        if len(block) < 4:
            return
        lenb = f.read(4)
        if len(lenb) < 4:
            return
        if block == b"\x0a\x0d\x0d\x0a":  # section header: byte order
            bom = f.read(4)
            order = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            total = struct.unpack(order + "I", lenb)[0]
            f.read(total - 12)
            ifaces = []
        else:
            btype = struct.unpack(order + "I", block)[0]
            total = struct.unpack(order + "I", lenb)[0]
            body = f.read(total - 8)[:-4]
            if btype == 1:  # interface description
                linktype, _, snaplen = struct.unpack(order + "HHI", body[:8])
                ifaces.append([linktype, 10**3, snaplen])  # us -> ns
                opts = body[8:]
                while len(opts) >= 4:
                    code, olen = struct.unpack(order + "HH", opts[:4])
                    val = opts[4:4 + olen]
                    if code == 0:
                        break
                    if code == 9:  # if_tsresol
                        r = val[0]
                        per_sec = 2 ** (r & 0x7f) if r & 0x80 else 10 ** r
                        ifaces[-1][1] = 10**9 / per_sec
                    opts = opts[4 + (olen + 3) // 4 * 4:]
            elif btype == 6:  # enhanced packet
                iface, hi, lo, caplen, wire = struct.unpack(order + "IIIII", body[:20])
                lt, scale, _ = ifaces[iface]
                yield lt, int(((hi << 32) | lo) * scale), body[20:20 + caplen], wire
            elif btype == 3:  # simple packet
                wire = struct.unpack(order + "I", body[:4])[0]
                lt, _, snaplen = ifaces[0]
                caplen = min(wire, snaplen) if snaplen else wire
                yield lt, 0, body[4:4 + caplen], wire
        block = f.read(4)


def frames(path):
    with open(path, "rb") as f:
        head = f.read(4)
        if head == b"\x0a\x0d\x0d\x0a":
            yield from read_pcapng(f, head)
        else:
            yield from read_pcap(f, head)


def to_ethernet(linktype, data, wire):
    """(ethertype payload offset, ethertype) or None for a runt."""
    if linktype == 1:
        if len(data) < 14:
            return None
        return 14, struct.unpack(">H", data[12:14])[0]
    hdr, proto_off = (16, 14) if linktype == 113 else (20, 0)
    if len(data) < hdr:
        return None
    return hdr, struct.unpack(">H", data[proto_off:proto_off + 2])[0]


def addr(b):
    return socket.inet_ntop(socket.AF_INET if len(b) == 4 else socket.AF_INET6, b)


def parse(linktype, data, wire):
    """('flow', key, ip_length) | ('malformed',) | ('not parsed',)"""
    l2 = to_ethernet(linktype, data, wire)
    if l2 is None:
        return ("malformed",)
    off, etype = l2
    # the frame on the wire, measured from where data starts
    wire = max(wire, len(data))
    vlan, tags = 0, 0
    while etype in (0x8100, 0x88a8, 0x9100, 0x9200):
        if tags == 2:
            return ("not parsed",)
        if len(data) < off + 4:
            return ("malformed",)
        tci, etype = struct.unpack(">HH", data[off:off + 4])
        if tags == 0:
            vlan = tci & 0x0fff
        tags += 1
        off += 4
    later = False
    if etype == 0x0800:
        if len(data) < off + 20:
            return ("malformed",)
        vihl, _, tot, ipid, frag, _, proto = struct.unpack(">BBHHHBB", data[off:off + 10])
        ihl = (vihl & 15) * 4
        if vihl >> 4 != 4 or ihl < 20 or tot < ihl or off + tot > wire:
            return ("malformed",)
        src, dst, ver = addr(data[off + 12:off + 16]), addr(data[off + 16:off + 20]), 4
        later = (frag & 0x1fff) != 0
        first = not later and (frag & 0x2000) != 0
        l4, ip_len, ip_end = off + ihl, tot, off + tot
    elif etype == 0x86dd:
        if len(data) < off + 40 or data[off] >> 4 != 6:
            return ("malformed",)
        plen, proto = struct.unpack(">HB", data[off + 4:off + 7])
        ip_len, ip_end = 40 + plen, off + 40 + plen
        if off + ip_len > wire:
            return ("malformed",)
        src, dst, ver = addr(data[off + 8:off + 24]), addr(data[off + 24:off + 40]), 6
        l4, n, first, ipid = off + 40, 0, False, None
        while proto in IPV6_EXT and not later:
            if n == 6 or len(data) < l4 + 8:
                return ("malformed",)
            nxt = data[l4]
            if proto == FRAGMENT:
                fo = struct.unpack(">H", data[l4 + 2:l4 + 4])[0]
                later, first = (fo & 0xfff8) != 0, fo == 1
                ipid = struct.unpack(">I", data[l4 + 4:l4 + 8])[0]
                size = 8
            elif proto == AH:
                size = (data[l4 + 1] + 2) * 4
            else:
                size = (data[l4 + 1] + 1) * 8
            proto, l4, n = nxt, l4 + size, n + 1
            if l4 > ip_end:
                return ("malformed",)
    else:
        return ("not parsed",)
    sport = dport = 0
    frag_key = (ver, src, dst, proto, vlan, ipid)
    if later:
        sport, dport = first_frags.get(
            frag_key, (0, 0xffff if proto in (1, 58) else 0))
    else:
        if proto in (6, 17):
            if l4 + (20 if proto == 6 else 8) > ip_end or len(data) < l4 + 4:
                return ("malformed",)
            sport, dport = struct.unpack(">HH", data[l4:l4 + 4])
        elif proto in (1, 58):
            if l4 + 4 > ip_end or len(data) < l4 + 2:
                return ("malformed",)
            dport = data[l4] << 8 | data[l4 + 1]
            echo = (8, 0) if proto == 1 else (128, 129)
            if data[l4] in echo and (l4 + 8 > ip_end or len(data) < l4 + 6):
                return ("malformed",)
        if first:
            first_frags[frag_key] = (sport, dport)
    v = "IPv6" if ver == 6 else "IPv4"
    key = {f"source{v}Address": src, f"destination{v}Address": dst,
           "sourceTransportPort": sport, "destinationTransportPort": dport,
           "protocolIdentifier": proto, "vlanId": vlan}
    return ("flow", json.dumps(key, sort_keys=True), ip_len)


def count(path):
    flows, n, malformed, not_parsed = {}, 0, 0, 0
    global cut_frames
    cut_frames = 0
    first_frags.clear()
    for linktype, ts, data, wire in frames(path):
        if linktype not in LINKTYPES:
            raise SystemExit(f"link type {linktype} not counted here")
        n += 1
        cut_frames += len(data) < wire
        r = parse(linktype, data, wire)
        if r[0] == "malformed":
            malformed += 1
        elif r[0] == "not parsed":
            not_parsed += 1
        else:
            ms = ts // 10**6
            p, o, first, last = flows.get(r[1], (0, 0, ms, ms))
            flows[r[1]] = (p + 1, o + r[2], min(first, ms), max(last, ms))
    return flows, n, malformed, not_parsed


def key_of(rec):
    fields = ("sourceIPv4Address", "destinationIPv4Address", "sourceIPv6Address",
              "destinationIPv6Address", "sourceTransportPort",
              "destinationTransportPort", "protocolIdentifier", "vlanId")
    return json.dumps({k: rec[k] for k in fields if k in rec}, sort_keys=True)


def compare(path, output, label, stats=None):
    failed = 0

    def check(cond, what):
        nonlocal failed
        print(("ok - " if cond else "not ok - ") + f"{label}: {what}")
        failed += 0 if cond else 1

    want, frames_n, malformed, not_parsed = count(path)
    got, counters = {}, None
    # the counters line goes to --stats-file, records alone to stdout
    if stats:
        with open(stats) as f:
            for line in f:
                counters = json.loads(line).get("counters", counters)
    with open(output) as f:
        for line in f:
            rec = json.loads(line)
            if "counters" in rec:
                counters = rec["counters"]
                continue
            k = key_of(rec)
            p, o, first, last = got.get(k, (0, 0, rec["flowStartMilliseconds"],
                                            rec["flowEndMilliseconds"]))
            got[k] = (p + rec["packetDeltaCount"], o + rec["octetDeltaCount"],
                      min(first, rec["flowStartMilliseconds"]),
                      max(last, rec["flowEndMilliseconds"]))
    wp = sum(v[0] for v in want.values())
    wo = sum(v[1] for v in want.values())
    gp = sum(v[0] for v in got.values())
    go = sum(v[1] for v in got.values())
    check(wp > 0, f"the capture holds {frames_n} frames ({cut_frames} cut), {wp} packets in {len(want)} flows")
    diff = [(k, got.get(k), v) for k, v in want.items() if got.get(k, (0, 0))[:2] != v[:2]]
    extra = [k for k in got if k not in want]
    check(not diff and not extra,
          f"packets and octets per flow equal the independent count ({wp} packets, {wo} octets)"
          + (f": {len(diff)} differ, e.g. {diff[:3]} (got, want); extra {extra[:3]}"
             if diff or extra else ""))
    times = [(k, got[k][2:], v[2:]) for k, v in want.items() if k in got and got[k][2:] != v[2:]]
    check(not times, "flow start/end are the earliest/latest packet times"
          + (f": {times[:3]} (got, want)" if times else ""))
    check((gp, go) == (wp, wo), f"total packets/octets {gp}/{go} == {wp}/{wo}")
    check(counters is not None, "a final counters line is printed")
    if counters:
        c = counters
        check(c["packets"] == frames_n, f"counters: packets {c['packets']} == frames in the file {frames_n}")
        check(c["malformed"] == malformed, f"counters: malformed {c['malformed']} == {malformed}")
        check(c["notParsed"] == not_parsed, f"counters: not parsed {c['notParsed']} == {not_parsed}")
        check(c["packets"] == c["flowed"] + c["notParsed"] + c["malformed"] + c["internal"]
              and c["internal"] == 0,
              "counters: packets == flowed + notParsed + malformed + internal, internal 0")
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=("count", "compare"))
    ap.add_argument("file")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--label", default="pcap")
    ap.add_argument("--stats", help="the --stats-file flowexport wrote")
    a = ap.parse_args()
    if a.cmd == "count":
        flows, n, malformed, not_parsed = count(a.file)
        for k, (p, o, first, last) in sorted(flows.items()):
            print(json.dumps({"key": json.loads(k), "packets": p, "octets": o,
                              "first_ms": first, "last_ms": last}))
        print(json.dumps({"frames": n, "cut": cut_frames, "malformed": malformed,
                          "notParsed": not_parsed}))
        return 0
    return 1 if compare(a.file, a.output, a.label, a.stats) else 0


if __name__ == "__main__":
    sys.exit(main())
