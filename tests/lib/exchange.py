#!/usr/bin/python3
"""Real request/response and bulk traffic through the kernel's stack, for
the egress tests (tests/39-egress.test).

  exchange.py serve ADDR PORT           TCP on PORT: read to EOF, answer
                                        30000 bytes; UDP on PORT: answer
                                        5 datagrams with 200 bytes each
  exchange.py client ADDR PORT          TCP: send 20000 bytes, read the
                                        answer; UDP: 5 requests of 100 bytes
  exchange.py sink ADDR PORT            TCP: read to EOF, then close
  exchange.py bulk ADDR PORT MBYTES     TCP: send MBYTES, close, and print
                                        "segs_out N segs_in N" from TCP_INFO:
                                        the segments the kernel sent and
                                        received on this connection, as
                                        the wire carries them (GSO/TSO
                                        super-packets counted as segments)

Everything waits at most 30 s.
"""
import socket
import struct
import sys
import time

TIMEOUT = 30
TCPI_SEGS_OUT = 136  # offsets in struct tcp_info (linux/tcp.h)


def serve(addr, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.bind((addr, port))
    ls.settimeout(TIMEOUT)
    us.settimeout(TIMEOUT)
    print("ready", flush=True)
    conn, _ = ls.accept()
    conn.settimeout(TIMEOUT)
    while conn.recv(65536):
        pass
    conn.sendall(b"r" * 30000)
    conn.close()
    for _ in range(5):
        _, peer = us.recvfrom(2048)
        us.sendto(b"u" * 200, peer)


def client(addr, port):
    s = socket.create_connection((addr, port), timeout=TIMEOUT)
    s.sendall(b"q" * 20000)
    s.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += len(b)
    s.close()
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.settimeout(TIMEOUT)
    for _ in range(5):
        us.sendto(b"q" * 100, (addr, port))
        us.recvfrom(2048)
    print(f"tcp answer {got} bytes", flush=True)


def sink(addr, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(TIMEOUT)
    print("ready", flush=True)
    conn, _ = ls.accept()
    conn.settimeout(TIMEOUT)
    while conn.recv(1 << 20):
        pass
    conn.close()


def bulk(addr, port, mbytes):
    s = socket.create_connection((addr, port), timeout=TIMEOUT)
    chunk = b"b" * (1 << 16)
    for _ in range(int(mbytes * 16)):
        s.sendall(chunk)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):  # the peer's FIN: everything acknowledged
        pass
    time.sleep(0.3)  # our ACK of that FIN is out
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    segs_out, segs_in = struct.unpack_from("=II", info, TCPI_SEGS_OUT)
    s.close()
    print(f"segs_out {segs_out} segs_in {segs_in}", flush=True)


def main():
    cmd, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "serve":
        serve(addr, port)
    elif cmd == "client":
        client(addr, port)
    elif cmd == "sink":
        sink(addr, port)
    elif cmd == "bulk":
        bulk(addr, port, float(sys.argv[4]))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
