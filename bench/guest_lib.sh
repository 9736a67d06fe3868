# shellcheck shell=bash disable=SC2154  # the caller sets cmbcp, p2pmem_test, imitation, src, dst, cmb_bdf, out
# Shell functions for the benchmarks' guest halves (bench/inside.sh,
# bench/owncmb_inside.sh, bench/profile_inside.sh), sourced, not run. The
# caller sets (the programs as arrays: a command line, see staged):
#   cmbcp        cmbcp
#   p2pmem_test  the real p2pmem-test (bench/build-p2pmem-test.sh), or ()
#   imitation    bench/p2pmem_sync, or ()
#   src dst      the source and destination controllers (nvmeX), namespace 1 each
#   cmb_bdf      the PCI address of the CMB the copies go through
#   out          the JSON lines file the measurements go to
#
# p2pmem-test's time is its own "Transfer:" rate (threads started to threads
# joined) plus a flush of the destination, since it ends without one and
# cmbcp's time ends with one: fsync(2) of the destination's block device, as
# `sync DEVICE` does, which sends the device a flush (blkdev_fsync ->
# blkdev_issue_flush), timed inside the process so that starting one (about
# 0.2 s under TCG) is not charged. Not `blockdev --flushbufs`: BLKFLSBUF
# writes back and drops the page cache and sends the device nothing
# (block/ioctl.c, blkdev_flushbuf). Every copy runs under GNU time, for the
# CPU and context switches of all its threads.

bytes_of() { numfmt --from=iec "$1"; }
# staged BINARY: copies BINARY and its shared libraries into the guest's
# tmpfs and prints a command line that runs that copy through the dynamic
# loader. Run from the host's root instead, every start reads them over 9p:
# about 1,600 waits and a second of CPU for cmbcp under TCG, and both vary
# from run to run more than a 256 MiB copy's own.
staged() {
  local b=$1 dir libs loader
  dir=/tmp/stage/$(basename "$b")
  mkdir -p "$dir/lib"
  cp "$b" "$dir/"
  # (The guest has no /dev/fd, so no process substitution.)
  libs=$(ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
  loader=$(ldd "$b" | awk '$1 ~ /^\/.*ld-linux/ {print $1}')
  [[ -n $loader ]] || { echo "bench: ldd names no dynamic loader for $b" >&2; return 1; }
  # shellcheck disable=SC2086  # one path a line, none with spaces
  cp -L $libs "$loader" "$dir/lib/"
  echo "$dir/lib/$(basename "$loader") --library-path $dir/lib $dir/$(basename "$b")"
}
# stage NAME BINARY: the array NAME becomes BINARY's staged command line
# (failing when staging does).
stage() {
  local line
  line=$(staged "$2")
  read -ra "$1" <<<"$line"
}
record() { echo "$1" >>"$out"; echo "bench: $1" >&2; }
jget() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }

# Zero the dst range first, so a method that copied nothing cannot pass the check.
wipe() { blkdiscard -z -o 0 -l "$1" "/dev/${dst}n1"; }
check() {  # check NAME BYTES
  if ! "${cmbcp[@]}" "${src}:1" "${dst}:1" --bytes "$2" --verify-only --no-progress >/tmp/verify.out 2>&1; then
    cat /tmp/verify.out >&2; echo "bench: $1 copied wrong data" >&2; exit 1
  fi
}
# timed CMD...: runs CMD under GNU time; its user and system CPU seconds and
# its voluntary and involuntary context switches in /tmp/time.out.
timed() { /usr/bin/time -f '%U %S %w %c' -o /tmp/time.out "$@"; }
# usage_json BYTES: /tmp/time.out's fields and the CPU per GiB, as JSON members.
usage_json() {
  local u s w c
  read -r u s w c </tmp/time.out
  echo "\"user_s\":$u,\"sys_s\":$s,\"vol_cs\":$w,\"invol_cs\":$c,\"cpu_s_per_gib\":$(python3 -c "print(($u + $s) / ($1 / 2**30))")"
}
# A device flush of DEVICE, timed in-process: prints its seconds.
flush_s() {
  python3 -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
t = time.monotonic(); os.fsync(fd); print(f"{time.monotonic() - t:.6f}")' "$1"
}

