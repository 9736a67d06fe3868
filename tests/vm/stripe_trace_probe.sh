#!/usr/bin/env bash
# Inside the VM (twocmb topology, booted with --trace): fills BYTES of src,
# guards the MiB after the range on dst, copies with `cmbcp --stripe`, checks
# the copy with cmp, the guard unchanged and the plan naming both CMBs, and
# writes $CMB_VM_OUT/dma-expect.json for dma_trace.py: every payload byte
# crosses a CMB window twice (src writes it in, dst reads it out), so both
# windows together hold exactly 2 x BYTES, and each about half of that
# (40%..60%: the chunks alternate between the two CMBs).
#
#   stripe_trace_probe.sh CMBCP BYTES [CMBCP OPTIONS...]   (e.g. --path block)
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "stripe_trace_probe.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
cmbcp=$1 bytes=$2
extra=("${@:3}")  # further cmbcp options (--path block)
here=$(cd "$(dirname "$0")" && pwd)
src=$("$here/by-serial" src) dst=$("$here/by-serial" dst)
cmb=$("$here/by-serial" --bdf cmb) cmb2=$("$here/by-serial" --bdf cmb2)
# BAR2 holds QEMU's CMB (CMBLOC.BIR = 2): line 3 of the resource file.
read -r start1 end1 _ <<<"$(sed -n 3p "/sys/bus/pci/devices/$cmb/resource")"
read -r start2 end2 _ <<<"$(sed -n 3p "/sys/bus/pci/devices/$cmb2/resource")"
mib=$((bytes >> 20))
dd if=/dev/urandom of="/dev/${src}n1" bs=1M count="$mib" oflag=direct status=none
# The MiB after the range: random on dst, and on src's too, so a copy one chunk too long shows.
dd if=/dev/urandom of=/tmp/guard bs=1M count=1 status=none
dd if=/tmp/guard of="/dev/${dst}n1" bs=1M seek="$mib" count=1 oflag=direct status=none
dd if=/dev/urandom of="/dev/${src}n1" bs=1M seek="$mib" count=1 oflag=direct status=none
"$cmbcp" "${src}:1" "${dst}:1" --bytes "$bytes" --method p2p --stripe --no-progress -v -o json "${extra[@]}" \
  >"$CMB_VM_OUT/cmbcp.json"
cmp -n "$bytes" "/dev/${src}n1" "/dev/${dst}n1"
for ((i = 0; i + 1 < ${#extra[@]}; i++)); do  # --path P: both ends took P
  [[ ${extra[i]} == --path ]] || continue
  python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["plan"]
assert p["src"]["path"] == p["dst"]["path"] == sys.argv[2], (p["src"]["path"], p["dst"]["path"])' \
    "$CMB_VM_OUT/cmbcp.json" "${extra[i + 1]}"
done
dd if="/dev/${dst}n1" of=/tmp/guard.after bs=1M skip="$mib" count=1 iflag=direct status=none
cmp /tmp/guard /tmp/guard.after
python3 - "$CMB_VM_OUT/cmbcp.json" "$bytes" "$cmb" "$cmb2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
p, want = j["plan"], sorted(sys.argv[3:5])
cmbs = [p["provider"]] + p["stripe"]
assert sorted(cmbs) == want, f"plan's CMBs {cmbs}, expected {want}"
assert len(p["paths"]) == 4, p["paths"]
assert j["copy"]["complete"] and j["copy"]["bytes_done"] == int(sys.argv[2]), j["copy"]
assert j["exit_status"] == 0, j["exit_status"]
print(f"stripe_trace_probe: plan stripes over {'+'.join(cmbs)}, qd {p['qd']}, chunk {p['chunk']}")
PY
total=$((2 * bytes))
printf '{"windows": [{"name": "cmb %s", "start": "%s", "end": "%s", "min_bytes": %d, "max_bytes": %d},
             {"name": "cmb2 %s", "start": "%s", "end": "%s", "min_bytes": %d, "max_bytes": %d}],
 "p2p_bytes": %d, "host_bytes": 0}\n' \
  "$cmb" "$start1" "$end1" $((total * 4 / 10)) $((total * 6 / 10)) \
  "$cmb2" "$start2" "$end2" $((total * 4 / 10)) $((total * 6 / 10)) "$total" >"$CMB_VM_OUT/dma-expect.json"
echo "stripe_trace_probe: $bytes bytes src -> dst copied and equal, the MiB after unchanged; windows $start1-$end1, $start2-$end2"
