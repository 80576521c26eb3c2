#!/usr/bin/python3
"""Writes the generated part of the seed corpora in tests/fuzz/corpus/
(checked in; rerun after a layout change in bpf/flow.h):

  events/  flow cache operations (see fuzz_events.c): ring events of a TCP
           flow with its reverse and a FIN, one replayed under its mark,
           table entries, expiry passes
  pcap/    a LINUX_SLL2 capture and a nanosecond Ethernet capture (the
           others come from tests/lib/pcap_build.py)
  cli/     argument lists, NUL-separated

  seeds.py CORPUS_DIR
"""
import os
import struct
import sys

T0 = 1_700_000_000 * 10**9


def key(src, dst, sport, dport, proto=6, ifindex=2, vlan=0):
    mapped = lambda a: bytes(10) + b"\xff\xff" + bytes(a)
    # icmp_id, direction, tunnel, segment_id
    k = struct.pack("<IHBB16s16sHHHBBI", ifindex, vlan, 4, proto,
                    mapped(src), mapped(dst), sport, dport, 0, 0, 0, 0)
    assert len(k) == 52  # struct flow_key in bpf/flow.h
    return k


def event(k, ts, length=60, ttl=64, flags=0x10):
    macs = bytes((2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2))
    # wire_octets, segs, pad: one packet of length
    # the key's 52 bytes, key_pad, then ts_ns at 56
    e = (k + bytes(4) + struct.pack("<QHBBII", ts, length, ttl, 0, flags, 0) + macs +
         struct.pack("<IHH", length, 1, 0) + struct.pack("<4I", 0, 0, 0, 0))  # mpls[3], pad2
    assert len(e) == 112  # struct flow_event in bpf/flow.h
    return e


def stats(first, last, packets, octets, flags=0x18):
    # per-packet fields first: times, counts, inter-arrival sum
    s = struct.pack("<5Q", first, last, packets, octets, last - first)
    # state (live), min/max length, min/max TTL, TCP flags
    s += struct.pack("<6I", 0, 40, 1500, 64, 64, flags)
    s += struct.pack("<6I", packets, 0, 0, 0, 0, 0)
    s += struct.pack("<10I", 0, 0, packets, 0, 0, 0, 0, 0, 0, 0)
    # TCP: window min/max, seq state, dpi_packets, retransmissions
    s += struct.pack("<2I3II2Q", 0, 65535, 0, 0, 0, 0, 0, 0)
    # written at insert: flow label, MSS, window scale, TOS, MACs, MPLS
    s += struct.pack("<IHBB", 0, 1460, 7, 0)
    s += bytes((2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2))  # MACs
    s += struct.pack("<3I", 0, 0, 0)  # mpls[3]: none
    assert len(s) == 200  # FLOW_ASSERT_SIZE(struct flow_stats) in bpf/flow.h
    return s


def events(d):
    a, b = (10, 0, 0, 1), (10, 0, 0, 2)
    fwd, rev = key(a, b, 40000, 80), key(b, a, 80, 40000)
    ops = b""
    for i in range(4):
        # the first one merged twice under one mark (a restart's replay)
        ops += (b"\3" if i == 0 else b"\0") + event(
            fwd, T0 + i * 10**6, flags=0x02 if i == 0 else 0x10)
        ops += b"\0" + event(rev, T0 + i * 10**6 + 500)
    ops += b"\1" + fwd + stats(T0 + 5 * 10**6, T0 + 9 * 10**6, 5, 3000)
    ops += b"\0" + event(fwd, T0 + 10**7, flags=0x11)
    ops += b"\2" + struct.pack("<Q", T0 + 20 * 10**9)
    write(d, "tcp-biflow", b"\1\x20\x0f\x3c" + ops)
    write(d, "tcp-uniflow", b"\0\x20\x0f\x3c" + ops)
    # more flows than max-flows (2): pressure evictions
    many = b"".join(b"\0" + event(key(a, b, 1000 + i, 53, proto=17), T0 + i)
                    for i in range(6))
    write(d, "pressure", b"\0\x01\x05\x0a" + many + b"\2" + struct.pack("<Q", T0))


def pcap_file(linktype, frames, nano):
    magic = 0xa1b23c4d if nano else 0xa1b2c3d4
    out = struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", 1_700_000_000 + i, 123456789 if nano else 123456,
                           len(f), len(f) + (4 if i == 1 else 0)) + f
    return out


def pcaps(d):
    ip = (bytes.fromhex("4500001c00014000401100000a0000010a000002")
          + struct.pack(">HHHH", 40000, 53, 8, 0))
    sll2 = struct.pack(">HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, bytes(range(1, 9)))
    write(d, "sll2", pcap_file(276, [sll2 + ip, sll2 + ip[:10], sll2[:7]], False))
    eth = bytes(6) + bytes(range(6)) + b"\x08\x00"
    vlan = bytes(6) + bytes(range(6)) + b"\x81\x00\x00\x05\x08\x00"
    write(d, "nano-eth", pcap_file(1, [eth + ip, vlan + ip, eth[:5]], True))


def cli(d):
    lists = [
        ["-r", "x.pcap", "-c", "127.0.0.1:4739", "--format", "v9", "-p", "eth,ipv6,tcp"],
        ["-d", "lo", "-m", "skb", "--share", "meta", "--max-flows", "10", "--kernel-flows", "5"],
        ["-t", "0", "--repeat", "1", "--flows", "7", "-j", "--share", "global"],
        ["-d", "lo,lo", "-m", "native,skb", "-q", "--stats-interval", "5", "--biflow",
         "--template", "extended", "--udp-rate", "0", "-O", "/tmp", "-i", "0"],
        ["-jvd", "lo", "--idle-timeout=1", "--active-timeout", "2", "--help"],
    ]
    for i, args in enumerate(lists):
        write(d, "args%d" % i, b"\0".join(a.encode() for a in args))


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    root = sys.argv[1]
    events(os.path.join(root, "events"))
    pcaps(os.path.join(root, "pcap"))
    cli(os.path.join(root, "cli"))


if __name__ == "__main__":
    main()
