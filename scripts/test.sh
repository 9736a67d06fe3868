#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with -Werror,
# runs every test (unit tests, then the VM testbed tests against a real
# kernel on emulated NVMe), then under ASan+UBSan the unit tests and the VM
# tests of cmbinfo and cmbcp, then a short run of every libFuzzer target.
#
#   sudo scripts/test.sh            # everything
#   scripts/test.sh -L unit         # extra arguments go to ctest (every pass)
#
# Needs root for the package install (first run) and the kernel cache in
# /var/cache/cmb (set CMB_CACHE to move it). The first run builds the test
# kernel (~11 minutes on 2 cores); later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)

echo "== build (Release, -Werror)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMB_WERROR=ON >/dev/null
cmake --build build -j "$jobs"

echo "== kernels (the VM tests boot each; their exact releases)"
# backports: Debian's trixie-backports package, the default of every VM test;
# lts: 6.12 built from linux-source-6.12 (the vm.lts.* tests); stock and
# bookworm: Debian's trixie 6.12 and bookworm 6.1, without P2PDMA.
for k in backports lts stock bookworm; do
  img=$(tests/vm/kernel/build-kernel.sh "--$k")
  echo "kernel $k: $(tests/vm/kernel/release.sh "$img")"
done
echo "qemu: $("$(tests/vm/qemu/fetch-qemu.sh)" --version | head -n1) (bookworm-backports; the VM tests' default)"

echo "== tests"
(cd build && ctest --output-on-failure --no-tests=error -j 1 "$@")

echo "== ASan+UBSan: unit tests, and cmbinfo and cmbcp in the VM testbed"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMB_WERROR=ON -DCMB_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure --no-tests=error -L unit -j "$jobs" "$@")
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure --no-tests=error -j 1 \
   -R '^vm\.(switch\.library|switch\.cmbcp|rc\.cmbcp|stock\.cmbinfo|switch\.hotplug_cmb|fanout\.copier)$' "$@")

echo "== fuzz targets (libFuzzer+ASan+UBSan, corpus then ${CMB_FUZZ_SECONDS:-30}s each; tests/fuzz/README.md)"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMB_WERROR=ON \
  -DCMB_FUZZ=ON -DCMB_VM_TESTS=OFF -DCMB_FUZZ_SECONDS="${CMB_FUZZ_SECONDS:-30}" >/dev/null
cmake --build build-fuzz -j "$jobs"
(cd build-fuzz && TMPDIR=/dev/shm ctest --output-on-failure --no-tests=error -L fuzz -j "$jobs" "$@")
