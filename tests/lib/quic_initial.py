#!/usr/bin/env python3
"""Client QUIC v1 Initial packets (RFC 9000 17.2.2, protected per RFC 9001
section 5 with python's cryptography, independently of flowexport's C) that
carry a ClientHello split over N packets, the way a hello with post-quantum
key shares travels. Writes a pcap of them:
  quic_initial.py OUT.pcap SNI ALPN N [KEYSHARE_BYTES]"""
import hmac
import hashlib
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from scapy.all import IP, UDP, Ether, Raw, wrpcap

SALT_V1 = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")


def expand_label(secret, label, length):
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + b"\x00"
    return hmac.new(secret, info + b"\x01", hashlib.sha256).digest()[:length]


def client_keys(dcid):
    initial = hmac.new(SALT_V1, dcid, hashlib.sha256).digest()
    client = expand_label(initial, b"client in", 32)
    return (expand_label(client, b"quic key", 16), expand_label(client, b"quic iv", 12),
            expand_label(client, b"quic hp", 16))


def ext(t, body):
    return struct.pack("!HH", t, len(body)) + body


def client_hello(sni, alpn, keyshare):
    name = sni.encode()
    exts = ext(0, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name)
    protos = b"".join(bytes([len(p)]) + p.encode() for p in alpn.split(","))
    exts += ext(0x10, struct.pack("!H", len(protos)) + protos)
    exts += ext(0x2B, b"\x02\x03\x04")
    exts += ext(0x0D, struct.pack("!H", 4) + b"\x04\x03\x08\x04")
    exts += ext(0x0A, struct.pack("!H", 4) + b"\x11\xec\x00\x1d")
    share = os.urandom(keyshare)
    exts += ext(0x33, struct.pack("!HHH", len(share) + 4, 0x11EC, len(share)) + share)
    exts += ext(0x39, b"\x01\x04\x80\x00\x75\x30")
    body = b"\x03\x03" + os.urandom(32) + b"\x00" + struct.pack("!H", 6) + b"\x13\x01\x13\x02\x13\x03"
    body += b"\x01\x00" + struct.pack("!H", len(exts)) + exts
    return b"\x01" + struct.pack("!I", len(body))[1:] + body


def varint(v):
    if v < 64:
        return bytes([v])
    if v < 16384:
        return struct.pack("!H", 0x4000 | v)
    return struct.pack("!I", 0x80000000 | v)


def initial(dcid, pn, payload):
    key, iv, hp = client_keys(dcid)
    payload += b"\x00" * max(0, 1162 - len(payload))  # datagram >= 1200
    pn_len = 2
    length = pn_len + len(payload) + 16
    header = bytes([0xC0 | (pn_len - 1)]) + struct.pack("!I", 1) + bytes([len(dcid)]) + dcid
    header += b"\x00" + varint(0) + struct.pack("!H", 0x4000 | length)
    pn_off = len(header)
    header += struct.pack("!H", pn)
    nonce = bytes(a ^ b for a, b in zip(iv, b"\x00" * 4 + struct.pack("!Q", pn)))
    ct = AESGCM(key).encrypt(nonce, payload, header)
    pkt = bytearray(header + ct)
    sample = bytes(pkt[pn_off + 4:pn_off + 20])
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(sample) + enc.finalize()
    pkt[0] ^= mask[0] & 0x0F
    for i in range(pn_len):
        pkt[pn_off + i] ^= mask[1 + i]
    return bytes(pkt)


def main():
    out, sni, alpn, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    keyshare = int(sys.argv[5]) if len(sys.argv) > 5 else 1216
    hello = client_hello(sni, alpn, keyshare)
    dcid = os.urandom(8)
    step = (len(hello) + n - 1) // n
    frames, t = [], 1700000000.0
    for i in range(n):
        part = hello[i * step:(i + 1) * step]
        crypto = b"\x06" + varint(i * step) + varint(len(part)) + part
        f = (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") /
             IP(src="10.8.0.1", dst="10.8.0.2") / UDP(sport=50000, dport=443) /
             Raw(initial(dcid, i, crypto)))
        f.time = t + i * 0.001
        frames.append(f)
    wrpcap(out, frames)


if __name__ == "__main__":
    main()
