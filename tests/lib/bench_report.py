#!/usr/bin/python3
"""make bench's report: reads DIR/results.jsonl (tests/bench.sh), prints the
tables, writes DIR/results.csv (every measurement, one row each) and
DIR/bench.png (ns/packet and Mpps against the flow count).

  bench_report.py DIR
"""
import csv
import json
import os
import sys


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    print("bench: skipping a line that is not JSON: " + line, file=sys.stderr)
    return rows


def fmt_flows(n):
    n = int(n)
    return "1M" if n == 1000000 else "%dk" % (n // 1000) if n >= 1000 else str(n)


def table(title, head, body):
    print("\n== " + title)
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in body:
        print("| " + " | ".join(str(c) for c in r) + " |")


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return (xs[n // 2] + xs[(n - 1) // 2]) / 2


def spread(xs, fmt):
    """median, and the range when there is more than one value"""
    m = fmt % median(xs)
    return m if len(xs) < 2 else "%s (%s to %s)" % (m, fmt % min(xs), fmt % max(xs))


def testrun_table(rows):
    tr = [r for r in rows if r.get("part") == "testrun"]
    if not tr:
        return
    body = []
    for mode, flows in [("one flow", 1)] + [("cycled", n) for n in
                                           sorted({r["flows"] for r in tr if r["mode"] == "cycled"})]:
        sel = {r["share"]: r for r in tr if r["mode"] == mode and r["flows"] == flows}
        if not sel:
            continue
        any_r = next(iter(sel.values()))
        cells = [("%s (repeat)" % mode) if mode == "one flow" else fmt_flows(flows)]
        for share in ("meta", "percpu", "global"):
            r = sel.get(share)
            if not r:
                cells.append("-")
            elif "map_only_ns" in r:
                cells.append("%.1f (%.2fx map, %.2fx floor)" % (
                    r["ns_per_packet"], r["ns_per_packet"] / r["map_only_ns"],
                    r["ns_per_packet"] / r["floor_ns"]))
            else:
                cells.append("%.1f (%.2fx floor)" % (r["ns_per_packet"], r["ns_per_packet"] / r["floor_ns"]))
        cells.append("%.1f" % any_r["map_only_ns"] if "map_only_ns" in any_r else "-")
        cells.append("%.1f" % any_r["floor_ns"])
        body.append(cells)
    table("a. ns/packet under BPF_PROG_TEST_RUN (64-byte IPv4 UDP)",
          ["flows", "meta", "percpu", "global", "bare map", "empty program"], body)


def live_best(rows, receiver, flows, rnd=None):
    """The highest rate at which every packet sent was accounted (in one
    round, when rnd is given)."""
    sel = [r for r in rows if r.get("part") == "live" and r["receiver"] == receiver
           and r["flows"] == flows and (rnd is None or r.get("round", 1) == rnd)]
    if receiver != "flowexport":
        return max(sel, key=lambda r: r["mpps"]) if sel else None
    ok = [r for r in sel if int(r["accounted"]) == int(r["sent"])]
    return max(ok, key=lambda r: r["mpps"]) if ok else None


def best_by_round(rows, receiver, flows):
    """{round: live_best of that round (None: nothing lossless)}"""
    rounds = {r.get("round", 1) for r in rows
              if r.get("part") == "live" and r["flows"] == flows}
    return {rnd: live_best(rows, receiver, flows, rnd) for rnd in sorted(rounds)}


def best_rates(rows, receiver, flows):
    return [r["mpps"] for r in best_by_round(rows, receiver, flows).values() if r]


def live_table(rows):
    """Each flow count over its rounds: the medians of each receiver's
    rate and of flowexport's ratios to the references of its own round."""
    live = [r for r in rows if r.get("part") == "live"]
    if not live:
        return
    body = []
    for flows in sorted({r["flows"] for r in live}):
        fx = best_by_round(rows, "flowexport", flows)

        def ratios(x):
            ref = best_by_round(rows, x, flows)
            return [fx[n]["mpps"] / ref[n]["mpps"] for n in fx if fx[n] and ref.get(n)]

        cells = [fmt_flows(flows)]
        for x in ("pass", "map", "map-ondemand"):
            rates = best_rates(rows, x, flows)
            cells.append(spread(rates, "%.2f") if rates else "-")
        if any(fx.values()):
            cells.append(spread(best_rates(rows, "flowexport", flows), "%.2f"))
            cells += [spread(ratios(x), "%.2f") if ratios(x) else "-"
                      for x in ("map", "map-ondemand", "pass")]
            cells.append(spread([r["manager_cpu"] for r in fx.values() if r], "%.2f") + " core")
        else:
            cells += ["none lossless", "-", "-", "-", "-"]
        tries = [r for r in live if r["receiver"] == "flowexport" and r["flows"] == flows]
        cells.append("; ".join("%s pps: %d of %d" % (
            r["offered_pps"] or "max", int(r["accounted"]), int(r["sent"])) for r in tries))
        body.append(cells)
    table("b. live frames through a veth, Mpps received (flowexport: highest with every packet "
          "in a record); medians over the rounds (range), ratios taken within a round",
          ["flows", "XDP_PASS", "bare map", "bare map, on demand", "flowexport", "/ bare map",
           "/ on demand", "/ XDP_PASS", "manager CPU",
           "flowexport tries (offered: accounted of sent)"], body)


def peers_table(rows):
    """Each rate and meter over its rounds: packets accounted in every
    round, the meter's CPU, and the machine's CPU above the XDP_PASS-only
    reference of the same round and rate (medians, ranges)."""
    pe = [r for r in rows if r.get("part") == "peers"]
    if not pe:
        return
    body = []
    for rate in sorted({r["offered_pps"] for r in pe}):
        at = [r for r in pe if r["offered_pps"] == rate]
        idle = {r.get("round", 1): r["machine_cpu_s"] for r in at if r["meter"] == "none"}
        for meter in ("map", "flowexport", "softflowd", "pmacctd"):
            mine = [r for r in at if r["meter"] == meter]
            if not mine:
                continue
            counts = "- (exports nothing)" if meter == "map" else "; ".join(
                "%d of %d%s" % (r["accounted"], r["sent"], " (its own count: %s)" % r["own_count"]
                                if r.get("own_count") else "") for r in mine)
            above = [r["machine_cpu_s"] - idle[r.get("round", 1)] for r in mine
                     if r.get("round", 1) in idle]
            body.append([rate, "bare map program" if meter == "map" else meter, counts,
                         "-" if meter == "map" else spread([r["meter_cpu_s"] for r in mine], "%.2f s"),
                         spread(above, "%+.2f s") if above else "-", len(above)])
    table("c. the same frames (10k flows) into nfcapd: packets stored (the meter's own count) "
          "in each round, CPU (medians, range over the rounds)",
          ["offered pps", "meter", "packets accounted", "meter process CPU",
           "machine CPU above XDP_PASS only", "rounds"], body)


def export_table(rows):
    ex = [r for r in rows if r.get("part") == "export"]
    dr = [r for r in rows if r.get("part") == "drain"]
    body = [[r["path"], "%.2f M" % (r["records_per_s"] / 1e6),
             "%d of %d" % (r["stored"], r["records"]) if "stored" in r else "-"] for r in ex]
    for r in dr:
        body.append(["1M flows drained, expired and written to an IPFIX file at exit",
                     "%.2f s" % r["exit_seconds"], "%s records, %s packets of %s sent" % (r["records"], r["packets"], r["sent"])])
    if body:
        table("d. export", ["path", "records/s (or time)", "stored"], body)


def memory_table(rows):
    fx = [r for r in rows if r.get("part") == "live" and r["receiver"] == "flowexport"]
    if not fx:
        return
    top = max(r["flows"] for r in fx)
    r = [x for x in fx if x["flows"] == top][-1]
    tr = [x for x in rows if x.get("part") == "testrun" and x.get("flows") == top
          and "table_bytes_per_flow" in x]
    active = int(r.get("active_flows") or 0)
    grow = (r["rss_kb"] - r["rss_kb_idle"]) * 1024
    body = [["kernel: every BPF map of the running flowexport (memlock)",
             "%.0f MB" % (r["map_bytes"] / 1e6), "-"],
            ["user space: RSS growth from idle, %d flows in the cache" % active,
             "%.0f MB" % (grow / 1e6), "%.0f" % (grow / active) if active else "-"]]
    if tr:
        body.append(["kernel: one flow table entry (memlock / max_entries, -t 0 --flows %s)"
                     % fmt_flows(top), "-", "%.0f" % tr[0]["table_bytes_per_flow"]])
    table("e. memory with %s live flows (default settings)" % fmt_flows(top),
          ["what", "total", "bytes per flow"], body)


def write_csv(rows, path):
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: no matplotlib (python3-matplotlib), no plot", file=sys.stderr)
        return
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    tr = [r for r in rows if r.get("part") == "testrun" and r.get("mode") == "cycled"]
    for share in ("meta", "percpu", "global"):
        pts = sorted((r["flows"], r["ns_per_packet"]) for r in tr if r["share"] == share)
        if pts:
            ax1.plot(*zip(*pts), marker="o", label="flowexport " + share)
    for key, label in (("map_only_ns", "bare map program"), ("floor_ns", "empty program")):
        pts = sorted({(r["flows"], r[key]) for r in tr if r["share"] == tr[0]["share"]}) if tr else []
        if pts:
            ax1.plot(*zip(*pts), marker="s", linestyle="--", label=label)
    ax1.set_xscale("log")
    ax1.set_xlabel("flows in the table")
    ax1.set_ylabel("ns per packet (BPF_PROG_TEST_RUN)")
    ax1.set_title("per-packet cost")
    if ax1.lines:
        ax1.legend(fontsize=8)
    live = [r for r in rows if r.get("part") == "live"]
    flows = sorted({r["flows"] for r in live})
    for receiver, label in (("pass", "XDP_PASS only"), ("map", "bare map program"),
                            ("map-ondemand", "bare map program, entries on demand"),
                            ("flowexport", "flowexport, every packet in a record")):
        pts = [(f, median(best_rates(rows, receiver, f))) for f in flows
               if best_rates(rows, receiver, f)]
        if pts:
            ax2.plot(*zip(*pts), marker="o", label=label + " (median of the rounds)")
    lossy = []
    for f in flows:
        tries = [int(r["accounted"]) / r["seconds"] / 1e6 for r in live
                 if r["receiver"] == "flowexport" and r["flows"] == f and r["offered_pps"] == 0]
        if tries:
            lossy.append((f, median(tries)))
    if lossy:
        ax2.plot(*zip(*lossy), marker="^", linestyle=":",
                 label="flowexport, packets in records / s, fastest tries (median)")
    peers = [r for r in rows if r.get("part") == "peers" and r["meter"] in ("softflowd", "pmacctd")]
    for meter in ("softflowd", "pmacctd"):
        ok = [r for r in peers if r["meter"] == meter and r["accounted"] == r["sent"]]
        if ok:
            best = max(ok, key=lambda r: r["offered_pps"])
            ax2.scatter([best["flows"]], [best["offered_pps"] / 1e6], marker="x",
                        label="%s (highest lossless rate tried)" % meter)
    ax2.set_xscale("symlog", linthresh=1)
    ax2.set_xlabel("flows")
    ax2.set_ylabel("Mpps (64-byte frames, live, one core)")
    ax2.set_title("live frames through a veth")
    if ax2.lines or ax2.collections:
        ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/bench"
    rows = load(os.path.join(out, "results.jsonl"))
    testrun_table(rows)
    live_table(rows)
    peers_table(rows)
    export_table(rows)
    memory_table(rows)
    write_csv(rows, os.path.join(out, "results.csv"))
    plot(rows, os.path.join(out, "bench.png"))
    print("\nraw results: %s/results.jsonl, %s/results.csv; plot: %s/bench.png" % (out, out, out))


if __name__ == "__main__":
    main()
