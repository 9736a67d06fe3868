#!/usr/bin/env bash
# The README's demo: builds cmb, boots the VM testbed's "switch" topology
# (three emulated NVMe controllers behind one PCIe switch, one with a 64 MiB
# CMB, on Debian's own trixie-backports kernel package, unmodified, which has
# CONFIG_PCI_P2PDMA) and runs cmbinfo
# in it, P2P I/O checked against QEMU's DMA trace, a 1 MiB P2P copy by the
# example program, and cmbcp copying 64 MiB through the CMB (every byte
# checked in QEMU's DMA trace), and a copy onto the CMB's own controller
# (what that kernel makes it take, and why); then the "rc" topology, where the
# kernel refuses P2P, to show why (cmbinfo, and cmbcp's refusal).
#
#   sudo scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target cmbinfo cmbcp cmb_vm_tests p2p_copy >/dev/null
tests/vm/kernel/build-kernel.sh --backports >/dev/null

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
echo "=== switch topology: cmbcp copies 64 MiB src -> dst through the CMB; cmp; QEMU's DMA trace"
tests/vm/vm.sh --trace --topology switch --out build/demo-cmbcp -- tests/vm/cmbcp_trace_probe.sh \
  "$PWD/build/tools/cmbcp" 67108864
tests/vm/dma_trace.py build/demo-cmbcp/trace.log --expect build/demo-cmbcp/dma-expect.json
echo
echo "=== switch topology: cmbcp copies 8 MiB src -> the CMB's own controller (the destination owns the CMB)"
tests/vm/vm.sh --topology switch --out build/demo-own -- sh -c \
  "s=\$(tests/vm/by-serial src):1 d=\$(tests/vm/by-serial cmb):1; echo \"\$ cmbcp \$s \$d --bytes 8M --verify -v\"; build/tools/cmbcp \$s \$d --bytes 8M --verify -v"
echo
echo "=== rc topology (each device on its own root port): the kernel refuses, cmbinfo and cmbcp say why"
tests/vm/vm.sh --topology rc --out build/demo-rc -- sh -c \
  "build/tools/cmbinfo; echo; s=\$(tests/vm/by-serial src):1 d=\$(tests/vm/by-serial dst):1; echo \"\$ cmbcp \$s \$d --bytes 1M\"; build/tools/cmbcp \$s \$d --bytes 1M; rc=\$?; echo \"cmbcp exit status \$rc (4: refused before writing)\"; [ \$rc -eq 4 ]"
