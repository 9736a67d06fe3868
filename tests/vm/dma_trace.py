#!/usr/bin/env python3
"""Counts DMA payload bytes inside and outside CMB windows in QEMU's trace.

QEMU's NVMe model logs `pci_nvme_map_addr addr A len L` for every data
mapping (-trace pci_nvme_map_addr). A byte whose bus address lies in a
provider's CMB BAR went peer-to-peer; any other byte went to host memory.

  dma_trace.py TRACE --window 0xf4000000-0xf7ffffff [--window ...]
  dma_trace.py TRACE --expect dma-expect.json   # checks, exit 1 on mismatch

--expect takes {"window_start", "window_end", "p2p_bytes", "host_bytes"}:
inside must equal p2p_bytes exactly; outside must be at least host_bytes
(the kernel's own boot-time reads also land there). For several CMBs (a
striped copy) it takes {"windows": [{"name", "start", "end", "min_bytes",
"max_bytes"}, ...], "p2p_bytes", "host_bytes"}: each window's bytes must lie
in [min_bytes, max_bytes], all windows' together equal p2p_bytes exactly.
"""
import argparse
import json
import re
import sys

LINE = re.compile(r"pci_nvme_map_addr addr (0x[0-9a-f]+) len (\d+)")


def count(trace, windows):
    """Bytes inside each (start, end) window, outside all, and straddling an edge."""
    inside = [0] * len(windows)
    outside = straddle = 0
    with open(trace) as f:
        for line in f:
            m = LINE.search(line)
            if not m:
                continue
            addr, length = int(m.group(1), 16), int(m.group(2))
            last = addr + length - 1
            for i, (start, end) in enumerate(windows):
                if start <= addr and last <= end:
                    inside[i] += length
                    break
                if not (last < start or addr > end):
                    straddle += length
                    break
            else:
                outside += length
    return inside, outside, straddle


def parse_expect(path):
    """The windows [(name, start, end, min, max)] and the totals of an --expect file."""
    with open(path) as f:
        exp = json.load(f)
    if "windows" in exp:
        wins = [(w.get("name", f"window {i}"), int(w["start"], 16), int(w["end"], 16), w["min_bytes"], w["max_bytes"])
                for i, w in enumerate(exp["windows"])]
    else:  # one window: its bytes are all the P2P bytes
        wins = [("window", int(exp["window_start"], 16), int(exp["window_end"], 16), exp["p2p_bytes"], exp["p2p_bytes"])]
    return wins, exp["p2p_bytes"], exp["host_bytes"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--window", action="append", help="START-END bus addresses (inclusive); repeatable")
    ap.add_argument("--expect", help="JSON file with the windows and the expected byte counts")
    a = ap.parse_args()
    if a.expect:
        wins, p2p, host = parse_expect(a.expect)
    elif a.window:
        wins = [(f"window {i}", int(w.split("-")[0], 16), int(w.split("-")[1], 16), None, None)
                for i, w in enumerate(a.window)]
        p2p = host = None
    else:
        ap.error("give --window or --expect")
    inside, outside, straddle = count(a.trace, [(w[1], w[2]) for w in wins])
    total = sum(inside) + outside + straddle
    if len(wins) == 1:  # the line callers of one window have always seen
        frac = inside[0] / total if total else 0.0
        print(f"dma_trace: window {wins[0][1]:#x}-{wins[0][2]:#x}: {inside[0]} bytes inside (P2P), "
              f"{outside} outside (host memory), {straddle} straddling; {frac:.1%} of {total} inside")
    else:
        for (name, start, end, _, _), n in zip(wins, inside):
            frac = n / total if total else 0.0
            print(f"dma_trace: {name} {start:#x}-{end:#x}: {n} bytes inside (P2P), {frac:.1%} of {total}")
        print(f"dma_trace: {sum(inside)} bytes inside the windows, {outside} outside (host memory), "
              f"{straddle} straddling")
    if p2p is None:
        return 0
    ok = True
    for (name, _, _, lo, hi), n in zip(wins, inside):
        if len(wins) > 1 and not lo <= n <= hi:
            print(f"dma_trace: FAIL: {name}: {n} bytes, expected {lo}..{hi}", file=sys.stderr)
            ok = False
    if sum(inside) != p2p:
        print(f"dma_trace: FAIL: expected exactly {p2p} P2P bytes inside the window{'s' if len(wins) > 1 else ''}",
              file=sys.stderr)
        ok = False
    if outside < host:
        print(f"dma_trace: FAIL: expected at least {host} host bytes outside", file=sys.stderr)
        ok = False
    if straddle:
        print("dma_trace: FAIL: mappings straddle the window edge", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
