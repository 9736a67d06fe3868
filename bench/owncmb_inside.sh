#!/usr/bin/env bash
# The guest half of bench/owncmb.sh: in the switch topology, copies src ->
# the cmb controller's namespace through that controller's own CMB, ROUNDS
# rounds of three methods (cmbcp at its defaults, cmbcp --path passthrough,
# the real p2pmem-test with 4 threads and 512 KiB chunks), each round starting
# one method later; every copy checked with cmbcp --verify-only after the
# destination range was zeroed. One JSON line per copy in $CMB_VM_OUT/owncmb.jsonl.
#
#   bench/owncmb_inside.sh BUILD_DIR P2PMEM_TEST ROUNDS SIZE [CONFIG...]
# Each CONFIG (cmbcp options) is one more method: cmbcp at its defaults plus
# CONFIG, named "cmbcp CONFIG".
set -euo pipefail
build=$1 p2pmem_test=$2 rounds=$3 size=$4
configs=("${@:5}")
out=$CMB_VM_OUT/owncmb.jsonl
: >"$out"
uname -r >"$CMB_VM_OUT/kernel"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/guest_lib.sh
. "$here/guest_lib.sh"
[[ -x $p2pmem_test ]] || { echo "owncmb: no p2pmem-test at $p2pmem_test (bench/build-p2pmem-test.sh builds it)" >&2; exit 1; }
stage cmbcp "$build/tools/cmbcp"
stage p2pmem_test "$p2pmem_test"
src=$("$here/../tests/vm/by-serial" src) dst=$("$here/../tests/vm/by-serial" cmb)
cmb_bdf=$("$here/../tests/vm/by-serial" --bdf cmb)
n=$(bytes_of "$size")
((n % (4 * 524288) == 0)) || { echo "owncmb: $size is not a multiple of 2 MiB (4 threads x 512 KiB)" >&2; exit 1; }
fio --name=fill --ioengine=io_uring_cmd --cmd_type=nvme --filename="/dev/ng${src#nvme}n1" --rw=write --bs=512k \
  --iodepth=16 --size="$n" --output-format=terse >/dev/null
methods=(default passthrough p2pmem_test)
for i in "${!configs[@]}"; do methods+=("config$i"); done
for round in $(seq "$rounds"); do
  for i in "${!methods[@]}"; do
    m=${methods[(i + round - 1) % ${#methods[@]}]}
    case $m in
      default) cmbcp_run "$size" "$n" "$round" cmbcp_default --method p2p ;;
      passthrough) cmbcp_run "$size" "$n" "$round" cmbcp_passthrough --method p2p --path passthrough ;;
      p2pmem_test) p2pmem_test_run "$size" "$n" "$round" ;;
      config*)
        read -ra opts <<<"${configs[${m#config}]}"
        cmbcp_run "$size" "$n" "$round" "cmbcp ${configs[${m#config}]}" --method p2p "${opts[@]}" ;;
    esac
  done
done
echo "owncmb: done" >&2
