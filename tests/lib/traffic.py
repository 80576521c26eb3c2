#!/usr/bin/python3
"""Deterministic test traffic of known counts, for the e2e and pcap tests.

  traffic.py send IFACE      send the schedule on IFACE (real time, ~8.5 s)
  traffic.py pcap FILE       write the same frames to FILE with their times
  traffic.py expect          print the expected flows as JSON lines

Every frame is built here, from fixed addresses, so the expected packets
and octets (IP total length, as IPFIX counts) follow from the frames.
The schedule has flows that end in every way the manager knows: idle
(short UDP), TCP FIN close, active timeout (a long UDP flow), plus ICMP
echo, IPv6 with extension headers, 802.1Q and QinQ tags, and ARP that is
not parsed. Use --idle-timeout 2 --active-timeout 3 to see them all.
"""
import json
import sys
import time

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, ICMPv6EchoReply,
                       ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw, sendp, wrpcap)

A, B = "10.0.0.1", "10.0.0.2"
A6, B6 = "fd00::1", "fd00::2"
MAC_A, MAC_B = "02:00:00:00:00:01", "02:00:00:00:00:02"
PCAP_EPOCH = 1700000000.0  # capture time of the first frame in the pcap


def eth(src=MAC_A, dst=MAC_B):
    return Ether(src=src, dst=dst)


def schedule():
    """List of (seconds from start, frame), sorted by time."""
    s = []
    # short UDP flow: 5 packets, then silent -> idle expiry
    for i in range(5):
        s.append((0.0 + 0.1 * i, eth() / IP(src=A, dst=B, ttl=64) /
                  UDP(sport=5000, dport=53) / Raw(b"q" * (20 + i))))
    # long UDP flow: every 0.5 s for 8 s -> active reports
    for i in range(17):
        s.append((0.05 + 0.5 * i, eth() / IP(src=A, dst=B) /
                  UDP(sport=6000, dport=6001) / Raw(b"L" * 100)))
    # TCP with handshake, data both ways, FIN close
    c, sv = 40000, 80
    tcp = [
        (0.50, A, B, c, sv, "S", b""),
        (0.55, B, A, sv, c, "SA", b""),
        (0.60, A, B, c, sv, "A", b""),
        (0.70, A, B, c, sv, "PA", b"G" * 200),
        (0.75, B, A, sv, c, "PA", b"R" * 500),
        (0.80, A, B, c, sv, "A", b""),
        (0.90, A, B, c, sv, "FA", b""),
        (0.95, B, A, sv, c, "FA", b""),
        (1.00, A, B, c, sv, "A", b""),
    ]
    for t, src, dst, sp, dp, fl, pl in tcp:
        p = IP(src=src, dst=dst) / TCP(sport=sp, dport=dp, flags=fl, window=1000)
        if pl:
            p = p / Raw(pl)
        s.append((t, eth() / p))
    # ICMP echo request/reply, id 77
    for i in range(4):
        s.append((1.0 + 0.2 * i, eth() / IP(src=A, dst=B) /
                  ICMP(type=8, id=77, seq=i) / Raw(b"p" * 56)))
        s.append((1.05 + 0.2 * i, eth() / IP(src=B, dst=A) /
                  ICMP(type=0, id=77, seq=i) / Raw(b"p" * 56)))
    # IPv6 with hop-by-hop, routing and destination options, UDP inside
    for i in range(6):
        s.append((1.5 + 0.1 * i, eth() / IPv6(src=A6, dst=B6, fl=0x12345) /
                  IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting() /
                  IPv6ExtHdrDestOpt() / UDP(sport=7000, dport=7001) /
                  Raw(b"6" * 64)))
    # ICMPv6 echo, id 9
    for i in range(3):
        s.append((1.6 + 0.2 * i, eth() / IPv6(src=A6, dst=B6) /
                  ICMPv6EchoRequest(id=9, seq=i) / Raw(b"e" * 32)))
        s.append((1.65 + 0.2 * i, eth() / IPv6(src=B6, dst=A6) /
                  ICMPv6EchoReply(id=9, seq=i) / Raw(b"e" * 32)))
    # 802.1Q VLAN 100 and QinQ (outer 200, inner 300)
    for i in range(7):
        s.append((2.0 + 0.1 * i, eth() / Dot1Q(vlan=100) / IP(src=A, dst=B) /
                  UDP(sport=8000, dport=8001) / Raw(b"v" * 80)))
    for i in range(3):
        s.append((2.1 + 0.1 * i, eth() / Dot1AD(vlan=200) / Dot1Q(vlan=300) /
                  IP(src=A, dst=B) / UDP(sport=8100, dport=8101) / Raw(b"w" * 30)))
    # ARP: seen, not parsed, in no flow
    for i in range(2):
        s.append((2.5 + 0.1 * i, Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") /
                  ARP(psrc=A, pdst=B, hwsrc=MAC_A)))
    s.sort(key=lambda x: x[0])
    return [(t, Ether(bytes(f))) for t, f in s]  # freeze checksums, lengths


def flow_of(f):
    """(key dict, ip total length) of a frame, keyed the way the JSON is."""
    vlan = 0
    p = f.payload
    if isinstance(p, (Dot1Q, Dot1AD)):
        vlan = p.vlan
        while isinstance(p, (Dot1Q, Dot1AD)):
            p = p.payload
    if isinstance(p, IP):
        ver, src, dst, length, l4 = 4, p.src, p.dst, p.len, p.payload
        proto = p.proto
    elif isinstance(p, IPv6):
        ver, src, dst, length = 6, p.src, p.dst, 40 + p.plen
        l4 = p.payload
        while isinstance(l4, (IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrDestOpt)):
            l4 = l4.payload
        proto = {UDP: 17, TCP: 6}.get(type(l4), 58)
    else:
        return None, 0
    sport = dport = 0
    if proto in (6, 17):
        sport, dport = l4.sport, l4.dport
    else:
        dport = l4.type << 8 | l4.code
    v = "IPv6" if ver == 6 else "IPv4"
    key = {f"source{v}Address": src, f"destination{v}Address": dst,
           "sourceTransportPort": sport, "destinationTransportPort": dport,
           "protocolIdentifier": proto, "vlanId": vlan}
    return key, length


def expect():
    flows = {}
    for _, f in schedule():
        key, length = flow_of(f)
        if key is None:
            continue
        k = json.dumps(key, sort_keys=True)
        e = flows.setdefault(k, {"key": key, "packetDeltaCount": 0, "octetDeltaCount": 0})
        e["packetDeltaCount"] += 1
        e["octetDeltaCount"] += length
    return list(flows.values())


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "send" and len(sys.argv) == 3:
        start = time.monotonic()
        for t, f in schedule():
            delay = start + t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sendp(f, iface=sys.argv[2], verbose=False)
    elif cmd == "pcap" and len(sys.argv) == 3:
        frames = []
        for t, f in schedule():
            f.time = PCAP_EPOCH + t
            frames.append(f)
        wrpcap(sys.argv[2], frames)
    elif cmd == "expect":
        for e in expect():
            print(json.dumps(e, sort_keys=True))
    elif cmd == "count":
        print(len(schedule()))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
