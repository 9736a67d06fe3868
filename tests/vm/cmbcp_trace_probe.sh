#!/usr/bin/env bash
# Inside the VM (switch topology, booted with --trace): fills BYTES of src,
# copies them to dst with cmbcp, checks them with cmp, and writes
# $CMB_VM_OUT/dma-expect.json for dma_trace.py: every payload byte must cross
# the CMB's BAR window twice (src writes it in, dst reads it out), and those
# must be the only DMA bytes inside the window.
#
#   cmbcp_trace_probe.sh CMBCP BYTES
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "cmbcp_trace_probe.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
cmbcp=$1 bytes=$2
here=$(cd "$(dirname "$0")" && pwd)
ctrl() { "$here/by-serial" "$1"; }
src=$(ctrl src) dst=$(ctrl dst)
bdf=$("$here/by-serial" --bdf cmb)
# BAR2 holds QEMU's CMB (CMBLOC.BIR = 2): line 3 of the resource file.
read -r start end _ <<<"$(sed -n 3p "/sys/bus/pci/devices/$bdf/resource")"
dd if=/dev/urandom of="/dev/${src}n1" bs=1M count=$((bytes >> 20)) oflag=direct status=none
"$cmbcp" "${src}:1" "${dst}:1" --bytes "$bytes" --no-progress -v
cmp -n "$bytes" "/dev/${src}n1" "/dev/${dst}n1"
printf '{"window_start": "%s", "window_end": "%s", "p2p_bytes": %d, "host_bytes": 0}\n' \
  "$start" "$end" $((2 * bytes)) >"$CMB_VM_OUT/dma-expect.json"
echo "cmbcp_trace_probe: $bytes bytes copied and equal; window $start-$end"
