#!/usr/bin/env bash
# Inside the VM (booted with --trace): runs the fio recipe `cmbinfo -v` prints
# for the CMB, as a user would paste it, and writes $CMB_VM_OUT/dma-expect.json
# for dma_trace.py: every byte fio read must be inside the CMB's BAR window.
#
#   fio_trace_probe.sh CMBINFO
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "fio_trace_probe.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
cmbinfo=$1
here=$(cd "$(dirname "$0")" && pwd)
bdf=$("$here/by-serial" --bdf cmb)
read -r start end _ <<<"$(sed -n 3p "/sys/bus/pci/devices/$bdf/resource")"  # BAR2: QEMU's CMB
recipe=$("$cmbinfo" -v | sed -n "s|^  \(fio --name=p2p-read .*/$bdf/p2pmem/allocate\)\$|\1|p")
[[ -n $recipe ]] || { echo "fio_trace_probe.sh: cmbinfo -v prints no fio recipe for $bdf" >&2; exit 1; }
echo "fio_trace_probe: $recipe"
size=$(sed -n 's/.*--size=\([0-9]*\)M.*/\1/p' <<<"$recipe")
# shellcheck disable=SC2086  # the recipe is a command line, split as a shell would
$recipe --output-format=json >/tmp/fio.json
python3 -c 'import json,sys; j=json.load(open("/tmp/fio.json"))["jobs"][0]["read"]; print("fio_trace_probe: read %d bytes at %.1f MB/s" % (j["io_bytes"], j["bw_bytes"] / 1e6)); sys.exit(0 if j["io_bytes"] == int(sys.argv[1]) << 20 else 1)' "$size"
printf '{"window_start": "%s", "window_end": "%s", "p2p_bytes": %d, "host_bytes": 0}\n' \
  "$start" "$end" $((size << 20)) >"$CMB_VM_OUT/dma-expect.json"
