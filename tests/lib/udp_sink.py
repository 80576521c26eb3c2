#!/usr/bin/env python3
"""udp_sink.py PORT PCAP LENGTHS [SECONDS]: receive UDP datagrams on
127.0.0.1:PORT for at most SECONDS (default 120) or until SIGTERM; write
each one to PCAP (raw IPv4 link type, so that tshark can decode it) and
its payload length, one a line, to LENGTHS. Standard library only."""
import signal
import socket
import struct
import sys
import time

port, pcap_path, len_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
deadline = time.time() + (float(sys.argv[4]) if len(sys.argv) > 4 else 120)
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
sock.bind(("127.0.0.1", port))
sock.settimeout(0.1)
pcap = open(pcap_path, "wb")
pcap.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
lengths = open(len_path, "w")
print("ready", flush=True)
while not stop and time.time() < deadline:
    try:
        data, (_, sport) = sock.recvfrom(65535)
    except socket.timeout:
        continue
    udp = struct.pack("!HHHH", sport, port, 8 + len(data), 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(data), 0, 0, 64, 17,
                     0, socket.inet_aton("127.0.0.1"),
                     socket.inet_aton("127.0.0.1"))
    frame = ip + udp + data
    now = time.time()
    pcap.write(struct.pack("<IIII", int(now), int(now % 1 * 1e6), len(frame),
                           len(frame)))
    pcap.write(frame)
    lengths.write(f"{len(data)}\n")
    lengths.flush()
pcap.close()
lengths.close()
