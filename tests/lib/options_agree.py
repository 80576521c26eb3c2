#!/usr/bin/python3
"""Compare the options of --help, the rendered man page and README.md.

  options_agree.py HELP.txt MAN.txt README.md

HELP.txt is `flowexport --help`, MAN.txt `man -l flowexport.8` rendered
without line breaks (MANWIDTH=1000, LC_ALL=C, col -b). Each gives a list of
(option, text); the three lists must be equal, in order, after backticks
and whitespace are normalised. Prints the first difference and exits 1.
"""
import re
import sys


def norm(s):
    return " ".join(s.replace("`", "").replace("\\|", "|").split())


def from_help(path):
    out, cur = [], None
    for line in open(path).read().split("\n\n")[1].splitlines():
        m = re.match(r"^  (?:    )?(-\S.*?)(?:\s{2,}(.*))?$", line)
        if m and not line.startswith(" " * 8):
            cur = [m.group(1), m.group(2) or ""]
            out.append(cur)
        elif cur is not None:
            cur[1] += " " + line.strip()
    return [(norm(o), norm(t)) for o, t in out]


def from_man(path):
    text = open(path).read()
    sect = text.split("\nOPTIONS\n", 1)[1].split("\nCOUNTERS\n", 1)[0]
    out = []
    for block in sect.strip("\n").split("\n\n"):
        lines = [l.strip() for l in block.splitlines()]
        out.append((norm(lines[0]), norm(" ".join(lines[1:]))))
    return out


def from_readme(path):
    text = open(path).read()
    table = text.split("### Options\n\n", 1)[1].split("\n\n", 1)[0]
    out = []
    for row in table.splitlines()[2:]:
        m = re.match(r"^\| `(.*?)` \| (.*) \|$", row)
        if not m:
            sys.exit("README row not understood: " + row)
        out.append((norm(m.group(1)), norm(m.group(2))))
    return out


def main():
    lists = {"--help": from_help(sys.argv[1]), "man page": from_man(sys.argv[2]),
             "README": from_readme(sys.argv[3])}
    ref = lists["--help"]
    for name, got in lists.items():
        if len(got) != len(ref):
            print(f"{name}: {len(got)} options, --help has {len(ref)}")
            return 1
        for a, b in zip(ref, got):
            if a != b:
                print(f"{name} differs from --help:\n  {b}\n  {a}")
                return 1
    print(f"{len(ref)} options agree")
    return 0


sys.exit(main())
