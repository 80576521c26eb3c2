#!/usr/bin/python3
"""Capture files the way ordinary captures look, built with scapy.

  pcap_build.py sll FILE      Linux cooked (LINUX_SLL) IPv4/IPv6/VLAN/ARP/loopback
  pcap_build.py pcapng FILE   the same mix as an Ethernet pcapng (PcapNgWriter)
  pcap_build.py runts FILE    frames of 0..13 bytes among ordinary ones
  pcap_build.py big FILE      9000-byte jumbo frames (IPv4, IPv6) and 64 KB
                              GRO/TSO-like TCP super-packets, kept whole
  pcap_build.py times FILE    capture time 0 and times out of order
  pcap_build.py raw FILE      raw IP (LINKTYPE_RAW): a link type we refuse
"""
import sys

from scapy.all import (ARP, ICMP, IP, TCP, UDP, CookedLinux, Dot1Q, Ether,
                       ICMPv6EchoRequest, IPv6, IPv6ExtHdrHopByHop, PcapNgWriter,
                       Raw, wrpcap)

T0 = 1700000000
MAC_A, MAC_B = "02:00:00:00:00:01", "02:00:00:00:00:02"


def timed(pkts, start=T0, step=0.01):
    for i, p in enumerate(pkts):
        p.time = start + i * step
    return pkts


def l3_mix():
    """(ethertype, L3 packet) pairs: TCP, UDP, ICMP, IPv6, a VLAN tag, ARP."""
    m = []
    for i in range(5):
        m.append(IP(src="10.30.0.1", dst="10.30.0.2") /
                 TCP(sport=41000, dport=443, flags="PA", seq=1000 * i) / Raw(b"t" * (100 * i)))
    for i in range(4):
        m.append(IP(src="10.30.0.2", dst="10.30.0.1") / UDP(sport=53, dport=5300) / Raw(b"u" * 30))
    for i in range(3):
        m.append(IP(src="10.30.0.1", dst="10.30.0.3") / ICMP(type=8, id=5, seq=i) / Raw(b"p" * 56))
    for i in range(3):
        m.append(IPv6(src="fd30::1", dst="fd30::2") / IPv6ExtHdrHopByHop() /
                 UDP(sport=7000, dport=7001) / Raw(b"6" * 64))
    for i in range(2):
        m.append(IPv6(src="fd30::2", dst="fd30::1") / ICMPv6EchoRequest(id=3, seq=i))
    return m


def ether_mix():
    frames = [Ether(src=MAC_A, dst=MAC_B) / p for p in l3_mix()]
    frames += [Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=42) /
               IP(src="10.30.0.4", dst="10.30.0.5") / UDP(sport=1, dport=2) / Raw(b"v" * 10)
               for _ in range(2)]
    frames.append(Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.30.0.1", pdst="10.30.0.2"))
    return timed(frames)


def sll(path):
    frames = []
    for p in l3_mix():
        # pkttype 0 (to us) / 4 (outgoing), ARPHRD_ETHER, 6-byte address
        frames.append(CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6,
                                  src=b"\x02\x00\x00\x00\x00\x01\x00\x00") / p)
    # a VLAN tag libpcap put back after the cooked header
    frames += [CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6) / Dot1Q(vlan=7) /
               IP(src="10.30.0.6", dst="10.30.0.7") / UDP(sport=11, dport=12) / Raw(b"q" * 20)
               for _ in range(2)]
    frames.append(CookedLinux(pkttype=0, lladdrtype=772, lladdrlen=0) /
                  IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=9, dport=9))
    frames.append(CookedLinux(pkttype=1, lladdrtype=1, lladdrlen=6) / ARP())
    # a record shorter than its cooked header: malformed
    frames.append(Raw(bytes(frames[0])[:12]))
    wrpcap(path, timed(frames), linktype=113)


def pcapng(path):
    w = PcapNgWriter(path)
    for f in ether_mix():
        w.write(f)
    w.close()


def runts(path):
    frames = ether_mix()
    out = []
    for i, f in enumerate(frames):
        out.append(f)
        if i < 14:  # 0, 1, ... 13 bytes
            r = Raw(bytes(f)[:i])
            r.time = f.time
            out.append(r)
    wrpcap(path, out, linktype=1)


def big(path):
    e = Ether(src=MAC_A, dst=MAC_B)
    frames = []
    for i in range(3):
        frames.append(e / IP(src="10.31.0.1", dst="10.31.0.2") / UDP(sport=9000, dport=9001) /
                      Raw(b"j" * (9000 - 28)))
        frames.append(e / IPv6(src="fd31::1", dst="fd31::2") / UDP(sport=9000, dport=9001) /
                      Raw(b"J" * (9000 - 48)))
        # a TSO/GRO super-packet as tcpdump shows it on the host: one IP
        # header for 64 KB of segments
        frames.append(e / IP(src="10.31.0.3", dst="10.31.0.4") /
                      TCP(sport=5001, dport=80, flags="A", seq=i * 65495) / Raw(b"s" * (65535 - 40)))
        frames.append(e / IP(src="10.31.0.4", dst="10.31.0.3") / TCP(sport=80, dport=5001, flags="A"))
    wrpcap(path, timed(frames), linktype=1, snaplen=262144)


def times(path):
    e = Ether(src=MAC_A, dst=MAC_B)
    a = [e / IP(src="10.32.0.1", dst="10.32.0.2") / UDP(sport=1, dport=2) / Raw(b"a" * n)
         for n in (10, 20, 30, 40)]
    b = [e / IP(src="10.32.0.3", dst="10.32.0.4") / UDP(sport=3, dport=4) / Raw(b"b" * n)
         for n in (10, 20, 30)]
    c = [e / IP(src="10.32.0.5", dst="10.32.0.6") / TCP(sport=5, dport=6, flags="S")]
    # out of order within flow a; flow b's first packet at time 0; c only at 0
    for p, t in zip(a, (T0 + 5, T0 + 1.5, T0 + 3, T0 + 2)):
        p.time = t
    for p, t in zip(b, (0, T0 + 2, T0 + 4)):
        p.time = t
    c[0].time = 0
    # flow d: its first packet is read (and drained: the replay's clock has
    # moved a second) before two earlier ones
    d = [e / IP(src="10.32.0.7", dst="10.32.0.8") / UDP(sport=7, dport=8) for _ in range(3)]
    for p, t in zip(d, (T0 + 6, T0 + 5.5, T0 + 5.8)):
        p.time = t
    wrpcap(path, [c[0], a[0], b[0], a[1], b[1], a[2], a[3], b[2]] + d, linktype=1, nano=True)


def raw(path):
    wrpcap(path, timed([IP(src="10.33.0.1", dst="10.33.0.2") / UDP()]), linktype=101)


def main():
    cmds = {"sll": sll, "pcapng": pcapng, "runts": runts, "big": big,
            "times": times, "raw": raw}
    if len(sys.argv) != 3 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    cmds[sys.argv[1]](sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
