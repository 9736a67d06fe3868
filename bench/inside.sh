#!/usr/bin/env bash
# The benchmark's guest half (bench/run.sh boots the VM and runs this): for
# each size, copy src -> dst with every method on the same devices in one
# boot, check each copy with cmbcp --verify-only, and append one JSON line per
# measurement to $CMB_VM_OUT/bench.jsonl.
#
#   bench/inside.sh BUILD_DIR P2PMEM_TEST ROUNDS SIZE...     (sizes like 256M 1G)
#
# Per size: fio fills src; fio's P2P ceiling (bs x qd sweep); a 2 MiB copy
# by each of the four methods compared (round -1: what starting one costs);
# then ROUNDS rounds of the four copies compared (cmbcp --path passthrough, cmbcp --path
# block, the real p2pmem-test with 4 threads and 512 KiB chunks, and
# bench/p2pmem_sync, its imitation), each round starting one method later so
# that none always runs first; then once cmbcp --qd 1, cmbcp --method bounce
# and dd. How p2pmem-test is timed and flushed: bench/guest_lib.sh.
set -euo pipefail
build=$1 p2pmem_test=$2 rounds=$3; shift 3
out=$CMB_VM_OUT/bench.jsonl
: >"$out"
uname -r >"$CMB_VM_OUT/kernel"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/guest_lib.sh
. "$here/guest_lib.sh"
[[ -x $p2pmem_test ]] || { echo "bench: no p2pmem-test at $p2pmem_test (bench/build-p2pmem-test.sh builds it)" >&2; exit 1; }
stage cmbcp "$build/tools/cmbcp"
stage imitation "$build/bench/p2pmem_sync"
stage p2pmem_test "$p2pmem_test"
ctrl() { "$here/../tests/vm/by-serial" "$1"; }
src=$(ctrl src) dst=$(ctrl dst)
cmb_bdf=$("$here/../tests/vm/by-serial" --bdf cmb)
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
  ((n % (4 * 524288) == 0)) || { echo "bench: $size is not a multiple of 2 MiB (4 threads x 512 KiB)" >&2; exit 1; }
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
  methods=(passthrough block p2pmem_test p2pmem_sync)
  run() {  # run METHOD SIZE BYTES ROUND
    case $1 in
      passthrough) cmbcp_run "$2" "$3" "$4" cmbcp_passthrough --method p2p --path passthrough ;;
      block) cmbcp_run "$2" "$3" "$4" cmbcp_block --method p2p --path block ;;
      p2pmem_test) p2pmem_test_run "$2" "$3" "$4" ;;
      p2pmem_sync) imitation_run "$2" "$3" "$4" ;;
    esac
  }
  # Round -1: each method copies 2 MiB, so that what starting a process
  # costs can be taken off the CPU and context switches of the full copies.
  for m in "${methods[@]}"; do run "$m" "$size" $((2 << 20)) -1; done
  for round in $(seq "$rounds"); do
    for i in "${!methods[@]}"; do run "${methods[(i + round - 1) % ${#methods[@]}]}" "$size" "$n" "$round"; done
  done
  cmbcp_run "$size" "$n" 0 cmbcp_qd1 --method p2p --qd 1
  cmbcp_run "$size" "$n" 0 cmbcp_bounce --method bounce
  wipe "$n"
  t0=$(date +%s.%N)
  dd if="/dev/${src}n1" of="/dev/${dst}n1" bs=512K count=$((n / 524288)) iflag=direct oflag=direct status=none
  t1=$(date +%s.%N)
  check dd "$n"
  record "{\"size\":\"$size\",\"method\":\"dd_direct\",\"bytes_per_s\":$(python3 -c "print($n/($t1-$t0))")}"
done
echo "bench: done" >&2