cmbcp_run() {  # cmbcp_run SIZE N ROUND METHOD [cmbcp options...]
  local size=$1 n=$2 round=$3 method=$4; shift 4
  wipe "$n"
  timed "${cmbcp[@]}" "${src}:1" "${dst}:1" --bytes "$n" "$@" --no-progress -o json >/tmp/c.json
  check "$method" "$n"
  # copy.cpu is the copy's alone (cmbcp_cpu_s_per_gib); GNU time's counts
  # the whole process, planning and the own-CMB proof included.
  record "{\"size\":\"$size\",\"bytes\":$n,\"round\":$round,\"method\":\"$method\",$(python3 - /tmp/c.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p, c = d["plan"], d["copy"]
own = p["own_cmb"] or {}
print(json.dumps({
    "bytes_per_s": c["bytes_done"] / c["seconds"], "seconds": c["seconds"],
    "peak_rss_bytes": d["peak_rss_bytes"], "chunk": p["chunk"], "qd": p["qd"],
    "path": p["src"]["path"] + "/" + p["dst"]["path"], "commands": c["commands"],
    "own_cmb_limit": own.get("command_bytes_limit"),
    "cmbcp_cpu_s_per_gib": c["cpu"]["per_gib_s"]})[1:-1])
PY
),$(usage_json "$n")}"
}
p2pmem_test_run() {  # p2pmem_test_run SIZE N ROUND: the real tool, 4 threads x 512 KiB
  local size=$1 n=$2 round=$3 rate f
  wipe "$n"
  timed "${p2pmem_test[@]}" "/dev/${src}n1" "/dev/${dst}n1" "/sys/bus/pci/devices/$cmb_bdf/p2pmem/allocate" \
    --threads 4 --chunk_size 524288 --chunks $((n / 524288)) >/tmp/p2pmem-test.out 2>&1 ||
    { cat /tmp/p2pmem-test.out >&2; echo "bench: p2pmem-test failed" >&2; exit 1; }
  f=$(flush_s "/dev/${dst}n1")
  # "Transfer:" then e.g. "268.44MB in 280.3 ms    957.68MB/s": the rate has
  # five digits where the time has two or three.
  rate=$(python3 - /tmp/p2pmem-test.out <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"Transfer:\s*\n\s*[\d.]+\s*\S*B in .*?([\d.]+)([PTGMk]?)B/s", text)
if not m:
    sys.exit(f"bench: no transfer rate in p2pmem-test's output:\n{text}")
print(float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}[m.group(2)])
PY
)
  check p2pmem-test "$n"
  record "{\"size\":\"$size\",\"bytes\":$n,\"round\":$round,\"method\":\"p2pmem_test\",\"bytes_per_s\":$(python3 -c "print($n / ($n / $rate + $f))"),\"copy_bytes_per_s\":$rate,\"flush_s\":$f,$(usage_json "$n")}"
}
imitation_run() {  # imitation_run SIZE N ROUND: bench/p2pmem_sync, p2pmem-test's pattern
  local size=$1 n=$2 round=$3 b c f
  wipe "$n"
  timed "${imitation[@]}" "$cmb_bdf" "/dev/${src}n1" "/dev/${dst}n1" "$n" 512K 4 >/tmp/imitation.out
  read -r b c f </tmp/imitation.out
  check p2pmem_sync "$n"
  record "{\"size\":\"$size\",\"bytes\":$n,\"round\":$round,\"method\":\"p2pmem_sync\",\"bytes_per_s\":$(python3 -c "print($b / ($c + $f))"),\"copy_bytes_per_s\":$(python3 -c "print($b / $c)"),\"flush_s\":$f,$(usage_json "$n")}"
}
