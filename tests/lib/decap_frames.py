#!/usr/bin/python3
"""Tunnel and MPLS frames for tests/46-decap.test, and the test's own parse
of them (scapy's dissectors, walked here), independent of flowexport's.

  decap_frames.py build PCAP EXPECT_DECAP EXPECT_PLAIN
      writes the frames and what flowexport must make of them with and
      without --decap: {"flows": [[key..., packets, octets]...],
      "malformed": N, "not_parsed": N}
  decap_frames.py expect PCAP DECAP_VNI_HOST_ADDR OUT
      the flows of a capture (tcpdump on the VXLAN underlay), decapsulated,
      direction 0 when the outer source is not DECAP_VNI_HOST_ADDR
  decap_frames.py flows JSONL OUT
      flowexport -j records as the same kind of list (summed per key)

A flow is [direction, src, dst, protocol, sport, dport, tunnel, tunnel_id,
[mpls label stack entries, 24 bits, top three, of its first packet],
packets, octets]: the labels are the flow's attribute, not its key.
"""
import json
import sys

from scapy.all import (GRE, IP, UDP, TCP, ICMP, Dot1Q, Ether, IPv6, Raw,
                       fragment, rdpcap, wrpcap)
from scapy.contrib.geneve import GENEVE
from scapy.contrib.mpls import MPLS
from scapy.layers.vxlan import VXLAN
from scapy.layers.inet6 import ICMPv6EchoRequest

OUTER_MAC = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
INNER_MAC = dict(src="02:00:00:00:01:01", dst="02:00:00:00:01:02")


def ip_len(ip):
    return ip.len if ip.version == 4 else ip.plen + 40


def l4_key(ip):
    """protocol, sport, dport of an IP packet as flowexport keys it."""
    proto = ip.proto if ip.version == 4 else ip.nh
    l4 = ip.payload
    if ip.version == 4 and ip.frag:  # a later fragment: join_fragment
        return proto, 0, 0
    if proto in (6, 17):
        return proto, l4.sport, l4.dport
    if proto in (1, 58):
        raw = bytes(l4)
        return proto, 0, raw[0] << 8 | raw[1]
    return proto, 0, 0


def parse(frame, decap):
    """The flow a frame belongs to: (ip, tunnel, tunnel_id, labels)."""
    layer = frame.payload
    while isinstance(layer, Dot1Q):
        layer = layer.payload
    labels = []
    while isinstance(layer, MPLS):
        if len(labels) < 3:
            labels.append(layer.label << 4 | layer.cos << 1 | layer.s)
        layer = layer.payload
    ip = layer
    if not decap:
        return ip, "", 0, labels
    l4 = ip.payload
    if isinstance(l4, UDP) and isinstance(l4.payload, VXLAN):
        return inner_ip(l4.payload.payload), "vxlan", l4.payload.vni, labels
    if isinstance(l4, UDP) and isinstance(l4.payload, GENEVE):
        return inner_ip(l4.payload.payload), "geneve", l4.payload.vni, labels
    if isinstance(l4, GRE):
        key = l4.key if l4.key_present else 0
        return inner_ip(l4.payload), "gre", key, labels
    if isinstance(l4, (IP, IPv6)):
        return l4, "ipip", 0, labels
    return ip, "", 0, labels


def inner_ip(layer):
    return layer.payload if isinstance(layer, Ether) else layer


FRAGS = {}


def key_of(ip, tunnel, tid, labels, direction=0):
    proto, sport, dport = l4_key(ip)
    if ip.version == 4 and (ip.frag or ip.flags.MF):
        # fragments of one datagram: one tenant's, by IP id and addresses
        memo = (tunnel, tid, ip.src, ip.dst, proto, ip.id)
        if ip.frag:
            sport, dport = FRAGS.get(memo, (0, 0))
        else:
            FRAGS[memo] = (sport, dport)
    return (direction, ip.src, ip.dst, proto, sport, dport, tunnel, tid), labels


def tally(flows, key_labels, octets, packets=1):
    key, labels = key_labels
    if key not in flows:
        flows[key] = [list(labels), 0, 0]
    flows[key][1] += packets
    flows[key][2] += octets


def dump(flows, extra, path):
    out = dict(extra)
    out["flows"] = sorted([list(k) + v for k, v in flows.items()], key=str)
    with open(path, "w") as f:
        json.dump(out, f, indent=0)


