#!/usr/bin/env bash
# Inside the VM (switch topology booted with vm.sh --hotplug): removes one
# device while cmbcp copies 384 MiB through the CMB, and checks the promises:
#  - cmbcp ends within a bound (no hang) and exits non-zero (1: I/O error);
#  - its report (JSON) gives a prefix of the destination range, and says
#    whether the flush made it durable;
#  - the destination holds exactly the source data in that prefix, and the
#    4 KiB on either side of the requested range are unchanged (when the
#    destination still exists to be read);
#  - the removed device is really gone (the kernel's pciehp removed it);
#  - the kernel stays healthy, also after a spell of unrelated work.
# cmbcp runs rate-limited, so the copy is still running when pciehp takes the
# device away (5 s after the attention button), however fast the machine.
#
#   hotplug_test.sh cmb|src|dst CMBCP
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "hotplug_test.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
victim=$1 cmbcp=$2
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "hotplug_test($victim): FAIL: $*" >&2; exit 1; }
# shellcheck source=guest_health.sh
source "$here/guest_health.sh"
ctrl() { "$here/by-serial" "$1"; }
src=$(ctrl src) dst=$(ctrl dst)
prov_bdf=$("$here/by-serial" --bdf cmb)
victim_ctrl=$(ctrl "$victim")
# 256 MiB at 2 MiB/s: 128 s at least, so the removal (5 s after the button,
# plus the QMP relay and whatever lag a loaded host adds) lands mid-copy. At
# 8 MiB/s (32 s) a loaded machine once saw the copy finish first.
mib=256 rate=2M dst_lba=8 bound=90
total=$((mib << 20))

# Source: a 16 MiB random pattern, repeated. Destination: random sentinels in
# the 4 KiB before (LBAs 0..7) and after the requested range.
head -c 16M /dev/urandom >/tmp/pattern
for ((i = 0; i < mib / 16; i++)); do
  dd if=/tmp/pattern of="/dev/${src}n1" bs=1M seek=$((i * 16)) oflag=direct status=none
done
head -c 4096 /dev/urandom >/tmp/before
head -c 4096 /dev/urandom >/tmp/after
dd if=/tmp/before of="/dev/${dst}n1" bs=4096 seek=0 oflag=direct status=none
dd if=/tmp/after of="/dev/${dst}n1" bs=512 seek=$((dst_lba + total / 512)) oflag=direct status=none

"$cmbcp" "${src}:1" "${dst}:1" --dst-lba "$dst_lba" --bytes "${mib}M" --via "$prov_bdf" --rate "$rate" -o json --progress \
  >/tmp/cmbcp.json 2>/tmp/cmbcp.err &
pid=$!
# Remove the device once data is moving (the first progress line), not
# before: startup takes seconds under ASan and TCG.
for ((i = 0; i < 120; i++)); do
  grep -q ' copied, ' /tmp/cmbcp.err && break
  kill -0 "$pid" 2>/dev/null || fail "cmbcp ended before the removal: $(cat /tmp/cmbcp.err)"
  sleep 0.5
done
grep -q ' copied, ' /tmp/cmbcp.err || fail "cmbcp showed no progress within 60 s: $(cat /tmp/cmbcp.err)"
kill -0 "$pid" 2>/dev/null || fail "cmbcp ended before the removal: $(cat /tmp/cmbcp.err)"
t0=$(date +%s)
"$here/qmp" "c_$victim" >/dev/null || fail "QEMU did not accept device_del c_$victim: $(cat "$CMB_VM_OUT/qmp-reply")"
echo "hotplug_test($victim): device_del c_$victim ($victim_ctrl) while cmbcp runs"
while kill -0 "$pid" 2>/dev/null; do
  if (($(date +%s) - t0 > bound)); then
    kill -9 "$pid"
    fail "cmbcp still running ${bound}s after device_del: a hang"
  fi
  sleep 0.5
done
rc=0; wait "$pid" || rc=$?
took=$(($(date +%s) - t0))
sed '/ copied, /d' /tmp/cmbcp.err >&2
echo "hotplug_test($victim): cmbcp exited $rc, ${took}s after device_del"
((rc == 1)) || fail "cmbcp exited $rc; expected 1 (I/O error after the copy started); its report: $(head -c 600 /tmp/cmbcp.json)"

# The device is gone from the guest (pciehp removes it ~5 s after the button).
for ((i = 0; i < 30; i++)); do [[ -e /sys/class/nvme/$victim_ctrl ]] || break; sleep 1; done
[[ ! -e /sys/class/nvme/$victim_ctrl ]] || fail "$victim_ctrl is still present 30 s after cmbcp ended"

# The kernel took the removal in its stride: no oops, warning or hung task,
# right away and after a spell of work that reuses freed memory.
check_kernel_log "hotplug_test($victim) after the removal"
exercise_guest
check_kernel_log "hotplug_test($victim) after exercising the guest"

read -r prefix flushed err <<<"$(python3 -c '
import json, sys
c = json.load(open("/tmp/cmbcp.json"))["copy"]
print(c["bytes_done"], str(c["flushed"]).lower(), json.dumps(c["error"]).replace(" ", "_"))')"
echo "hotplug_test($victim): report: bytes_done $prefix, flushed $flushed, error $err"
((prefix % 512 == 0 && prefix < total)) || fail "bytes_done $prefix is not a proper prefix of $total"
[[ $err != null ]] || fail "the report names no error"
grep -q "cmbcp: failed: ${dst}n1 LBAs\|cmbcp: failed: no LBA" /tmp/cmbcp.err || fail "no 'failed: ... LBAs' line on stderr"

if [[ $victim == dst ]]; then
  [[ $flushed == false ]] || fail "the destination is gone, yet the report says flushed"
  grep -q "NOT flushed\|no LBA of" /tmp/cmbcp.err || fail "stderr claims a flushed prefix on a removed destination"
  grep -q "copy again from the start" /tmp/cmbcp.err || fail "stderr does not say nothing is known durable"
  echo "hotplug_test($victim): OK (destination gone; prefix reported, not claimed durable)"
  exit 0
fi
[[ $flushed == true ]] || fail "the destination is still there but the flush failed"
echo 3 >/proc/sys/vm/drop_caches
python3 - "/dev/${dst}n1" "$dst_lba" "$prefix" "$total" <<'PY'
import sys
dev, lba, done, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
pattern = open("/tmp/pattern", "rb").read()
with open(dev, "rb") as d:
    d.seek(0)
    assert d.read(4096) == open("/tmp/before", "rb").read(), "the 4 KiB before the range changed"
    d.seek(lba * 512 + total)
    assert d.read(4096) == open("/tmp/after", "rb").read(), "the 4 KiB after the range changed"
    d.seek(lba * 512)
    off = 0
    while off < done:
        n = min(len(pattern), done - off)
        got = d.read(n)
        if got != pattern[:n]:
            bad = next(i for i in range(n) if got[i] != pattern[i])
            sys.exit(f"hotplug_test: dst byte {off + bad} of the reported prefix differs from the source")
        off += n
print(f"hotplug_test: the {done}-byte prefix matches the source; both sentinels unchanged")
PY
echo "hotplug_test($victim): OK"
