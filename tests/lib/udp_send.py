#!/usr/bin/python3
"""UDP flows to 10.77.0.2:9 (source port 4000) out of IFACE, for udp_flows.sh.

  udp_send.py IFACE INTER SRC:PACKETS:PAYLOAD ...
        send once, one frame every INTER seconds (0: back to back)
  udp_send.py IFACE --serve
        a sender kept for a whole test: each line "INTER SPEC ..." on stdin
        is sent as above, then "sent N" (N frames) is printed; scapy is
        imported once, not once per send
"""
import sys

from scapy.all import IP, UDP, Ether, Raw, sendp


def frames(specs):
    out = []
    for spec in specs:
        src, n, size = spec.split(":")
        out += [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") /
                IP(src=src, dst="10.77.0.2") / UDP(sport=4000, dport=9) /
                Raw(b"x" * int(size))] * int(n)
    return out


def send(iface, inter, specs):
    f = frames(specs)
    sendp(f, iface=iface, inter=float(inter), verbose=False)
    return len(f)


def main():
    if len(sys.argv) == 3 and sys.argv[2] == "--serve":
        while True:
            line = sys.stdin.readline()
            if not line:
                return
            words = line.split()
            if words:
                print("sent", send(sys.argv[1], words[0], words[1:]), flush=True)
    elif len(sys.argv) >= 4:
        send(sys.argv[1], sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