def inner_tcp(src="192.168.0.1", dst="192.168.0.2", sport=1000, n=10):
    return (Ether(**INNER_MAC) / IP(src=src, dst=dst) /
            TCP(sport=sport, dport=80, flags="PA") / Raw(b"t" * n))


def outer4(**kw):
    return Ether(**OUTER_MAC) / IP(src="10.0.0.1", dst="10.0.0.2", **kw)


def outer6(**kw):
    return Ether(**OUTER_MAC) / IPv6(src="fd00::1", dst="fd00::2", **kw)


def good_frames():
    """(frame, copies): well-formed tunnels and label stacks."""
    def udp4(i=1):
        return IP(src="192.168.5.%d" % i, dst="192.168.5.2") / UDP(sport=7, dport=9) / Raw(b"u" * 30)

    def udp6(i=1):
        return IPv6(src="fd05::%d" % i, dst="fd05::2") / UDP(sport=7, dport=9) / Raw(b"u" * 20)
    return [
        # two tenants, the same inner addresses and ports: two flows
        (outer4() / UDP(sport=40000, dport=4789) / VXLAN(vni=100) / inner_tcp(), 3),
        (outer4() / UDP(sport=40001, dport=4789) / VXLAN(vni=200) / inner_tcp(n=20), 2),
        (outer6() / UDP(sport=40002, dport=4789) / VXLAN(vni=300) /
         Ether(**INNER_MAC) / udp6(), 2),
        # Geneve with an 8-byte option, Ethernet payload; and an IP payload
        (outer4() / UDP(sport=40003, dport=6081) /
         GENEVE(vni=400, proto=0x6558, optionlen=2) /
         Raw(b"\x01\x02\x03\x01abcd") / Ether(**INNER_MAC) / udp4(), 2),
        (outer4() / UDP(sport=40004, dport=6081) / GENEVE(vni=401, proto=0x0800) /
         IP(src="192.168.6.1", dst="192.168.6.2") / UDP(sport=1, dport=2), 1),
        # GRE: key and transparent Ethernet bridging; no key; every option
        (outer4() / GRE(key_present=1, key=0xdeadbeef, proto=0x6558) /
         Ether(**INNER_MAC) / IP(src="192.168.7.1", dst="192.168.7.2") / ICMP(id=7), 2),
        (outer4() / GRE(proto=0x0800) /
         IP(src="192.168.8.1", dst="192.168.8.2") / UDP(sport=3, dport=4), 1),
        (outer6() / GRE(chksum_present=1, key_present=1, seqnum_present=1,
                        key=5, sequence_number=9, proto=0x86dd) /
         IPv6(src="fd08::1", dst="fd08::2") / UDP(sport=3, dport=4), 1),
        # IP-in-IP: 4in4, 6in4, 4in6, 6in6
        (outer4(proto=4) / IP(src="192.168.9.1", dst="192.168.9.2") / UDP(sport=5, dport=6), 2),
        (outer4(proto=41) / IPv6(src="fd09::1", dst="fd09::2") / UDP(sport=5, dport=6), 1),
        (outer6(nh=4) / IP(src="192.168.10.1", dst="192.168.10.2") / TCP(sport=5, dport=6), 1),
        (outer6(nh=41) / IPv6(src="fd0a::1", dst="fd0a::2") / ICMPv6EchoRequest(id=3), 1),
        # MPLS: 1, 2, 3 and 5 labels, behind a VLAN tag, under a tunnel
        # (labels are the first packet's: a flow's later packets with
        # other labels add to it)
        (Ether(**OUTER_MAC) / MPLS(label=16, cos=5, s=1) / udp4(16), 2),
        (Ether(**OUTER_MAC) / MPLS(label=99, s=1) / udp4(16), 1),
        (Ether(**OUTER_MAC) / MPLS(label=17, s=0) / MPLS(label=1000, s=1) / udp6(17), 1),
        (Ether(**OUTER_MAC) / MPLS(label=18, s=0) / MPLS(label=1001, s=0) /
         MPLS(label=1048575, cos=7, s=1) / udp4(18), 1),
        (Ether(**OUTER_MAC) / MPLS(label=19, s=0) / MPLS(label=20, s=0) /
         MPLS(label=21, s=0) / MPLS(label=22, s=0) / MPLS(label=23, s=1) / udp4(19), 1),
        (Ether(**OUTER_MAC) / Dot1Q(vlan=5, type=0x8847) / MPLS(label=24, s=1) / udp4(24), 1),
        (Ether(**OUTER_MAC, type=0x8847) / MPLS(label=25, s=1) /
         IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=40005, dport=4789) /
         VXLAN(vni=500) / inner_tcp(sport=1005), 1),
        # a tunnel in a tunnel: one level is opened, the rest is payload
        (outer4() / UDP(sport=40006, dport=4789) / VXLAN(vni=600) /
         Ether(**INNER_MAC) / IP(src="172.16.0.1", dst="172.16.0.2") /
         UDP(sport=40007, dport=4789) / VXLAN(vni=601) / inner_tcp(sport=1006), 1),
    ]


