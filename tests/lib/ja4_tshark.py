#!/usr/bin/env python3
"""JA4 of every TLS ClientHello in a capture, computed here from the fields
tshark decodes (tshark has no JA4 field), per FoxIO's specification:
prints "SERVERPORT JA4" lines. An independent check of flowexport's."""
import hashlib
import subprocess
import sys

FIELDS = ["tcp.dstport", "tls.handshake.ciphersuite", "tls.handshake.extension.type",
          "tls.handshake.sig_hash_alg", "tls.handshake.extensions.supported_version",
          "tls.handshake.extensions_alpn_str", "tls.handshake.version"]


def grease(v):
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


def ints(s):
    return [int(x, 0) for x in s.split(",") if x]


def h12(s):
    return hashlib.sha256(s.encode()).hexdigest()[:12] if s else "000000000000"


out = subprocess.run(["tshark", "-r", sys.argv[1], "-Y", "tls.handshake.type == 1",
                      "-T", "fields", "-E", "separator=;"] + sum([["-e", f] for f in FIELDS], []),
                     capture_output=True, text=True, check=True).stdout
names = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3"}
for line in out.splitlines():
    port, ciphers, exts, sigs, versions, alpn, legacy = line.split(";")
    c = [x for x in ints(ciphers) if not grease(x)]
    e = [x for x in ints(exts) if not grease(x)]
    v = [x for x in ints(versions) if not grease(x)]
    ver = max(v) if v else int(legacy, 0)
    first = alpn.split(",")[0] if alpn else ""
    a = first[0] + first[-1] if first else "00"
    sni = "d" if 0 in e else "i"
    part_a = "t%s%s%02d%02d%s" % (names.get(ver, "00"), sni, min(len(c), 99), min(len(e), 99), a)
    part_b = h12(",".join("%04x" % x for x in sorted(c)))
    rest = sorted(x for x in e if x not in (0, 0x10))
    s = ",".join("%04x" % x for x in rest)
    sg = ",".join("%04x" % x for x in ints(sigs))
    part_c = h12(s + ("_" + sg if sg else "")) if rest else "000000000000"
    print(port, "%s_%s_%s" % (part_a, part_b, part_c))
