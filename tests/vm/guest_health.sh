#!/usr/bin/env bash
# Sourced by guest test scripts after a disruptive event (hot removal): keeps
# the guest kernel busy for a while, then checks its log. Memory corrupted
# earlier (say, by DMA completing into freed pages) shows up only when the
# pages are reused: allocate and free, run pipelines, fork many processes.
#
#   source guest_health.sh
#   exercise_guest          # ~10-20 s of TCG time
#   check_kernel_log LABEL  # exit 1 with the offending lines, if any

# The offending lines, or a line saying dmesg itself failed (a dmesg that
# segfaults must not read as a clean log); nothing when the log is clean.
kernel_log_bad() {
  local log
  log=$(dmesg) || { echo "dmesg failed (exit $?): the guest cannot be trusted"; return 0; }
  local rc=0  # grep: 0 matched (printed), 1 clean, 2 and up an error
  grep -E 'BUG:|WARNING:|Oops|general protection|hung_task|Call Trace|Bad rss-counter|bad page state|segfault at' \
    <<<"$log" || rc=$?
  ((rc <= 1)) || echo "grep of the kernel log failed (exit $rc)"
}

exercise_guest() {
  local i j
  for ((i = 0; i < 3; i++)); do
    head -c 64M /dev/urandom | sha256sum >/dev/null
    seq 1 200000 | sort -r | uniq | tail -n 1 >/dev/null
    python3 -c 'b = [bytearray(1 << 20) for _ in range(256)]; del b'
    # Each start is waited for by pid: a program that cannot start (corrupted
    # page cache: "Exec format error", a loader segfault) fails the check.
    local pids=() pid
    for ((j = 0; j < 40; j++)); do /bin/true & pids+=($!); done
    for pid in "${pids[@]}"; do
      wait "$pid" || { echo "exercise_guest: FAIL: /bin/true (pid $pid) exited $? after the removal" >&2; exit 1; }
    done
    cat /proc/meminfo >/dev/null
  done
}

check_kernel_log() {  # check_kernel_log LABEL
  local bad
  bad=$(kernel_log_bad)
  if [[ -n $bad ]]; then
    echo "$bad" >&2
    echo "$1: FAIL: the kernel logged the above" >&2
    exit 1
  fi
}