def tenant_fragments():
    """Two tenants' datagrams with the same inner addresses and IP id, each
    in two fragments, interleaved: a later fragment joins its own tenant's
    first fragment (the VNI is part of the fragment memory)."""
    out = []
    for vni, sport in ((700, 1111), (701, 2222)):
        dgram = IP(src="192.168.11.1", dst="192.168.11.2", id=77) / \
            UDP(sport=sport, dport=53) / Raw(b"f" * 100)
        out.append([outer4() / UDP(sport=40200, dport=4789) / VXLAN(vni=vni) /
                    Ether(**INNER_MAC) / f for f in fragment(dgram, fragsize=64)])
    return [(out[0][0], 1), (out[1][0], 1), (out[0][1], 1), (out[1][1], 1)]


def short(frame, keep):
    """The frame cut after keep bytes of its outer IP packet, lengths fixed
    so that the outer packet is whole and only the tunnel header short."""
    raw = bytes(frame)
    eth = len(raw) - len(bytes(frame.payload))
    return Ether(raw[:eth + keep])


def malformed_frames():
    """(frame, with --decap, without): what each bad frame counts as;
    "outer" means the outer flow is metered."""
    def fixed(pkt):  # recompute outer lengths and checksums
        ip = pkt.payload
        del ip.len
        if ip.haslayer(UDP):
            del ip[UDP].len
            del ip[UDP].chksum
        del ip.chksum
        return Ether(bytes(pkt))
    vx_short = Ether(**OUTER_MAC) / IP(src="10.0.1.1", dst="10.0.1.2") / \
        UDP(sport=40100, dport=4789) / Raw(b"\x08\x00\x00\x00")
    vx_noi = outer4() / UDP(sport=40101, dport=4789) / VXLAN(flags=0, vni=9) / inner_tcp()
    gen_long = Ether(**OUTER_MAC) / IP(src="10.0.1.1", dst="10.0.1.2") / \
        UDP(sport=40102, dport=6081) / Raw(b"\x3f\x00\x65\x58\x00\x00\x01\x00" + b"o" * 16)
    gre_key_cut = Ether(**OUTER_MAC) / IP(src="10.0.1.1", dst="10.0.1.2", proto=47) / \
        Raw(b"\x20\x00\x08\x00")
    ipip_cut = Ether(**OUTER_MAC) / IP(src="10.0.1.1", dst="10.0.1.2", proto=4) / \
        Raw(bytes(IP(src="1.1.1.1", dst="2.2.2.2", len=200) / UDP())[:24])
    mpls_cut = Ether(**OUTER_MAC, type=0x8847) / Raw(b"\x00\x10\x00\x40\x00\x20")
    mpls_deep = Ether(**OUTER_MAC) / (MPLS(label=30, s=0) / MPLS(label=31, s=0) /
                                      MPLS(label=32, s=0) / MPLS(label=33, s=0) /
                                      MPLS(label=34, s=0) / MPLS(label=35, s=0) /
                                      MPLS(label=36, s=0) / MPLS(label=37, s=0) /
                                      MPLS(label=38, s=1)) / IP() / UDP()
    gre_v1 = Ether(**OUTER_MAC) / IP(src="10.0.1.1", dst="10.0.1.2", proto=47) / \
        Raw(b"\x30\x01\x88\x0b\x00\x00\x00\x07\x00\x00\x00\x01")
    gen_unknown = outer4() / UDP(sport=40103, dport=6081) / GENEVE(vni=9, proto=0x1234) / Raw(b"z" * 8)
    return [
        (fixed(vx_short), "malformed", "outer"),
        (fixed(vx_noi), "malformed", "outer"),
        (fixed(gen_long), "malformed", "outer"),
        (fixed(gre_key_cut), "malformed", "outer"),
        (fixed(ipip_cut), "malformed", "outer"),
        (mpls_cut, "malformed", "malformed"),
        (mpls_deep, "not_parsed", "not_parsed"),
        (fixed(gre_v1), "outer", "outer"),
        (fixed(gen_unknown), "outer", "outer"),
    ]


