#!/usr/bin/python3
"""UDP packets 10.9.0.1:SPORT -> 10.9.0.2:9 out of IFACE at chosen moments,
each from a chosen CPU, for 13-packet-times.

  timed_send.py IFACE SPORT:COUNT:GAP_MS:CPUS ...

sends COUNT packets of each flow, GAP_MS apart, the i-th from CPU
CPUS[i % len] (CPUS: digits, "01" alternates CPUs 0 and 1; a CPU this
machine lacks is replaced by one it has). The flows run one after another.
Prints one JSON object: {"SPORT": [wall time of each send in ms, ...]}.
"""
import json
import os
import socket
import struct
import sys
import time


def checksum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(sport):
    payload = b"t" * 18
    udp = struct.pack("!HHHH", sport, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton("10.9.0.1"), socket.inet_aton("10.9.0.2"))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    return eth + ip + udp


def main():
    iface, specs = sys.argv[1], sys.argv[2:]
    have = sorted(os.sched_getaffinity(0))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    sent = {}
    for spec in specs:
        sport, count, gap_ms, cpus = spec.split(":")
        f = frame(int(sport))
        times = sent.setdefault(sport, [])
        for i in range(int(count)):
            cpu = int(cpus[i % len(cpus)])
            os.sched_setaffinity(0, {cpu if cpu in have else have[0]})
            if i:
                time.sleep(int(gap_ms) / 1000)
            times.append(time.time() * 1000)
            sock.send(f)
    print(json.dumps(sent))


if __name__ == "__main__":
    main()
