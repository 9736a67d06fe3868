#!/usr/bin/env bash
# Where a copy's CPU goes: one boot of the switch topology (on the
# performance testbed unless --qemu says otherwise) copies SIZE with cmbcp
# --path passthrough, cmbcp --path block and the real p2pmem-test, each under
# a system-wide perf profile of the guest (cpu-clock), and prints each
# profile's share of samples by process (swapper: both vCPUs idle, waiting
# for the emulated devices) and by symbol. Profiles under TCG: a symbol's
# share is of the guest's CPU time, and the devices' time is the host's.
#
#   bench/profile.sh [--qemu KIND] [--p2pmem-test DIR [--libargconfig DIR]] [SIZE]   (default ram, 1G)
#
# The p2pmem-test sources as for bench/run.sh. Output in build/bench/profile.
set -euo pipefail
cd "$(dirname "$0")/.."
p2pmem_src=${CMB_P2PMEM_TEST_SRC:-} argconfig_src=${CMB_LIBARGCONFIG_SRC:-}
export CMB_QEMU=${CMB_QEMU:-ram}
while [[ ${1:-} == --* ]]; do
  case $1 in
    --qemu) export CMB_QEMU=$2; shift 2 ;;
    --p2pmem-test) p2pmem_src=$2; shift 2 ;;
    --libargconfig) argconfig_src=$2; shift 2 ;;
    *) echo "profile.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
(($# <= 1)) || { echo "profile.sh: one SIZE at most" >&2; exit 2; }
size=${1:-1G}
[[ -n $p2pmem_src ]] || {
  echo "profile.sh: no p2pmem-test sources: give --p2pmem-test DIR or CMB_P2PMEM_TEST_SRC" \
    "(git clone --recursive https://github.com/sbates130272/p2pmem-test)" >&2
  exit 2
}
command -v perf >/dev/null || { echo "profile.sh: perf is missing (Debian: linux-perf); the guest runs the host's" >&2; exit 2; }
scripts/deps.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target cmbcp >/dev/null
p2pmem_test=$(bench/build-p2pmem-test.sh "$p2pmem_src" ${argconfig_src:+"$argconfig_src"})
# Resolved: vm.sh mounts it in the guest by this name, where a symlinked build/ would not resolve.
out=$(realpath -m build/bench/profile)
tests/vm/vm.sh --topology switch --disk-mb 2048 --mem 2G --timeout 3000 --out "$out" -- \
  bench/profile_inside.sh "$(realpath build)" "$p2pmem_test" "$size"
cat "$out/profile.jsonl" "$out"/profile-*.txt
