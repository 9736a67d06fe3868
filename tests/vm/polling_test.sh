#!/bin/sh
# Runs inside the VM testbed's switch topology, booted with
# --nvme-poll-queues 2: cmbcp's polling modes on the real kernel.
#  1. --poll copies 32 MiB through the CMB byte-exact, nothing past it
#     changed, and its commands completed on the poll queues: poll queues
#     have no interrupt vector, so src's and dst's I/O queue interrupts
#     (/proc/interrupts, nvmeXqN) grow by at most 2 each. The same copy
#     without --poll is the control: its completions are seen only through
#     interrupts, at least one per wave of qd commands, so it must raise at
#     least chunks / qd on each (QEMU coalesces, so not one per command).
#  2. --sqpoll copies 32 MiB byte-exact, and the copy ran an io_uring
#     submission thread (a task named iou-sqp-PID) while it lasted.
#  3. A Copier with polled completions (through the Python module, so
#     CMB_LIBRARY and PYTHONPATH must name libcmb and python/) keeps its
#     event fd readable after every Process() until the request completes:
#     polled completions signal no eventfd, so a poll(2) loop must spin.
#  4. With dst rebound without poll queues, --poll is refused before any
#     write (exit 4), naming the cause and the fix; dst is unchanged.
#   polling_test.sh PATH_TO_cmbcp
set -eu
cmbcp=$1
# With CMB_TEST_PATH set (passthrough, block), every copy takes that data path.
# (A word, not a function: a backgrounded function's $! is its subshell's.)
path_opt=${CMB_TEST_PATH:+--path=$CMB_TEST_PATH}
here=$(cd "$(dirname "$0")" && pwd)
src=$("$here/by-serial" src) dst=$("$here/by-serial" dst)
fail() { echo "polling_test: FAIL: $*" >&2; exit 1; }
mib=32 bytes=$((32 << 20))
for c in "$src" "$dst"; do
  [ "$(cat "/sys/block/${c}n1/queue/io_poll")" = 1 ] || fail "${c}n1 has no poll queues: was the VM booted with --nvme-poll-queues?"
done
# Interrupts of a controller's I/O queues (nvme0q1.., not the admin nvme0q0).
irqs() { awk -v q="$1q" '$NF ~ "^" q "[1-9]" { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i } END { print s + 0 }' /proc/interrupts; }
fresh() {  # random data on src and dst, and dst's MiB after the range saved
  dd if=/dev/urandom of="/dev/${src}n1" bs=1M count=$((mib + 1)) oflag=direct status=none
  dd if=/dev/urandom of="/dev/${dst}n1" bs=1M count=$((mib + 1)) oflag=direct status=none
  dd if="/dev/${dst}n1" of=/tmp/after bs=1M skip=$mib count=1 iflag=direct status=none
  udevadm settle  # udev probes a device closed after writing: its reads would count below
}
same() {  # same WHAT: dst holds src's range and nothing past it changed
  cmp -n $bytes "/dev/${src}n1" "/dev/${dst}n1" || fail "$1: ${dst}n1 differs from ${src}n1"
  dd if="/dev/${dst}n1" of=/tmp/now bs=1M skip=$mib count=1 iflag=direct status=none
  cmp /tmp/after /tmp/now || fail "$1: ${dst}n1 changed past the copy"
}

# 1. Polled completions.
fresh
r0=$(irqs "$src") w0=$(irqs "$dst")
"$cmbcp" $path_opt "${src}:1" "${dst}:1" --bytes $bytes --method p2p --poll --no-progress -o json >/tmp/poll.json ||
  fail "cmbcp --poll exited $?: $(cat /tmp/poll.json)"
r=$(($(irqs "$src") - r0)) w=$(($(irqs "$dst") - w0))  # before cmp's reads, which interrupt
same "--poll"
chunk=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["plan"]["chunk"])' /tmp/poll.json)
chunks=$((bytes / chunk))
qd=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["plan"]["qd"])' /tmp/poll.json)
[ "$r" -le 2 ] || fail "--poll: $src's I/O queues raised $r interrupts for $chunks reads: not polled"
[ "$w" -le 2 ] || fail "--poll: $dst's I/O queues raised $w interrupts for $chunks writes: not polled"
# The control: the same copy without --poll.
udevadm settle
r0=$(irqs "$src") w0=$(irqs "$dst")
"$cmbcp" $path_opt "${src}:1" "${dst}:1" --bytes $bytes --method p2p --no-progress >/dev/null || fail "cmbcp without --poll exited $?"
r1=$(($(irqs "$src") - r0)) w1=$(($(irqs "$dst") - w0))
[ "$r1" -ge $((chunks / qd)) ] && [ "$w1" -ge $((chunks / qd)) ] ||
  fail "the control copy without --poll raised $r1 and $w1 interrupts, fewer than $((chunks / qd)): the count is wrong"
