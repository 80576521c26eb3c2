#!/usr/bin/env python3
"""udp_relay.py LISTEN_PORT TO_PORT: forward UDP datagrams from
127.0.0.1:LISTEN_PORT to a TCP connection to 127.0.0.1:TO_PORT (an IPFIX
collector reading a TCP stream: each datagram is one IPFIX message, and TCP
keeps a busy collector from losing any), as a UDP collector that can go
away without losing what it already took. SIGUSR1: down -- read and forward what
is queued, then close the port, so that the sender gets ICMP port
unreachable like from a stopped collector; SIGUSR2: back up on the same
port; SIGTERM: forward what is queued and exit. Prints "ready", "down" and
"up" on stdout. Standard library only."""
import signal
import socket
import sys
import time

listen_port, to_port = int(sys.argv[1]), int(sys.argv[2])
want = {"down": False, "stop": False}


def on_signal(sig, _frame):
    if sig == signal.SIGUSR1:
        want["down"] = True
    elif sig == signal.SIGUSR2:
        want["down"] = False
    else:
        want["stop"] = True


for s in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM):
    signal.signal(s, on_signal)
out = socket.create_connection(("127.0.0.1", to_port), timeout=10)
out.settimeout(None)


def open_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", listen_port))
    s.settimeout(0.05)
    return s


def drain(s):
    s.setblocking(False)
    while True:
        try:
            out.sendall(s.recv(65535))
        except BlockingIOError:
            return


sock = open_port()
print("ready", flush=True)
forwarded = 0
while not want["stop"]:
    if want["down"] and sock:
        drain(sock)
        sock.close()
        sock = None
        print("down", flush=True)
    elif not want["down"] and sock is None:
        sock = open_port()
        print("up", flush=True)
    if sock is None:
        time.sleep(0.05)
        continue
    try:
        data = sock.recv(65535)
    except (socket.timeout, InterruptedError):
        continue
    out.sendall(data)
    forwarded += 1
if sock:
    drain(sock)
print(f"forwarded {forwarded}", file=sys.stderr, flush=True)
