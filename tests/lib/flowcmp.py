#!/usr/bin/python3
"""flowcmp.py EXPECTED NFDUMP_OUT [--no-vlan] [--no-iface] [--ms TOL]

Compares the flows export_driver (or a traffic script) says it sent with
what nfdump lists, printed with
  nfdump -q -6 -N -o 'fmt:%pr|%sa|%sp|%da|%dp|%pkt|%byt|%flg|%svln|%in|%tsr|%td'
EXPECTED lines: "proto src sport dst dport packets octets flags vlan ifindex
start_ms end_ms". Every expected flow must appear once with equal fields,
start/end within TOL ms (default 1000). Prints one '#' line per mismatch
(at most 10) and a summary; exit status 1 on any difference."""
import ipaddress
import sys


def norm_addr(a):
    return str(ipaddress.ip_address(a.strip()))


def flags_bits(s):
    s = s.strip()
    if s.startswith('0x'):
        return int(s, 16)
    return sum(1 << (7 - i) for i, c in enumerate(s[-8:]) if c != '.')


def port(s):
    s = s.strip()
    if '.' in s:  # ICMP type.code
        t, c = s.split('.')
        return int(t) << 8 | int(c)
    return int(s)


def duration_ms(s):
    s = s.strip()
    if ':' in s:
        h, m, sec = s.split(':')
        return round((int(h) * 3600 + int(m) * 60 + float(sec)) * 1000)
    return round(float(s) * 1000)


def main():
    args = sys.argv[1:]
    tol = 1000
    use_vlan = '--no-vlan' not in args
    use_if = '--no-iface' not in args
    if '--ms' in args:
        tol = int(args[args.index('--ms') + 1])
    exp_file, got_file = [a for a in args if not a.startswith('--')
                          and not a.isdigit()][:2]
    expected = {}
    for line in open(exp_file):
        f = line.split()
        if len(f) < 12:
            continue
        key = (int(f[0]), norm_addr(f[1]), int(f[2]), norm_addr(f[3]),
               int(f[4]), int(f[8]) if use_vlan else 0)
        expected.setdefault(key, []).append(
            dict(pkt=int(f[5]), byt=int(f[6]), flg=int(f[7]) & 0xff,
                 ifx=int(f[9]) if use_if else 0, start=int(f[10]),
                 end=int(f[11])))
    got = {}
    for line in open(got_file):
        f = line.split('|')
        if len(f) < 12:
            continue
        start = round(float(f[10]) * 1000)
        key = (int(f[0]), norm_addr(f[1]), port(f[2]), norm_addr(f[3]),
               port(f[4]), int(f[8]) if use_vlan else 0)
        got.setdefault(key, []).append(
            dict(pkt=int(f[5]), byt=int(f[6]), flg=flags_bits(f[7]),
                 ifx=int(f[9]) if use_if else 0, start=start,
                 end=start + duration_ms(f[11])))
    problems = []
    n_exp = sum(len(v) for v in expected.values())
    n_got = sum(len(v) for v in got.values())
    for key, recs in expected.items():
        have = got.get(key, [])
        for r in recs:
            match = None
            for g in have:
                if (g['pkt'], g['byt'], g['flg'], g['ifx']) == \
                   (r['pkt'], r['byt'], r['flg'], r['ifx']) and \
                   abs(g['start'] - r['start']) <= tol and \
                   abs(g['end'] - r['end']) <= tol:
                    match = g
                    break
            if match:
                have.remove(match)
            else:
                problems.append('missing or different: %s %s (collector has %s)'
                                % (key, r, have[:1]))
    extra = sum(len(v) for v in got.values())
    if extra:
        problems.append('%d flows at the collector that were not sent' % extra)
    for p in problems[:10]:
        print('#   ' + p)
    print('# flowcmp: %d expected, %d at the collector, %d problems'
          % (n_exp, n_got, len(problems)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
