#!/usr/bin/env bash
# The README's demo: builds cmb, boots the VM testbed's "switch" topology
# (three emulated NVMe controllers behind one PCIe switch, one with a 64 MiB
# CMB, on a real Linux 6.12 kernel with CONFIG_PCI_P2PDMA) and runs cmbinfo
# in it, P2P I/O checked against QEMU's DMA trace, and a 1 MiB P2P copy;
# then the "rc" topology, where the kernel refuses P2P, to show why.
#
#   sudo scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target cmbinfo cmb_vm_tests p2p_copy >/dev/null
tests/vm/kernel/build-kernel.sh >/dev/null

echo "=== switch topology: cmbinfo --topology"
tests/vm/vm.sh --topology switch --out build/demo-switch -- build/tools/cmbinfo --topology
echo
echo "=== switch topology: 2 MiB of P2P reads and writes through the CMB, checked against QEMU's DMA trace"
tests/vm/vm.sh --trace --topology switch --out build/demo-dma -- build/tests/vm/cmb_vm_tests \
  --gtest_filter='*DmaTraceProbe' --gtest_brief=1
tests/vm/dma_trace.py build/demo-dma/trace.log --expect build/demo-dma/dma-expect.json
echo
echo "=== switch topology: examples/p2p_copy.cc copies 1 MiB src -> dst through the CMB, then cmp"
tests/vm/vm.sh --topology switch --out build/demo-copy -- tests/vm/example_test.sh build/examples/p2p_copy
echo
echo "=== rc topology (each device on its own root port): the kernel refuses, cmbinfo says why"
tests/vm/vm.sh --topology rc --out build/demo-rc -- build/tools/cmbinfo
