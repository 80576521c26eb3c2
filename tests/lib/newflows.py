#!/usr/bin/python3
"""A steady stream of new, short UDP flows, for tests that need the kernel
flow table to fill when the meter stops draining it.

  newflows.py SRC DST DPORT RATE SECONDS

Each flow is PACKETS datagrams of PAYLOAD bytes from SRC:sport to
DST:DPORT, a new source port per flow, RATE flows a second for SECONDS
(bounded: at most RATE * SECONDS flows). Prints one line per flow:
"sport packets octets" (octets as IPFIX counts them: IP total length).
"""
import socket
import sys
import time

PACKETS = 3
PAYLOAD = 32
FIRST_PORT = 20000


def main():
    src, dst, dport = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rate, seconds = int(sys.argv[4]), float(sys.argv[5])
    total = int(rate * seconds)
    start = time.monotonic()
    for i in range(total):
        due = start + i / rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        sport = FIRST_PORT + i
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, sport))
        for _ in range(PACKETS):
            s.sendto(b"f" * PAYLOAD, (dst, dport))
        s.close()
        print(sport, PACKETS, PACKETS * (20 + 8 + PAYLOAD), flush=True)


if __name__ == "__main__":
    main()
