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
# The P2P ceiling, as cmbinfo -v's recipe measures it: fio's buffers in the
# CMB (iomem=mmapshared of p2pmem/allocate). fio_p2p BS QD BYTES JOB... where
# a JOB is read (src -> CMB) or write (CMB -> dst); several run at once.
# Prints each job's bytes/s.
fio_p2p() {
  local bs=$1 qd=$2 n=$3 args=() j; shift 3
  for j in "$@"; do
    case $j in
      read) args+=(--name=read --filename="/dev/ng${src#nvme}n1" --rw=read) ;;
      write) args+=(--name=write --filename="/dev/ng${dst#nvme}n1" --rw=write) ;;
    esac
  done
  # Jobs as processes: fio 3.33 with --thread and two mmapshared jobs aborts
  # ("double free or corruption").
  fio --ioengine=io_uring_cmd --cmd_type=nvme --bs="$bs" --iodepth="$qd" --size="$n" \
    --iomem="mmapshared:/sys/bus/pci/devices/$cmb_bdf/p2pmem/allocate" --output-format=json "${args[@]}" >/tmp/fio.json ||
    { echo "bench: fio failed: $*" >&2; exit 1; }
  python3 -c "import json; d=json.load(open('/tmp/fio.json')); print(*[j['read']['bw_bytes'] + j['write']['bw_bytes'] for j in d['jobs']])"
}

for size in "$@"; do
  n=$(bytes_of "$size")
  echo "bench: === $size ($n bytes)" >&2
  # Fill src with incompressible data (fio's write, also the src write ceiling).
  record "{\"size\":\"$size\",\"method\":\"fio_write_src\",\"bytes_per_s\":$(fio_bw write "/dev/ng${src#nvme}n1" "$n")}"
  record "{\"size\":\"$size\",\"method\":\"fio_read\",\"bytes_per_s\":$(fio_bw read "/dev/ng${src#nvme}n1" "$n")}"
  record "{\"size\":\"$size\",\"method\":\"fio_write\",\"bytes_per_s\":$(fio_bw write "/dev/ng${dst#nvme}n1" "$n")}"
  for bs in 128k 512k; do
    for qd in 1 4 16; do
      r=$(fio_p2p "$bs" "$qd" "$n" read) w=$(fio_p2p "$bs" "$qd" "$n" write)
      read -r br bw <<<"$(fio_p2p "$bs" "$qd" "$n" read write)"
      record "{\"size\":\"$size\",\"method\":\"fio_p2p\",\"bs\":\"$bs\",\"qd\":$qd,\"read\":$r,\"write\":$w,\"both_read\":$br,\"both_write\":$bw,\"bytes_per_s\":$(python3 -c "print(min($br, $bw))")}"
    done
  done
  for m in "p2p:" "qd1:--qd 1" "bounce:--method bounce"; do
    name=${m%%:*} args=${m#*:}
    wipe "$n"
    # shellcheck disable=SC2086
    "$cmbcp" "${src}:1" "${dst}:1" --bytes "$n" $args --no-progress -o json >/tmp/c.json
    check "$name" "$n"
    record "{\"size\":\"$size\",\"method\":\"cmbcp_$name\",\"bytes_per_s\":$(jget /tmp/c.json "d['copy']['bytes_done']/d['copy']['seconds']"),\"peak_rss_bytes\":$(jget /tmp/c.json "d['peak_rss_bytes']"),\"chunk\":$(jget /tmp/c.json "d['plan']['chunk']"),\"qd\":$(jget /tmp/c.json "d['plan']['qd']"),\"cpu_s_per_gib\":$(jget /tmp/c.json "d['copy']['cpu']['per_gib_s']")}"
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
