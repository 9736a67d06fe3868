#!/usr/bin/env python3
"""Counts DMA payload bytes inside and outside a CMB window in QEMU's trace.

QEMU's NVMe model logs `pci_nvme_map_addr addr A len L` for every data
mapping (-trace pci_nvme_map_addr). A byte whose bus address lies in the
provider's CMB BAR went peer-to-peer; any other byte went to host memory.

  dma_trace.py TRACE --window 0xf4000000-0xf7ffffff
  dma_trace.py TRACE --expect dma-expect.json   # checks, exit 1 on mismatch

--expect takes {"window_start", "window_end", "p2p_bytes", "host_bytes"}:
inside must equal p2p_bytes exactly; outside must be at least host_bytes
(the kernel's own boot-time reads also land there).
"""
import argparse
import json
import re
import sys

LINE = re.compile(r"pci_nvme_map_addr addr (0x[0-9a-f]+) len (\d+)")


def count(trace, start, end):
    inside = outside = straddle = 0
    with open(trace) as f:
        for line in f:
            m = LINE.search(line)
            if not m:
                continue
            addr, length = int(m.group(1), 16), int(m.group(2))
            last = addr + length - 1
            if start <= addr and last <= end:
                inside += length
            elif last < start or addr > end:
                outside += length
            else:
                straddle += length
    return inside, outside, straddle


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--window", help="START-END bus addresses (inclusive)")
    ap.add_argument("--expect", help="JSON file with the window and the expected byte counts")
    a = ap.parse_args()
    exp = None
    if a.expect:
        with open(a.expect) as f:
            exp = json.load(f)
        start, end = int(exp["window_start"], 16), int(exp["window_end"], 16)
    elif a.window:
        s, e = a.window.split("-")
        start, end = int(s, 16), int(e, 16)
    else:
        ap.error("give --window or --expect")
    inside, outside, straddle = count(a.trace, start, end)
    total = inside + outside + straddle
    frac = inside / total if total else 0.0
    print(f"dma_trace: window {start:#x}-{end:#x}: {inside} bytes inside (P2P), "
          f"{outside} outside (host memory), {straddle} straddling; {frac:.1%} of {total} inside")
    if exp is None:
        return 0
    ok = True
    if inside != exp["p2p_bytes"]:
        print(f"dma_trace: FAIL: expected exactly {exp['p2p_bytes']} P2P bytes inside the window", file=sys.stderr)
        ok = False
    if outside < exp["host_bytes"]:
        print(f"dma_trace: FAIL: expected at least {exp['host_bytes']} host bytes outside", file=sys.stderr)
        ok = False
    if straddle:
        print("dma_trace: FAIL: mappings straddle the window edge", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
