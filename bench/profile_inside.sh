#!/usr/bin/env bash
# The guest half of bench/profile.sh: copies SIZE src -> dst through the cmb
# controller's CMB with cmbcp --path passthrough, cmbcp --path block and the
# real p2pmem-test (4 threads x 512 KiB), each under a system-wide perf
# profile (cpu-clock, both vCPUs), each checked; writes per copy, in
# $CMB_VM_OUT: profile-NAME.txt (the share of samples by process, by kernel
# and user symbol), and profile.jsonl (MB/s, copy.cpu).
#
#   bench/profile_inside.sh BUILD_DIR P2PMEM_TEST SIZE
#
# The programs run from copies in the guest's tmpfs (guest_lib.sh, staged),
# since loading them over 9p would swamp a profile of the copy.
set -euo pipefail
build=$1 p2pmem_test=$2 size=$3
out=$CMB_VM_OUT/profile.jsonl
: >"$out"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/guest_lib.sh
. "$here/guest_lib.sh"
src=$("$here/../tests/vm/by-serial" src) dst=$("$here/../tests/vm/by-serial" dst)
cmb_bdf=$("$here/../tests/vm/by-serial" --bdf cmb)
command -v perf >/dev/null || { echo "profile: perf is missing (Debian: linux-perf)" >&2; exit 1; }
stage cmbcp "$build/tools/cmbcp"
stage p2pmem_test "$p2pmem_test"
n=$(bytes_of "$size")
fio --name=fill --ioengine=io_uring_cmd --cmd_type=nvme --filename="/dev/ng${src#nvme}n1" --rw=write --bs=512k \
  --iodepth=16 --size="$n" --output-format=terse >/dev/null
profile() {  # profile NAME CMD...: CMD under perf; the reports into profile-NAME.txt
  local name=$1; shift
  wipe "$n"
  perf record -q -F 499 -e cpu-clock -a -o /tmp/perf.data -- "$@" >/tmp/profile.out
  check "$name" "$n"
  {
    echo "== $name: $*"
    perf report -i /tmp/perf.data --stdio --sort comm --percent-limit 0.5 2>/dev/null | grep -v '^$'
    perf report -i /tmp/perf.data --stdio --sort comm,sym --percent-limit 0.7 2>/dev/null | grep -v '^$'
    # Where inside the submission functions the samples fall (disassembled
    # from /proc/kcore): the hottest instructions, with their share.
    for sym in nvme_submit_cmds.part.0 nvme_queue_rq; do
      echo "-- hottest instructions of $sym"
      perf annotate -i /tmp/perf.data --stdio -s "$sym" 2>/dev/null |
        awk -F: '$1 ~ /^ *[0-9]+\.[0-9]+ *$/ && $1 + 0 >= 2 {print}' | sort -rn | head -n 6
    done
  } >"$CMB_VM_OUT/profile-$name.txt"
}
for path in passthrough block; do
  profile "cmbcp-$path" "${cmbcp[@]}" "${src}:1" "${dst}:1" --bytes "$n" --method p2p --path "$path" --no-progress -o json
  record "{\"method\":\"cmbcp_$path\",$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["copy"]; print(json.dumps({"bytes_per_s": c["bytes_done"] / c["seconds"], "cpu": c["cpu"]})[1:-1])' /tmp/profile.out)}"
done
profile p2pmem-test "${p2pmem_test[@]}" "/dev/${src}n1" "/dev/${dst}n1" "/sys/bus/pci/devices/$cmb_bdf/p2pmem/allocate" \
  --threads 4 --chunk_size 524288 --chunks $((n / 524288))
record "{\"method\":\"p2pmem_test\",\"transfer\":\"$(grep -A1 Transfer: /tmp/profile.out | tail -n1 | tr -s ' ')\"}"
echo "profile: done" >&2
