#!/usr/bin/env bash
# The host node of vm.twonode.tcp_target_killed: the target (twonode_tcp_target.sh
# 64) exports 64 MiB of its pattern over NVMe/TCP; this host connects with
# ctrl_loss_tmo=10 and reconnect_delay=2 (nvme connect ... -l 10 -c 2), starts
# cmbcp remote -> local (its own dst, 64 MiB, --rate 2M so the copy lasts about
# 32 s), and 5 s into it asks the runner to kill the target's QEMU
# (signal-kill-target). Then cmbcp must end within 90 s of the
# kill with a non-zero status, its JSON must report an error and an
# incomplete copy, and dst's first bytes_done bytes must be exactly the
# target's pattern (the reported prefix is real), no more claimed than written.
#   twonode_tcp_kill_host.sh PATH_TO_cmbcp [NQN]
set -euo pipefail
trap 'echo "twonode_tcp_kill_host: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
cmbcp=$1 nqn=${2:-nqn.2026-12.org.cmb:twonode-tcp}
here=$(cd "$(dirname "$0")" && pwd)
out=$CMB_VM_OUT
total=$((64 << 20)) bound=90
fail() { echo "twonode_tcp_kill_host: FAIL: $*" >&2; exit 1; }
signal() { printf '%s\n' "$2" >"$out/signal-$1.tmp"; mv "$out/signal-$1.tmp" "$out/signal-$1"; }
wait_for() {  # wait_for NAME SECONDS
  local i
  for ((i = 0; i < $2 * 5; i++)); do [[ -e $out/signal-$1 ]] && return 0; sleep 0.2; done
  fail "no signal-$1 within $2 s"
}

wait_for ready 600
[[ -e /dev/nvme-fabrics ]] || fail "no /dev/nvme-fabrics: nvme-fabrics is not loaded"
connected=0
for i in 1 2 3 4 5; do
  if echo "transport=tcp,traddr=10.99.0.1,trsvcid=4420,nqn=$nqn,ctrl_loss_tmo=10,reconnect_delay=2" >/dev/nvme-fabrics; then
    connected=1; break
  fi
  echo "twonode_tcp_kill_host: connect attempt $i failed; retrying" >&2
  sleep 2
done
((connected)) || fail "could not connect to $nqn at 10.99.0.1:4420"
fab=""
for ((i = 0; i < 100; i++)); do
  for c in /sys/class/nvme/nvme*; do
    [[ $(cat "$c/subsysnqn") == "$nqn" && $(cat "$c/transport") == tcp && $(cat "$c/state") == live ]] && fab=${c##*/}
  done
  [[ -n $fab ]] && break
  sleep 0.2
done
[[ -n $fab ]] || fail "no live tcp controller of $nqn appeared"
[[ $(cat "/sys/class/nvme/$fab/ctrl_loss_tmo") == 10 ]] || fail "ctrl_loss_tmo of $fab is $(cat "/sys/class/nvme/$fab/ctrl_loss_tmo"), not 10"
dst=$("$here/by-serial" dst)
dd if=/dev/zero of="/dev/${dst}n1" bs=1M count=64 oflag=direct status=none
"$cmbcp" "$fab:1" "$dst:1" --bytes 64M --rate 2M --allow-bounce -o json >"$out/killed.json" 2>"$out/killed.err" &
cp_pid=$!
# Passthrough writes do not show in dst's block statistics: give it 5 s (about
# 10 MiB at 2 MB/s); the reported prefix must then be non-empty.
sleep 5
kill -0 "$cp_pid" 2>/dev/null || fail "cmbcp ended before the kill: $(cat "$out/killed.err")"
echo "twonode_tcp_kill_host: 5 s into the copy; asking for the target's death"
signal kill-target now
wait_for target-killed 60
t0=$SECONDS
rc=0
for ((i = 0; i < bound * 5; i++)); do kill -0 "$cp_pid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$cp_pid" 2>/dev/null; then
  kill -KILL "$cp_pid"
  fail "cmbcp still ran ${bound} s after the target died: $(tail -n 5 "$out/killed.err")"
fi
wait "$cp_pid" || rc=$?
took=$((SECONDS - t0))
echo "twonode_tcp_kill_host: cmbcp ended ${took} s after the kill, exit $rc; state $(cat "/sys/class/nvme/$fab/state" 2>/dev/null || echo gone)"
cat "$out/killed.err" >&2
((rc != 0)) || fail "cmbcp exited 0 although the target died mid-copy"
done_bytes=$(python3 - "$out/killed.json" "$rc" "$total" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
rc, total = int(sys.argv[2]), int(sys.argv[3])
c = j["copy"]
checks = [
    ("complete", c["complete"], False), ("error set", bool(c["error"]), True),
    ("exit_status", j["exit_status"], rc), ("method", j["plan"]["method"], "bounce"),
    ("prefix within the range", 0 <= c["bytes_done"] < total, True),
    ("prefix in whole sectors", c["bytes_done"] % 512, 0),
    ("dst_done matches bytes_done", c["dst_done"]["lbas"] * 512, c["bytes_done"]),
]
bad = [(n, got, want) for n, got, want in checks if got != want]
for n, got, want in bad:
    print(f"{n}: got {got!r}, want {want!r}", file=sys.stderr)
print("error:", c["error"], file=sys.stderr)
if bad:
    sys.exit(1)
print(c["bytes_done"])
PY
) || fail "cmbcp's JSON after the kill is wrong (above)"
((done_bytes > 0)) || fail "cmbcp reports no prefix done, though dst took writes before the kill"
# The claimed prefix holds exactly the target's pattern.
want=$(python3 -c 'import array, sys; sys.stdout.buffer.write(array.array("Q", range(0, int(sys.argv[1]), 8)).tobytes())' "$done_bytes" | sha256sum | cut -d' ' -f1)
got=$(dd if="/dev/${dst}n1" bs=1M count="$done_bytes" iflag=direct,count_bytes status=none | sha256sum | cut -d' ' -f1)
[[ $got == "$want" ]] || fail "dst's first $done_bytes bytes are not the target's pattern"
echo "twonode_tcp_kill_host: PASS (error after ${took} s, exact prefix of $done_bytes bytes)"