def build(pcap, exp_decap, exp_plain):
    frames, t = [], 1700000000.0
    expect = {True: ({}, {"malformed": 0, "not_parsed": 0}),
              False: ({}, {"malformed": 0, "not_parsed": 0})}

    def add(f):
        nonlocal t
        f = Ether(bytes(f))  # what the wire holds, dissected afresh
        f.time = t
        t += 0.001
        frames.append(f)
        return f

    for frame, copies in good_frames() + tenant_fragments():
        for _ in range(copies):
            f = add(frame)
            for decap in (True, False):
                ip, tun, tid, labels = parse(f, decap)
                tally(expect[decap][0], key_of(ip, tun, tid, labels), ip_len(ip))
    for frame, with_decap, without in malformed_frames():
        f = add(frame)
        for decap, what in ((True, with_decap), (False, without)):
            if what == "outer":
                ip, _, _, labels = parse(f, False)
                tally(expect[decap][0], key_of(ip, "", 0, labels), ip_len(ip))
            else:
                expect[decap][1][what] += 1
    wrpcap(pcap, frames)
    dump(*expect[True], exp_decap)
    dump(*expect[False], exp_plain)


def mutated(pcap, n, seed):
    """n tunnel frames with bit flips, cuts and length fields at edges."""
    import random
    rng = random.Random(int(seed))
    bases = [bytes(f) for f, _ in good_frames() + tenant_fragments()] + \
        [bytes(f) for f, _, _ in malformed_frames()]
    frames = []
    for i in range(int(n)):
        b = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 3)):
            what = rng.randrange(4)
            if what == 0 and len(b) > 14:  # bit flips past the Ethernet header
                at = rng.randrange(14, len(b))
                b[at] ^= 1 << rng.randrange(8)
            elif what == 1:  # cut
                b = b[:rng.randint(14, len(b))]
            elif what == 2 and len(b) > 60:  # a length or flag byte at an edge
                at = rng.randrange(14, 60)
                b[at] = rng.choice((0, 1, 0x3f, 0x40, 0x45, 0x80, 0xff))
            else:  # junk after the frame
                b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        f = Ether(bytes(b))
        f.time = 1700000000 + i * 0.001
        frames.append(f)
    wrpcap(pcap, frames)


def expect_capture(pcap, host_addr, out):
    """A tcpdump capture of the VXLAN underlay, as --decap must meter it:
    frames sent by host_addr leave the metered interface (egress)."""
    flows = {}
    other = {"malformed": 0, "not_parsed": 0}
    for f in rdpcap(pcap):
        outer = f.payload
        if not isinstance(outer, (IP, IPv6)):
            other["not_parsed"] += 1
            continue
        ip, tun, tid, labels = parse(f, True)
        if not isinstance(ip, (IP, IPv6)):
            other["not_parsed"] += 1
            continue
        direction = 1 if outer.src == host_addr else 0
        tally(flows, key_of(ip, tun, tid, labels, direction), ip_len(ip))
    dump(flows, other, out)


def flows_of_json(path, out):
    flows = {}
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            v = "IPv4" if "sourceIPv4Address" in d else "IPv6"
            key = (d["flowDirection"], d["source%sAddress" % v],
                   d["destination%sAddress" % v], d["protocolIdentifier"],
                   d["sourceTransportPort"], d["destinationTransportPort"],
                   d.get("tunnelType", ""), d.get("tunnelId", 0))
            labels = [d[k] for k in ("mplsTopLabelStackSection",
                                     "mplsLabelStackSection2",
                                     "mplsLabelStackSection3") if k in d]
            tally(flows, (key, labels), d["octetDeltaCount"],
                  d["packetDeltaCount"])
    dump(flows, {}, out)


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(*sys.argv[2:5])
    elif sys.argv[1] == "expect":
        expect_capture(*sys.argv[2:5])
    elif sys.argv[1] == "mutated":
        mutated(*sys.argv[2:5])
    elif sys.argv[1] == "flows":
        flows_of_json(*sys.argv[2:4])
