#!/usr/bin/env python3
"""Prints the gnuplot input of the benchmark's chart: MB/s by method and
queue depth, one panel per size, from bench/run.sh's bench.jsonl.

    bench/chart.py BENCH.JSONL OUT.png | gnuplot      (bench/run.sh does this)

Per size: the fio P2P ceiling for each bs/qd (the read job alone, src -> CMB;
the write job alone, CMB -> dst; both at once, as a copy rate: the slower of
the two), then cmbcp on each data path at its qd, cmbcp --qd 1, cmbcp's
bounce through host memory, the real p2pmem-test and its imitation
(bench/p2pmem_sync). A method measured in several rounds shows its median.
Each bar carries its value. The title
names the QEMU (env CMB_QEMU, as vm.sh: backports by default) and the size.
Methods missing from the file (an interrupted run) are left out; a size with
no row to plot, or a file without rows, is an error.
"""
import json
import os
import sys

FIO_SERIES = [  # (title, colour, value of a fio_p2p row)
    ("fio P2P: read alone (src -> CMB)", "#4c72b0", lambda r: r["read"]),
    ("fio P2P: write alone (CMB -> dst)", "#55a868", lambda r: r["write"]),
    ("fio P2P: both at once (copy rate: the slower job)", "#c44e52", lambda r: min(r["both_read"], r["both_write"])),
]
COPIES = [  # (method, tic label, colour); the qd comes from the row when it has one
    ("cmbcp_passthrough", "cmbcp\\npassthrough", "#8172b2"),
    ("cmbcp_block", "cmbcp\\nblock", "#64b5cd"),
    ("cmbcp_qd1", "cmbcp --qd 1", "#937860"),
    ("cmbcp_bounce", "cmbcp bounce\\n(host memory)", "#8c8c8c"),
    ("p2pmem_test", "p2pmem-test\\n4 x 512 KiB", "#ccb974"),
    ("p2pmem_sync", "its imitation\\n(p2pmem_sync)", "#da8bc3"),
]


def quote(s):
    """A gnuplot double-quoted string (\\n inside stays a newline)."""
    return '"' + s.replace('"', '\\"') + '"'


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bench/chart.py BENCH.JSONL OUT.png | gnuplot")
    path, png = sys.argv[1], sys.argv[2]
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    sys.exit(f"chart.py: {path}:{n}: not JSON: {e}")
    if not rows:
        sys.exit(f"chart.py: {path} has no measurements")
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    qemu = os.environ.get("CMB_QEMU") or "backports"

    out = []
    w = out.append
    w("set encoding utf8")
    w(f"set terminal pngcairo size 1500,{560 * len(sizes)} font 'DejaVu Sans,10' noenhanced")
    w(f"set output {quote(png)}")
    w("set style fill solid 0.85 border -1")
    w("set grid ytics lc rgb '#dddddd'")
    w("set ylabel 'MB/s (10^6 bytes/s)'")
    w("set yrange [0:*]")
    w("set offsets 0, 0, graph 0.08, 0")
    w("set key outside bottom center horizontal")
    w("set bmargin 7")  # three-line tic labels, then the key
    w("set xtics nomirror scale 0 font ',9'")
    w("set ytics nomirror")
    w("set border 3")
    if len(sizes) > 1:
        w(f"set multiplot layout {len(sizes)},1")
    for si, size in enumerate(sizes):
        fio = [r for r in rows if r["size"] == size and r["method"] == "fio_p2p"]
        by = {}
        for r in rows:
            if r["size"] == size and r["method"] != "fio_p2p" and r.get("round") != -1:  # -1: 2 MiB baselines
                by.setdefault(r["method"], []).append(r)
        # Several rounds of a method: the median row of them.
        by = {m: sorted(rs, key=lambda r: r["bytes_per_s"])[(len(rs) - 1) // 2] for m, rs in by.items()}
        bars = []  # (x, MB/s, series index)
        tics = []  # (label, x)
        x = 0.0
        for r in fio:
            for k, (_, _, value) in enumerate(FIO_SERIES):
                bars.append((x + (k - 1) * 0.27, value(r) / 1e6, k))
            tics.append((f"fio {r['bs']}\\nqd {r['qd']}", x))
            x += 1.0
        if fio:
            x += 0.4  # a gap between the ceiling and the copies
        for j, (method, label, _) in enumerate(COPIES):
            r = by.get(method)
            if r is None:
                continue
            if "qd" in r and method != "cmbcp_qd1":
                label += f"\\nqd {r['qd']}"
            bars.append((x, r["bytes_per_s"] / 1e6, len(FIO_SERIES) + j))
            tics.append((label, x))
            x += 1.0
        if not bars:
            sys.exit(f"chart.py: {path}: nothing to plot for size {size}")
        w(f"set title {quote(f'cmb bench on QEMU {qemu}, {size} per copy: MB/s by method and queue depth (one boot; copies run in rounds: their median)')} font ',12'")
        w("set xtics (" + ", ".join(f"{quote(l)} {p:.2f}" for l, p in tics) + ")")
        w(f"set xrange [-0.7:{x - 0.3:.2f}]")
        plots = []
        series = [(t, c) for t, c, _ in FIO_SERIES] + [(l.split("\\n")[0], c) for _, l, c in COPIES]
        for k, (title, colour) in enumerate(series):
            pts = [b for b in bars if b[2] == k]
            if not pts:
                continue
            block = f"$s{si}_{k}"
            w(f"{block} << EOD")
            for bx, v, _ in pts:
                w(f"{bx:.2f} {v:.1f}")
            w("EOD")
            # The copies' bars are named by their tics; only the fio series need a key.
            key = f"title {quote(title)}" if k < len(FIO_SERIES) else "notitle"
            width = 0.26 if k < len(FIO_SERIES) else 0.5
            plots.append(f"{block} using 1:2:({width}) with boxes lc rgb '{colour}' {key}")
            plots.append(f"{block} using 1:2:(sprintf('%.0f', $2)) with labels offset 0,0.7 font ',8' notitle")
        if fio:
            # run.sh's copy ceiling: the best both-at-once copy rate of the sweep,
            # drawn first so that the bars cover it.
            ceiling = max(FIO_SERIES[2][2](r) for r in fio) / 1e6
            plots.insert(0, f"{ceiling:.1f} with lines dt 2 lw 1.5 lc rgb '{FIO_SERIES[2][1]}' "
                         f"title {quote(f'fio P2P copy ceiling (best both at once): {ceiling:.0f}')}")
        w("plot " + ", \\\n     ".join(plots))
    if len(sizes) > 1:
        w("unset multiplot")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
