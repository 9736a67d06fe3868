#!/usr/bin/env bash
# The benchmark's guest half (bench/run.sh boots the VM and runs this): for
# each size, copy src -> dst with every method on the same devices in one
# boot, check each copy with cmbcp --verify-only, and append one JSON line per
# measurement to $CMB_VM_OUT/bench.jsonl.
#
#   bench/inside.sh BUILD_DIR SIZE...     (sizes like 64M 1G)
set -euo pipefail
build=$1; shift
cmbcp=$build/tools/cmbcp
out=$CMB_VM_OUT/bench.jsonl
: >"$out"
ctrl() { "$(dirname "$0")/../tests/vm/by-serial" "$1"; }
src=$(ctrl src) dst=$(ctrl dst)
cmb_bdf=$("$(dirname "$0")/../tests/vm/by-serial" --bdf cmb)
bytes_of() { numfmt --from=iec "$1"; }
record() { echo "$1" >>"$out"; echo "bench: $1" >&2; }
jget() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }

# Zero the dst range first, so a method that copied nothing cannot pass the check.
wipe() { blkdiscard -z -o 0 -l "$1" "/dev/${dst}n1"; }
check() {  # check NAME BYTES
  if ! "$cmbcp" "${src}:1" "${dst}:1" --bytes "$2" --verify-only --no-progress >/tmp/verify.out 2>&1; then
    cat /tmp/verify.out >&2; echo "bench: $1 copied wrong data" >&2; exit 1
  fi
}
fio_bw() {  # fio_bw read|write DEVICE BYTES -> bytes/s
  fio --thread --name=bench --ioengine=io_uring_cmd --cmd_type=nvme --filename="$2" --rw="$1" --bs=512k --iodepth=16 \
    --size="$3" --output-format=json >/tmp/fio.json
  jget /tmp/fio.json "d['jobs'][0]['$1']['bw_bytes']"
}

for size in "$@"; do
  n=$(bytes_of "$size")
  echo "bench: === $size ($n bytes)" >&2
  # Fill src with incompressible data (fio's write, also the src write ceiling).
  record "{\"size\":\"$size\",\"method\":\"fio_write_src\",\"bytes_per_s\":$(fio_bw write "/dev/ng${src#nvme}n1" "$n")}"
  record "{\"size\":\"$size\",\"method\":\"fio_read\",\"bytes_per_s\":$(fio_bw read "/dev/ng${src#nvme}n1" "$n")}"
  record "{\"size\":\"$size\",\"method\":\"fio_write\",\"bytes_per_s\":$(fio_bw write "/dev/ng${dst#nvme}n1" "$n")}"
  for m in "p2p:" "qd1:--qd 1" "bounce:--method bounce"; do
    name=${m%%:*} args=${m#*:}
    wipe "$n"
    # shellcheck disable=SC2086
    "$cmbcp" "${src}:1" "${dst}:1" --bytes "$n" $args --no-progress -o json >/tmp/c.json
    check "$name" "$n"
    record "{\"size\":\"$size\",\"method\":\"cmbcp_$name\",\"bytes_per_s\":$(jget /tmp/c.json "d['copy']['bytes_done']/d['copy']['seconds']"),\"peak_rss_bytes\":$(jget /tmp/c.json "d['peak_rss_bytes']"),\"chunk\":$(jget /tmp/c.json "d['plan']['chunk']"),\"qd\":$(jget /tmp/c.json "d['plan']['qd']")}"
  done
  wipe "$n"
  read -r b s <<<"$("$build/bench/p2pmem_sync" "$cmb_bdf" "/dev/${src}n1" "/dev/${dst}n1" "$n" 512K 4)"
  check p2pmem_sync "$n"
  record "{\"size\":\"$size\",\"method\":\"p2pmem_test_style\",\"bytes_per_s\":$(python3 -c "print($b/$s)")}"
  wipe "$n"
  t0=$(date +%s.%N)
  dd if="/dev/${src}n1" of="/dev/${dst}n1" bs=512K count=$((n / 524288)) iflag=direct oflag=direct status=none
  t1=$(date +%s.%N)
  check dd "$n"
  record "{\"size\":\"$size\",\"method\":\"dd_direct\",\"bytes_per_s\":$(python3 -c "print($n/($t1-$t0))")}"
done
echo "bench: done" >&2
