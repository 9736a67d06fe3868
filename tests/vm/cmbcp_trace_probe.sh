#!/usr/bin/env bash
# Inside the VM (switch topology, booted with --trace): fills BYTES of SRC,
# copies them to DST with cmbcp, checks them with cmp, and writes
# $CMB_VM_OUT/dma-expect.json for dma_trace.py: every payload byte must cross
# the CMB's BAR window twice (SRC writes it in, DST reads it out), and those,
# plus the commands cmbcp's plan ran to prove an end's own CMB (a read, and
# for a destination the write-back of the same bytes), must be the
# only DMA bytes inside the window.
#
#   cmbcp_trace_probe.sh CMBCP BYTES [SRC DST [CMBCP OPTIONS...]]   # serials; default src dst
#
# With `--path P` among the options, every end of the plan must have taken P.
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "cmbcp_trace_probe.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
cmbcp=$1 bytes=$2
extra=("${@:5}")
here=$(cd "$(dirname "$0")" && pwd)
ctrl() { "$here/by-serial" "$1"; }
src=$(ctrl "${3:-src}") dst=$(ctrl "${4:-dst}")
bdf=$("$here/by-serial" --bdf cmb)
# BAR2 holds QEMU's CMB (CMBLOC.BIR = 2): line 3 of the resource file.
read -r start end _ <<<"$(sed -n 3p "/sys/bus/pci/devices/$bdf/resource")"
dd if=/dev/urandom of="/dev/${src}n1" bs=1M count=$((bytes >> 20)) oflag=direct status=none
"$cmbcp" "${src}:1" "${dst}:1" --bytes "$bytes" --no-progress -v -o json "${extra[@]}" >"$CMB_VM_OUT/cmbcp.json"
for ((i = 0; i + 1 < ${#extra[@]}; i++)); do
  [[ ${extra[i]} == --path ]] || continue
  python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["plan"]; ends=[p["src"], p["dst"]] + p["fanout"]
assert all(e["path"] == sys.argv[2] for e in ends), [e["path"] for e in ends]' "$CMB_VM_OUT/cmbcp.json" "${extra[i + 1]}"
done
cmp -n "$bytes" "/dev/${src}n1" "/dev/${dst}n1"
probed=$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["plan"]["own_cmb"]; print(sum(p["bytes"] * (2 if p["wrote_back"] else 1) for p in o["probes"]) if o else 0)' "$CMB_VM_OUT/cmbcp.json")
chunk=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["plan"]["chunk"])' "$CMB_VM_OUT/cmbcp.json")
printf '{"window_start": "%s", "window_end": "%s", "p2p_bytes": %d, "host_bytes": 0}\n' \
  "$start" "$end" $((2 * bytes + probed)) >"$CMB_VM_OUT/dma-expect.json"
echo "cmbcp_trace_probe: $bytes bytes ${3:-src} -> ${4:-dst} copied and equal in $chunk-byte commands${extra[*]:+ (${extra[*]})}; proof moved $probed bytes; window $start-$end"
