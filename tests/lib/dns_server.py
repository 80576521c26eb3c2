#!/usr/bin/env python3
"""A tiny DNS server for tests: UDP and TCP on ADDR PORT. Every A query gets
one answer (192.0.2.1); a name starting with "nx" gets NXDOMAIN. Exits
after SECONDS (bounded)."""
import socket
import struct
import sys
import threading
import time


def answer(q):
    if len(q) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    if qd != 1:
        return None
    off, labels = 12, []
    while off < len(q) and q[off]:
        n = q[off]
        labels.append(q[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    question = q[12:off + 5]
    nx = labels and labels[0].startswith("nx")
    rflags = 0x8180 | (3 if nx else 0)
    ancount = 0 if nx else 1
    r = struct.pack("!HHHHHH", qid, rflags, 1, ancount, 0, 0) + question
    if not nx:
        r += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("192.0.2.1")
    return r


def udp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    while True:
        q, peer = s.recvfrom(4096)
        r = answer(q)
        if r:
            s.sendto(r, peer)


def tcp_client(c):
    with c:
        data = b""
        while len(data) < 2 or len(data) < 2 + struct.unpack("!H", data[:2])[0]:
            chunk = c.recv(4096)
            if not chunk:
                return
            data += chunk
        r = answer(data[2:])
        if r:
            c.sendall(struct.pack("!H", len(r)) + r)


def tcp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(8)
    while True:
        c, _ = s.accept()
        threading.Thread(target=tcp_client, args=(c,), daemon=True).start()


if __name__ == "__main__":
    addr, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    for f in (udp, tcp):
        threading.Thread(target=f, args=(addr, port), daemon=True).start()
    time.sleep(seconds)
