#!/usr/bin/env bash
# Benchmark: cmbcp on each data path (--path passthrough, --path block)
# against the real p2pmem-test, its imitation (bench/p2pmem_sync), the device
# ceiling (fio), a QD1 copy (SPDK cmb_copy's pattern), a bounce through host
# memory and dd, all on the same emulated devices in one boot of the VM
# testbed's switch topology; then cmbcp's DMA trace. Prints ratios measured
# in this run (a noisy machine: compare within a run, not across), and draws
# MB/s by method and queue depth per size (bench/chart.py, gnuplot) into
# build/bench/chart.png.
#
#   bench/run.sh [--qemu KIND] [--rounds N] [--p2pmem-test DIR [--libargconfig DIR]] [SIZE...]
#
# SIZE: default 256M 1G, multiples of 2 MiB. KIND as vm.sh --qemu (ram: the
# performance testbed). --rounds N (default 3): rounds of the four compared
# copies per size; ratios are taken within a round, and the median is printed.
# --p2pmem-test DIR (env CMB_P2PMEM_TEST_SRC) and --libargconfig DIR (env
# CMB_LIBARGCONFIG_SRC): p2pmem-test's sources, as bench/build-p2pmem-test.sh
# takes them (`git clone --recursive https://github.com/sbates130272/p2pmem-test`
# gives both in one DIR). Nothing of p2pmem-test is kept in this repository.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 p2pmem_src=${CMB_P2PMEM_TEST_SRC:-} argconfig_src=${CMB_LIBARGCONFIG_SRC:-}
while [[ ${1:-} == --* ]]; do
  case $1 in
    --qemu) export CMB_QEMU=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --p2pmem-test) p2pmem_src=$2; shift 2 ;;
    --libargconfig) argconfig_src=$2; shift 2 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --rounds wants a positive number, not '$rounds'" >&2; exit 2; }
[[ -n $p2pmem_src ]] || {
  echo "run.sh: no p2pmem-test sources: give --p2pmem-test DIR or CMB_P2PMEM_TEST_SRC" \
    "(git clone --recursive https://github.com/sbates130272/p2pmem-test)" >&2
  exit 2
}
sizes=("$@"); ((${#sizes[@]})) || sizes=(256M 1G)
scripts/deps.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target cmbcp cmbinfo p2pmem_sync >/dev/null
p2pmem_test=$(bench/build-p2pmem-test.sh "$p2pmem_src" ${argconfig_src:+"$argconfig_src"})
# Resolved: vm.sh mounts it in the guest by this name, where a symlinked build/ would not resolve.
out=$(realpath -m build/bench)
# Disks hold the largest size plus room (p2pmem-test's total must stay below
# the device size); the guest keeps 2 GiB whatever the size.
disk_mb=2048
for s in "${sizes[@]}"; do
  mb=$(($(numfmt --from=iec "$s") / 1048576 + 512))
  ((mb > disk_mb)) && disk_mb=$mb
done
tests/vm/vm.sh --topology switch --disk-mb "$disk_mb" --mem 2G --timeout 5400 --out "$out/run" -- \
  bench/inside.sh "$(realpath build)" "$p2pmem_test" "$rounds" "${sizes[@]}"
tests/vm/vm.sh --trace --topology switch --out "$out/trace" -- \
  tests/vm/cmbcp_trace_probe.sh "$(realpath build)/tools/cmbcp" 67108864
trace=$(tests/vm/dma_trace.py "$out/trace/trace.log" --expect "$out/trace/dma-expect.json")
echo "$trace"
echo "guest kernel: $(cat "$out/run/kernel")"
bench/report.py "$out/run/bench.jsonl" "$trace"
chart=$out/chart.png
rm -f "$chart"
bench/chart.py "$out/run/bench.jsonl" "$chart" | gnuplot
[[ -s $chart ]] || { echo "run.sh: gnuplot drew no $chart" >&2; exit 1; }
echo "chart: $chart"
