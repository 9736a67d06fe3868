#!/bin/sh
# Runs inside the VM testbed's fanout topology: the C example
# (examples/c/copy.c, over cmb/cmb.h) copies src's first 16 MiB to dst and
# dst2 through the CMB; both must then hold src's bytes, and LBAs 32768.. of
# each destination (past the copy) must be unchanged.
#   c_example_test.sh PATH_TO_copy_c
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ctrl() { "$here/by-serial" "$1"; }
src=$(ctrl src) dst=$(ctrl dst) dst2=$(ctrl dst2)
fail() { echo "c_example_test: FAIL: $*" >&2; exit 1; }
dd if=/dev/urandom of="/dev/${src}n1" bs=1M count=17 oflag=direct status=none
for d in "$dst" "$dst2"; do
  dd if=/dev/urandom of="/dev/${d}n1" bs=1M count=17 oflag=direct status=none
  dd if="/dev/${d}n1" of="/tmp/$d.after" bs=1M skip=16 count=1 iflag=direct status=none
done
out=$("$1" 32768 "${src}:1" "${dst}:1" "${dst2}:1") || fail "copy_c exited $?: $out"
echo "$out"
echo "$out" | grep -q "^plan: p2p through " || fail "not a P2P plan: $out"
for d in "$dst" "$dst2"; do
  echo "$out" | grep -q "^${d}n1: 16777216 bytes$" || fail "no full prefix reported for ${d}n1"
  cmp -n 16777216 "/dev/${src}n1" "/dev/${d}n1" || fail "${d}n1 differs from ${src}n1"
  dd if="/dev/${d}n1" of="/tmp/$d.now" bs=1M skip=16 count=1 iflag=direct status=none
  cmp "/tmp/$d.after" "/tmp/$d.now" || fail "${d}n1 changed past the copy"
done
echo "c_example_test: both destinations hold the source's 16 MiB, and nothing past it changed"
