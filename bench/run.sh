#!/usr/bin/env bash
# Benchmark: cmbcp against the device ceiling (fio io_uring_cmd), a QD1
# copy (SPDK cmb_copy's pattern), p2pmem-test's synchronous threads, a bounce
# through host memory and dd, all on the same emulated devices in one boot of
# the VM testbed's switch topology; then cmbcp's DMA trace. Prints ratios
# measured in this run (a noisy machine: compare within a run, not across),
# and draws MB/s by method and queue depth per size (bench/chart.py, gnuplot)
# into build/bench/chart.png.
#
#   bench/run.sh [--qemu KIND] [SIZE...]      (default: 64M 1G; KIND as vm.sh --qemu)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == --qemu ]]; then export CMB_QEMU=$2; shift 2; fi
sizes=("$@"); ((${#sizes[@]})) || sizes=(64M 1G)
scripts/deps.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target cmbcp cmbinfo p2pmem_sync >/dev/null
out=build/bench
# Disks hold the largest size plus room; the guest keeps 2 GiB whatever the size.
disk_mb=2048
for s in "${sizes[@]}"; do
  mb=$(($(numfmt --from=iec "$s") / 1048576 + 512))
  ((mb > disk_mb)) && disk_mb=$mb
done
tests/vm/vm.sh --topology switch --disk-mb "$disk_mb" --mem 2G --timeout 5400 --out "$out/run" -- \
  bench/inside.sh "$PWD/build" "${sizes[@]}"
tests/vm/vm.sh --trace --topology switch --out "$out/trace" -- \
  tests/vm/cmbcp_trace_probe.sh "$PWD/build/tools/cmbcp" 67108864
trace=$(tests/vm/dma_trace.py "$out/trace/trace.log" --expect "$out/trace/dma-expect.json")
echo "$trace"
python3 - "$out/run/bench.jsonl" "$trace" <<'PY'
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows: by.setdefault(r["size"], {})[r["method"]] = r
print()
print(f"{'size':>5} {'method':<18} {'MB/s':>8}  notes")
fio = {}
for r in rows:
    if r["method"] == "fio_p2p": fio.setdefault(r["size"], []).append(r)
    else: by.setdefault(r["size"], {})[r["method"]] = r
for size, m in by.items():
    for name, r in m.items():
        note = ""
        if "peak_rss_bytes" in r:
            note = (f"peak RSS {r['peak_rss_bytes']/2**20:.1f} MiB, chunk {r['chunk']>>10} KiB, qd {r['qd']}, "
                    f"CPU {r['cpu_s_per_gib']:.2f} s/GiB")
        print(f"{size:>5} {name:<18} {r['bytes_per_s']/1e6:8.1f}  {note}")
    print(f"{size:>5} fio P2P (MB/s)        bs    qd   read  write  both: read  write")
    for r in fio.get(size, []):
        print(f"{'':>24}{r['bs']:>6} {r['qd']:>4} {r['read']/1e6:6.1f} {r['write']/1e6:6.1f}"
              f"        {r['both_read']/1e6:6.1f} {r['both_write']/1e6:6.1f}")
print()
for size, m in by.items():
    p2p = m["cmbcp_p2p"]["bytes_per_s"]
    best = max(fio[size], key=lambda r: r["bytes_per_s"])
    print(f"{size}: cmbcp p2p / fio P2P copy ceiling      = {p2p/best['bytes_per_s']:.2f}   (target >= 0.90; "
          f"ceiling: a read and a write job at once through the CMB, best of bs/qd: {best['bs']} qd {best['qd']})")
    print(f"{size}: cmbcp p2p / QD1 copy (cmb_copy style)  = {p2p/m['cmbcp_qd1']['bytes_per_s']:.2f}   (target >= 2)")
    print(f"{size}: cmbcp p2p / p2pmem-test style          = {p2p/m['p2pmem_test_style']['bytes_per_s']:.2f}   (target >= 2)")
    print(f"{size}: cmbcp p2p / bounce via host memory     = {p2p/m['cmbcp_bounce']['bytes_per_s']:.2f}   (target >= 0.9)")
    print(f"{size}: cmbcp p2p / dd iflag=direct oflag=direct = {p2p/m['dd_direct']['bytes_per_s']:.2f}")
    print(f"{size}: CPU s/GiB p2p / bounce                 = {m['cmbcp_p2p']['cpu_s_per_gib']/m['cmbcp_bounce']['cpu_s_per_gib']:.2f}   (target <= 1)")
    print(f"{size}: cmbcp peak RSS = {m['cmbcp_p2p']['peak_rss_bytes']/2**20:.1f} MiB   (target < 16 MiB)")
rss = [m["cmbcp_p2p"]["peak_rss_bytes"] for m in by.values()]
print(f"cmbcp peak RSS over {', '.join(by)}: {min(rss)/2**20:.1f} .. {max(rss)/2**20:.1f} MiB, "
      f"max/min = {max(rss)/min(rss):.2f}   (target: flat, < 16 MiB)")
t = re.search(r"(\d+) bytes inside", sys.argv[2])
print(f"DMA trace (64 MiB copy): {int(t.group(1))} bytes inside the CMB window = "
      f"{int(t.group(1))/(2*67108864):.0%} of 2 x payload   (target 100 %)")
PY
chart=$out/chart.png
rm -f "$chart"
bench/chart.py "$out/run/bench.jsonl" "$chart" | gnuplot
[[ -s $chart ]] || { echo "run.sh: gnuplot drew no $chart" >&2; exit 1; }
echo "chart: $chart"
