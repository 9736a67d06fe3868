#!/usr/bin/env bash
# Sourced by guest test scripts after a disruptive event (hot removal): keeps
# the guest kernel busy for a while, then checks its log. Memory corrupted
# earlier (say, by DMA completing into freed pages) shows up only when the
# pages are reused: allocate and free, run pipelines, fork many processes.
#
#   source guest_health.sh
#   exercise_guest          # ~10-20 s of TCG time
#   check_kernel_log LABEL  # exit 1 with the offending lines, if any

kernel_log_bad() {
  dmesg | grep -E 'BUG:|WARNING:|Oops|general protection|hung_task|Call Trace|Bad rss-counter|bad page state'
}

exercise_guest() {
  local i
  for ((i = 0; i < 3; i++)); do
    head -c 64M /dev/urandom | sha256sum >/dev/null
    seq 1 200000 | sort -r | uniq | tail -n 1 >/dev/null
    python3 -c 'b = [bytearray(1 << 20) for _ in range(256)]; del b'
    for ((j = 0; j < 40; j++)); do /bin/true & done
    wait
    cat /proc/meminfo >/dev/null
  done
}

check_kernel_log() {  # check_kernel_log LABEL
  local bad
  if bad=$(kernel_log_bad); then
    echo "$bad" >&2
    echo "$1: FAIL: the kernel logged the above" >&2
    exit 1
  fi
}
