#!/usr/bin/env bash
# The guest half of bench/sweep.sh: BUILD SIZE ROUNDS CONFIG...; one JSON line
# per measurement in $CMB_VM_OUT/sweep.jsonl.
set -euo pipefail
build=$1 size=$2 rounds=$3; shift 3
out=$CMB_VM_OUT/sweep.jsonl
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/guest_lib.sh
. "$here/guest_lib.sh"
# From the guest's tmpfs: a start over 9p costs about 1,600 waits (guest_lib.sh).
stage cmbcp "$build/tools/cmbcp"
src=$("$here/../tests/vm/by-serial" src) dst=$("$here/../tests/vm/by-serial" dst)
cmb_bdf=$("$here/../tests/vm/by-serial" --bdf cmb)
n=$(numfmt --from=iec "$size")
: >"$out"
# cmbcp --poll needs poll queues: sweep.sh boots with nvme.poll_queues=2.
if [[ " $* " == *" --poll"* ]]; then
  for c in "$src" "$dst"; do
    [[ $(cat "/sys/block/${c}n1/queue/io_poll") == 1 ]] || { echo "sweep: ${c}n1 has no poll queues" >&2; exit 1; }
  done
fi
record() { echo "$1" >>"$out"; echo "sweep: $1" >&2; }
jget() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }
# Fill src with data, and dst once too: the first write into a fresh disk
# image allocates its host blocks, which made the first ceiling 3-4x slower.
for d in "$src" "$dst"; do
  fio --name=fill --ioengine=io_uring_cmd --cmd_type=nvme --filename="/dev/ng${d#nvme}n1" --rw=write --bs=512k \
    --iodepth=16 --size="$n" --output-format=terse >/dev/null
done
for round in $(seq "$rounds"); do
  fio --ioengine=io_uring_cmd --cmd_type=nvme --bs=512k --iodepth=16 --size="$n" --output-format=json \
    --iomem="mmapshared:/sys/bus/pci/devices/$cmb_bdf/p2pmem/allocate" \
    --name=read --filename="/dev/ng${src#nvme}n1" --rw=read \
    --name=write --filename="/dev/ng${dst#nvme}n1" --rw=write >/tmp/fio.json
  record "{\"round\":$round,\"config\":\"fio\",\"bytes_per_s\":$(jget /tmp/fio.json "min(j['read']['bw_bytes'] + j['write']['bw_bytes'] for j in d['jobs'])")}"
  for config in "$@"; do
    # Leading words set the kernel for this run, then are put back:
    # thp=always|madvise|never sets transparent huge pages (a host buffer's
    # pages then merge into fewer DMA segments, or not); sgl=BYTES sets
    # nvme's sgl_threshold (block-path commands whose average DMA segment
    # is at least BYTES use SGLs, others PRPs; 0: PRPs; passthrough takes
    # SGLs on 7.3 whatever it is).
    args=$config restore=()
    while [[ $args =~ ^(thp|sgl)=([^ ]*)\ ?(.*)$ ]]; do
      case ${BASH_REMATCH[1]} in
        thp) f=/sys/kernel/mm/transparent_hugepage/enabled; restore+=("$(sed 's/.*\[\(.*\)\].*/\1/' "$f") $f") ;;
        sgl) f=/sys/module/nvme/parameters/sgl_threshold; restore+=("$(cat "$f") $f") ;;
      esac
      echo "${BASH_REMATCH[2]}" >"$f"
      args=${BASH_REMATCH[3]}
    done
    blkdiscard -z -o 0 -l "$n" "/dev/${dst}n1"
    # shellcheck disable=SC2086
    /usr/bin/time -f '%w %c' -o /tmp/time.out \
      "${cmbcp[@]}" "${src}:1" "${dst}:1" --bytes "$n" --method p2p $args --no-progress -o json >/tmp/c.json
    for r in "${restore[@]}"; do echo "${r%% *}" >"${r#* }"; done
    "${cmbcp[@]}" "${src}:1" "${dst}:1" --bytes "$n" --verify-only --no-progress >/tmp/v.out 2>&1 ||
      { cat /tmp/v.out >&2; echo "sweep: '$config' copied wrong data" >&2; exit 1; }
    read -r vcs ics </tmp/time.out
    record "{\"round\":$round,\"config\":\"$config\",\"bytes_per_s\":$(jget /tmp/c.json "d['copy']['bytes_done']/d['copy']['seconds']"),\"cpu_s_per_gib\":$(jget /tmp/c.json "d['copy']['cpu']['per_gib_s']"),\"sys_s\":$(jget /tmp/c.json "d['copy']['cpu']['sys_s']"),\"chunk\":$(jget /tmp/c.json "d['plan']['chunk']"),\"qd\":$(jget /tmp/c.json "d['plan']['qd']"),\"commands\":$(jget /tmp/c.json "d['copy']['commands']"),\"path\":\"$(jget /tmp/c.json "d['plan']['dst']['path']")\",\"vol_cs\":$vcs,\"invol_cs\":$ics}"
  done
done
