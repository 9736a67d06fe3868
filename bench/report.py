#!/usr/bin/env python3
"""Prints bench/run.sh's tables and ratios from the guest's bench.jsonl
(bench/inside.sh), and the DMA trace's share of the payload.

    bench/report.py BENCH.JSONL [DMA_TRACE_LINE]

The four compared copies (cmbcp on each path, the real p2pmem-test and its
imitation) run ROUNDS times per size; a ratio between two of them is taken
within each round (the machine's speed drifts between rounds more than
between neighbouring copies) and the rounds' median is what is judged.
Ratios to the fio ceiling use the one ceiling of the size.
"""
import json
import re
import statistics
import sys

COMPARED = ["cmbcp_passthrough", "cmbcp_block", "p2pmem_test", "p2pmem_sync"]
CHUNK = 524288


def iec(size):
    """Bytes in a size as numfmt --from=iec reads it: 256M, 1G."""
    m = re.fullmatch(r"(\d+)([KMGT]?)", size)
    if not m:
        sys.exit(f"report.py: cannot read the size {size!r}")
    return int(m.group(1)) << (10 * " KMGT".index(m.group(2) or " "))


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: bench/report.py BENCH.JSONL [DMA_TRACE_LINE]")
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    med = statistics.median
    for size in sizes:
        rs = [r for r in rows if r["size"] == size]
        chunks = iec(size) / CHUNK
        by_round = {}
        for r in rs:
            if r["method"] in COMPARED:
                by_round.setdefault(r["round"], {})[r["method"]] = r
        # Round -1: a 2 MiB copy per method, what starting the process costs.
        base = by_round.pop(-1, {})
        rounds = sorted(by_round)

        def marginal(v):
            """CPU s/GiB and waits per 512 KiB chunk beyond the 2 MiB copy's."""
            b = base.get(v["method"])
            if not b:
                return v["cpu_s_per_gib"], v["vol_cs"] / chunks
            moved = v["bytes"] - b["bytes"]
            return ((v["user_s"] + v["sys_s"] - b["user_s"] - b["sys_s"]) / (moved / 2**30),
                    (v["vol_cs"] - b["vol_cs"]) / (moved / CHUNK))
        once = {r["method"]: r for r in rs if r["method"] not in COMPARED and r["method"] != "fio_p2p"}
        fio = [r for r in rs if r["method"] == "fio_p2p"]
        ceiling = max(fio, key=lambda r: r["bytes_per_s"])

        print(f"\n== {size}: MB/s per round (median); CPU s/GiB (cmbcp: its copy.cpu; the others: GNU time's "
              f"less a 2 MiB copy's) and voluntary context switches (waits) per 512 KiB of payload (GNU time's "
              f"less a 2 MiB copy's); medians")
        print(f"{'method':<20} " + " ".join(f"{'round ' + str(k):>9}" for k in rounds) +
              f" {'median':>8} {'CPU':>6} {'waits/chunk':>11}  notes")
        for m in COMPARED:
            vals = [by_round[k][m] for k in rounds if m in by_round[k]]
            if not vals:
                continue
            note = ""
            v0 = vals[0]
            if "qd" in v0:
                note = (f"path {v0['path']}, chunk {v0['chunk'] >> 10} KiB, qd {v0['qd']}, "
                        f"peak RSS {v0['peak_rss_bytes'] / 2**20:.1f} MiB")
            if "flush_s" in v0:
                note = (f"copy alone {med(v['copy_bytes_per_s'] for v in vals) / 1e6:.1f} MB/s, "
                        f"then the flush {med(v['flush_s'] for v in vals) * 1e3:.1f} ms")
            # cmbcp's own copy.cpu counts the copy alone; for the others, GNU
            # time's less the 2 MiB copy's (cmbcp's start-up varies too much for that).
            cpu = med(v["cmbcp_cpu_s_per_gib"] if "cmbcp_cpu_s_per_gib" in v else marginal(v)[0] for v in vals)
            print(f"{m:<20} " + " ".join(f"{v['bytes_per_s'] / 1e6:9.1f}" for v in vals) +
                  f" {med(v['bytes_per_s'] for v in vals) / 1e6:8.1f} {cpu:6.2f}"
                  f" {med(marginal(v)[1] for v in vals):11.2f}  {note}")
        for m, r in once.items():  # one run each: its value in the median column
            extra = ""
            if "cpu_s_per_gib" in r:
                extra = (f" {'':6} {'':11}  path {r['path']}, qd {r['qd']}, copy.cpu {r['cmbcp_cpu_s_per_gib']:.2f} s/GiB"
                         f" (one run, no 2 MiB baseline)")
            print(f"{m:<20} {'':{10 * len(rounds)}}{r['bytes_per_s'] / 1e6:8.1f}{extra}")
        print(f"{size} fio P2P (MB/s)   bs    qd   read  write  both: read  write")
        for r in fio:
            print(f"{'':>19}{r['bs']:>6} {r['qd']:>4} {r['read'] / 1e6:6.1f} {r['write'] / 1e6:6.1f}"
                  f"        {r['both_read'] / 1e6:6.1f} {r['both_write'] / 1e6:6.1f}")

        def ratio(name, num, den, target=None):
            vals = [num(by_round[k]) / den(by_round[k]) for k in rounds
                    if all(m in by_round[k] for m in COMPARED)]
            t = f"   (target {target})" if target else ""
            print(f"{size}: {name:<44} = {med(vals):.2f}   rounds: {', '.join(f'{v:.2f}' for v in vals)}{t}")

        pt = lambda d: d["cmbcp_passthrough"]["bytes_per_s"]
        blk = lambda d: d["cmbcp_block"]["bytes_per_s"]
        best = lambda d: max(pt(d), blk(d))
        real = lambda d: d["p2pmem_test"]["bytes_per_s"]
        ceil = lambda d: ceiling["bytes_per_s"]
        print()
        ratio("cmbcp best path / p2pmem-test", best, real, ">= 1.3")
        ratio("cmbcp --path passthrough / p2pmem-test", pt, real, ">= 1.3")
        ratio("cmbcp --path block / p2pmem-test", blk, real, ">= 1.3")
        ratio("cmbcp best path / fio P2P copy ceiling", best, ceil, ">= 0.9")
        ratio("cmbcp --path passthrough / fio P2P ceiling", pt, ceil, ">= 0.9")
        ratio("cmbcp --path block / fio P2P ceiling", blk, ceil, ">= 0.9")
        ratio("imitation / p2pmem-test, both + flush", lambda d: d["p2pmem_sync"]["bytes_per_s"], real, "1.00: faithful")
        ratio("imitation / p2pmem-test, copy alone", lambda d: d["p2pmem_sync"]["copy_bytes_per_s"],
              lambda d: d["p2pmem_test"]["copy_bytes_per_s"], "1.00: faithful")
        print(f"{size}: fio ceiling: a read and a write job at once through the CMB, best of bs/qd: "
              f"{ceiling['bs']} qd {ceiling['qd']}, {ceiling['bytes_per_s'] / 1e6:.1f} MB/s")
        p2p = med(pt(by_round[k]) for k in rounds)
        if "cmbcp_qd1" in once:
            print(f"{size}: cmbcp passthrough / QD1 copy (cmb_copy style)  = {p2p / once['cmbcp_qd1']['bytes_per_s']:.2f}")
        if "cmbcp_bounce" in once:
            b = once["cmbcp_bounce"]
            print(f"{size}: cmbcp passthrough / bounce via host memory  = {p2p / b['bytes_per_s']:.2f}")
            for m in ("cmbcp_passthrough", "cmbcp_block"):
                c = med(by_round[k][m]["cmbcp_cpu_s_per_gib"] for k in rounds)
                print(f"{size}: copy.cpu s/GiB {m + ' / bounce':<28} = {c / b['cmbcp_cpu_s_per_gib']:.2f}")
        if "dd_direct" in once:
            print(f"{size}: cmbcp passthrough / dd iflag=direct oflag=direct = {p2p / once['dd_direct']['bytes_per_s']:.2f}")
    rss = [r["peak_rss_bytes"] for r in rows if r["method"] in ("cmbcp_passthrough", "cmbcp_block") and r["round"] != -1]
    print(f"\ncmbcp peak RSS over {', '.join(sizes)}, both paths: {min(rss) / 2**20:.1f} .. {max(rss) / 2**20:.1f} MiB"
          f"   (target: flat, < 16 MiB)")
    if len(sys.argv) == 3:
        t = re.search(r"(\d+) bytes inside", sys.argv[2])
        print(f"DMA trace (64 MiB copy): {int(t.group(1))} bytes inside the CMB window = "
              f"{int(t.group(1)) / (2 * 67108864):.0%} of 2 x payload   (target 100 %)")


if __name__ == "__main__":
    main()