echo "polling_test: --poll copied $bytes bytes in $chunks chunks with $r interrupts on $src and $w on $dst" \
  "(without --poll: $r1 and $w1)"

# 2. SQPOLL: rate-limited to 8 MiB/s, so the copy lasts at least 4 s and the
# thread is seen however fast the machine.
fresh
"$cmbcp" $path_opt "${src}:1" "${dst}:1" --bytes $bytes --method p2p --sqpoll --rate 8M --no-progress >/tmp/sqpoll.out 2>&1 &
pid=$!
seen=0
while kill -0 "$pid" 2>/dev/null; do
  if cat /proc/"$pid"/task/*/comm 2>/dev/null | grep -q '^iou-sqp-'; then seen=1; fi
  sleep 0.2
done
wait "$pid" || fail "cmbcp --sqpoll exited $?: $(cat /tmp/sqpoll.out)"
[ "$seen" = 1 ] || fail "--sqpoll: no iou-sqp thread ran in cmbcp"
same "--sqpoll"
echo "polling_test: --sqpoll copied $bytes bytes with an iou-sqp thread"

# 3. The event fd of a polling Copier.
[ -n "${CMB_LIBRARY:-}" ] && [ -n "${PYTHONPATH:-}" ] || fail "CMB_LIBRARY and PYTHONPATH must name libcmb and python/"
fresh
python3 - "$src" "$dst" $bytes <<'PY' || fail "the polling Copier's event fd"
import os, select, sys
import cmb
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with cmb.Copier(src + ":1", dst + ":1", poll=True, path=os.environ.get("CMB_TEST_PATH") or None) as c:
    rid = c.submit([(0, 0, n // 512)])
    calls = 0
    while True:
        done = [d for d in c.process() if d.id == rid]
        if done:
            break
        calls += 1
        if not select.select([c.fileno()], [], [], 0)[0]:
            sys.exit(f"after Process() call {calls} the event fd was not readable, with the request pending")
    if done[0].error or done[0].prefix_bytes != n:
        sys.exit(f"the request ended with {done[0].prefix_bytes} of {n} bytes: {done[0].error}")
print(f"polling_test: a polling Copier copied {n} bytes; its event fd was readable after each of {calls} Process() calls")
PY
same "the polling Copier"

# 4. No poll queues: dst rebound with poll_queues=0 (the block layer decides
# polling when the driver probes), then --poll is refused before writing.
fresh
bdf=$("$here/by-serial" --bdf dst)
echo 0 >/sys/module/nvme/parameters/poll_queues
echo "$bdf" >/sys/bus/pci/drivers/nvme/unbind
echo "$bdf" >/sys/bus/pci/drivers/nvme/bind
i=0
until dst=$("$here/by-serial" dst 2>/dev/null) && [ -e "/sys/block/${dst}n1/queue/io_poll" ] && [ -e "/dev/ng${dst#nvme}n1" ]; do
  i=$((i + 1)); [ $i -lt 100 ] || fail "dst did not come back after rebinding"; sleep 0.1
done
[ "$(cat "/sys/block/${dst}n1/queue/io_poll")" = 0 ] || fail "${dst}n1 still polls after rebinding with poll_queues=0"
dd if="/dev/${dst}n1" of=/tmp/before bs=1M count=$((mib + 1)) iflag=direct status=none
rc=0
"$cmbcp" $path_opt "${src}:1" "${dst}:1" --bytes $bytes --method p2p --poll --no-progress >/tmp/refused.out 2>&1 || rc=$?
[ "$rc" = 4 ] || fail "--poll without poll queues exited $rc, not 4: $(cat /tmp/refused.out)"
grep -q "${dst}n1 has no poll queues" /tmp/refused.out || fail "the refusal does not name the cause: $(cat /tmp/refused.out)"
grep -q "poll_queues=2" /tmp/refused.out || fail "the refusal does not name the fix: $(cat /tmp/refused.out)"
dd if="/dev/${dst}n1" of=/tmp/now bs=1M count=$((mib + 1)) iflag=direct status=none
cmp /tmp/before /tmp/now || fail "the refused --poll changed ${dst}n1"
echo "polling_test: without poll queues --poll was refused (exit 4), naming cause and fix; ${dst}n1 unchanged"
