#!/usr/bin/env bash
# Inside the VM (switch topology): another process holds most, then all, of
# the CMB (it maps p2pmem/allocate, as any user of the CMB would).
#  - most held: cmbcp plans a smaller ring (queue depth cut to what is free),
#    says so, and the copy is exact;
#  - all held: cmbcp refuses before writing (exit 4) with the bytes free, and
#    the destination is unchanged.
#
#   exhaustion_test.sh CMBCP
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "exhaustion_test.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
cmbcp=$1
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "exhaustion_test: FAIL: $*" >&2; exit 1; }
ctrl() { "$here/by-serial" "$1"; }
src=$(ctrl src) dst=$(ctrl dst)
bdf=$("$here/by-serial" --bdf cmb)
pool=/sys/bus/pci/devices/$bdf/p2pmem
holder=""
hold() {  # hold BYTES: a separate process maps BYTES of the CMB until killed
  rm -f /tmp/held
  python3 - "$pool/allocate" "$1" <<'PY' &
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, int(sys.argv[2]), mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
open("/tmp/held", "w").write("1")
time.sleep(3600)
PY
  holder=$!
  for ((i = 0; i < 100; i++)); do [[ -e /tmp/held ]] && return 0; sleep 0.1; done
  fail "the holder could not map $1 bytes of $pool/allocate"
}
release() {  # the holder sleeps until SIGTERM: it must die of that (status 143), nothing else
  local rc=0
  kill "$holder"
  wait "$holder" 2>/dev/null || rc=$?
  ((rc == 143)) || fail "the holder exited $rc, not by SIGTERM"
  holder=""
}
trap '[[ -z $holder ]] || kill "$holder"' EXIT

size=$(cat "$pool/size") avail=$(cat "$pool/available")
echo "exhaustion_test: $bdf p2pmem size $size, available $avail"
dd if=/dev/urandom of="/dev/${src}n1" bs=1M count=64 oflag=direct status=none

# Most of it held: leave 3 MiB.
hold $((avail - (3 << 20)))
left=$(cat "$pool/available")
echo "exhaustion_test: another process holds $((avail - (3 << 20))) bytes; available now $left"
((left <= 3 << 20)) || fail "available is $left after the holder mapped its share"
rc=0; "$cmbcp" "${src}:1" "${dst}:1" --bytes 64M -o json >/tmp/ex.json 2>/tmp/ex.err || rc=$?
((rc == 0)) || fail "cmbcp with $left bytes free exited $rc: $(cat /tmp/ex.err)"
read -r qd chunk ring reason <<<"$(python3 -c '
import json; p = json.load(open("/tmp/ex.json"))["plan"]
r = [x for x in p["reasons"] if "queue depth" in x or "chunk shrunk" in x]
print(p["qd"], p["chunk"], p["ring_bytes"], (r[0] if r else "none").replace(" ", "_"))')"
echo "exhaustion_test: plan qd $qd x chunk $chunk = ring $ring bytes; reason: ${reason//_/ }"
((ring <= left)) || fail "the ring ($ring bytes) exceeds the $left bytes free"
[[ $reason != none ]] || fail "the plan does not say why the ring is small"
cmp -n $((64 << 20)) "/dev/${src}n1" "/dev/${dst}n1" || fail "the copy with a small ring differs"
release

# All of it held.
dd if=/dev/urandom of=/tmp/dst-before bs=1M count=4 status=none
dd if=/tmp/dst-before of="/dev/${dst}n1" bs=1M oflag=direct status=none
avail=$(cat "$pool/available")
hold "$avail"
left=$(cat "$pool/available")
echo "exhaustion_test: another process holds all $avail bytes; available now $left"
rc=0; "$cmbcp" "${src}:1" "${dst}:1" --bytes 4M 2>/tmp/ex.err || rc=$?
cat /tmp/ex.err
((rc == 4)) || fail "cmbcp with the CMB full exited $rc, not 4"
grep -q "the CMB of $bdf has $left bytes free, less than one" /tmp/ex.err || fail "the message does not give the bytes free"
# The way the message gives to find the holders finds it.
grep -l p2pmem/allocate /proc/[0-9]*/maps | grep -qx "/proc/$holder/maps" ||
  fail "grep -l p2pmem/allocate /proc/[0-9]*/maps does not list the holder (pid $holder)"
echo 3 >/proc/sys/vm/drop_caches
cmp -n $((4 << 20)) /tmp/dst-before "/dev/${dst}n1" || fail "the refused copy changed the destination"
release
[[ $(cat "$pool/available") == "$avail" ]] || fail "available did not come back to $avail after the holder exited"
echo "exhaustion_test: OK"
