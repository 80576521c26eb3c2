#!/usr/bin/python3
"""Real traffic through the kernel's stack, for captures taken with tcpdump.

  bulk.py serve ADDR PORT           TCP: read to EOF, answer "done"
                                    (at most 60 s of waiting)
  bulk.py send ADDR PORT MBYTES     a bulk TCP transfer, then UDP datagrams
                                    of every size class to PORT and PORT+1
                                    (nobody listens: ICMP errors; 3000 bytes
                                    are fragments)

Bounded in size and time; the capture file, not this script, is what the
test counts.
"""
import socket
import sys


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(addr, port):
    fam = family(addr)
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(60)
    print("ready", flush=True)
    conn, _ = ls.accept()
    conn.settimeout(60)
    while conn.recv(1 << 16):
        pass
    conn.sendall(b"done")
    conn.close()
    ls.close()


def send(addr, port, mbytes):
    fam = family(addr)
    c = socket.create_connection((addr, port), timeout=30)
    block = bytes(range(256)) * 256
    for _ in range(mbytes * 16):
        c.sendall(block)
    c.shutdown(socket.SHUT_WR)
    c.settimeout(30)
    assert c.recv(16) == b"done"
    c.close()
    u = socket.socket(fam, socket.SOCK_DGRAM)
    for size in (1, 100, 500, 1000, 1400, 3000):
        for _ in range(5):
            u.sendto(b"x" * size, (addr, port))
            u.sendto(b"y" * size, (addr, port + 1))
    u.close()


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
