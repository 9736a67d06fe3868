#!/usr/bin/env python3
"""Counts, in QEMU's NVMe trace, the commands whose data lies in a CMB window,
by how they describe it: PRPs (and how many) or an SGL (and its first
descriptor's type), with the bytes each kind carried.

QEMU's controller logs `pci_nvme_map_prp trans_len T len L prp1 A prp2 B
num_prps N` or `pci_nvme_map_sgl type X len L` once per command it maps,
then `pci_nvme_map_addr addr A len L` for each piece of the data. A command
counts as a CMB one when all its pieces fall inside the window. SGL types:
0 data block (one inline descriptor), 2 segment, 3 last segment (a list
elsewhere, whose descriptors the controller reads first).

    bench/map_kinds.py TRACE --expect dma-expect.json   (the window of cmbcp_trace_probe.sh)
    bench/map_kinds.py TRACE --window 0xf4000000-0xf7ffffff

Boot with `vm.sh --trace-also 'pci_nvme_map_prp,pci_nvme_map_sgl'`.
"""
import argparse
import collections
import json
import re
import sys

PRP = re.compile(r"pci_nvme_map_prp trans_len (\d+) len (\d+) prp1 (0x[0-9a-f]+) prp2 (0x[0-9a-f]+) num_prps (\d+)")
SGL = re.compile(r"pci_nvme_map_sgl type (0x[0-9a-f]+) len (\d+)")
ADDR = re.compile(r"pci_nvme_map_addr addr (0x[0-9a-f]+) len (\d+)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--window", help="START-END bus addresses (inclusive)")
    ap.add_argument("--expect", help="a cmbcp_trace_probe.sh dma-expect.json, for its window")
    a = ap.parse_args()
    if a.expect:
        e = json.load(open(a.expect))
        start, end = int(e["window_start"], 16), int(e["window_end"], 16)
    elif a.window:
        start, end = (int(x, 16) for x in a.window.split("-"))
    else:
        ap.error("give --window or --expect")
    kinds = collections.Counter()
    nbytes = collections.Counter()
    seen = False
    cur = None  # (kind, pieces inside, pieces outside, bytes)

    def close():
        if cur and cur[1] and not cur[2]:
            kinds[cur[0]] += 1
            nbytes[cur[0]] += cur[3]

    with open(a.trace) as f:
        for line in f:
            if m := PRP.search(line):
                close()
                seen = True
                cur = [f"PRP, {m.group(5)} entries", 0, 0, 0]
            elif m := SGL.search(line):
                close()
                seen = True
                cur = [f"SGL, first descriptor type {int(m.group(1), 16)}", 0, 0, 0]
            elif (m := ADDR.search(line)) and cur:
                addr, n = int(m.group(1), 16), int(m.group(2))
                cur[1 if start <= addr and addr + n - 1 <= end else 2] += 1
                cur[3] += n
    close()
    if not seen:
        sys.exit(f"map_kinds: no pci_nvme_map_prp or pci_nvme_map_sgl line in {a.trace}: "
                 "boot with --trace-also 'pci_nvme_map_prp,pci_nvme_map_sgl'")
    print(f"map_kinds: commands with their data in {start:#x}-{end:#x}:")
    for k, c in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print(f"  {c:6d} x {k}: {nbytes[k]} bytes, {nbytes[k] / c / 1024:.0f} KiB per command")


if __name__ == "__main__":
    main()
