#!/usr/bin/env bash
# Two testbed guests on one virtual network, standing in for two machines: a
# target node (the listening side) and a host node (the connecting side).
# Their QEMU processes meet through a socket netdev on 127.0.0.1:PORT (a free
# port, picked here), so no traffic leaves the machine; the guests' addresses
# (10.99.0.1/24 target, 10.99.0.2/24 host) exist only on that link.
#
#   tests/vm/twonode.sh --out DIR [--timeout S] [--target-args 'vm.sh options']
#       [--host-args 'vm.sh options'] -- TARGET_CMD... --host-cmd-- HOST_CMD...
#
# The target boots first (DIR/target), then, once its QEMU listens, the host
# (DIR/host). They coordinate through files: a guest writes
# $CMB_VM_OUT/signal-NAME and this runner copies it into the other guest's
# output directory, where the other waits for it (e.g. the target writes
# signal-ready once it exports, and waits for the host's signal-done).
# signal-kill-target from the host is not relayed: the runner kills the
# target's QEMU (the failure tests) and then expects the target to have failed.
# Fails when either guest fails (killing the other), or on the timeout.
# Word splitting: --target-args and --host-args are split on blanks.
set -euo pipefail
trap 'echo "twonode.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
here=$(cd "$(dirname "$0")" && pwd)
out="" timeout=800 target_args="" host_args=""
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
while (($#)); do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --target-args) target_args=$2; shift 2 ;;
    --host-args) host_args=$2; shift 2 ;;
    -h|--help) usage ;;
    --) shift; break ;;
    *) echo "twonode.sh: unknown option $1" >&2; usage ;;
  esac
done
[[ -n $out ]] || { echo "twonode.sh: --out is required" >&2; exit 2; }
target_cmd=() host_cmd=()
while (($#)) && [[ $1 != --host-cmd-- ]]; do target_cmd+=("$1"); shift; done
(($#)) || { echo "twonode.sh: no --host-cmd-- separator" >&2; exit 2; }
shift
host_cmd=("$@")
((${#target_cmd[@]} && ${#host_cmd[@]})) || { echo "twonode.sh: both commands are required" >&2; exit 2; }

mkdir -p "$out/target" "$out/host"
out=$(cd "$out" && pwd)
rm -f "$out"/target/signal-* "$out"/host/signal-* "$out/rc"
# A free port on the loopback: bound, read back and released; QEMU takes it next.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
read -ra targs <<<"$target_args"
read -ra hargs <<<"$host_args"
tpid="" hpid=""
kill_guest() {  # kill_guest PID: its whole process group (vm.sh, QEMU, tee)
  if [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; then kill -TERM -- "-$1" 2>/dev/null || [[ ! -e /proc/$1 ]]; fi
}
cleanup() { kill_guest "$tpid"; kill_guest "$hpid"; }
trap cleanup EXIT
fail() { echo "twonode.sh: FAIL: $*" >&2; exit 1; }

vm_timeout=$((timeout - 20))
echo "twonode.sh: the guests meet on 127.0.0.1:$port; output in $out" >&2
# setsid: each guest in a process group of its own, so it can be killed whole.
setsid "$here/vm.sh" --timeout "$vm_timeout" "${targs[@]}" --net "listen:$port:10.99.0.1/24" --out "$out/target" \
  -- "${target_cmd[@]}" >"$out/target.log" 2>&1 &
tpid=$!
deadline=$((SECONDS + timeout))
# The host's QEMU must find the target's listening (QEMU exits if it cannot
# connect); a probe connection would take the one peer slot, so look with ss.
until ss -Hltn "sport = :$port" | grep -q .; do
  kill -0 "$tpid" 2>/dev/null || { cat "$out/target.log" >&2; fail "the target guest ended before it listened on $port"; }
  ((SECONDS < deadline)) || fail "the target's QEMU did not listen on 127.0.0.1:$port"
  sleep 0.2
done
setsid "$here/vm.sh" --timeout "$vm_timeout" "${hargs[@]}" --net "connect:$port:10.99.0.2/24" --out "$out/host" \
  -- "${host_cmd[@]}" >"$out/host.log" 2>&1 &
hpid=$!

trc="" hrc="" killed=0
relay() {  # relay FROM TO: signal files FROM has and TO lacks (guests write NAME.tmp, then rename)
  local f name
  for f in "$1"/signal-*; do
    [[ -e $f ]] || continue
    name=${f##*/}
    [[ $name == signal-kill-target || $name == *.tmp || -e $2/$name ]] && continue
    cp "$f" "$2/$name.tmp"
    mv -f "$2/$name.tmp" "$2/$name"
  done
}
while [[ -z $trc || -z $hrc ]]; do
  relay "$out/target" "$out/host"
  relay "$out/host" "$out/target"
  if ((!killed)) && [[ -e $out/host/signal-kill-target ]]; then
    echo "twonode.sh: the host asked: killing the target guest (QEMU) now" >&2
    kill_guest "$tpid"
    killed=1
    date +%s.%N >"$out/host/signal-target-killed"
  fi
  if [[ -z $trc ]] && ! kill -0 "$tpid" 2>/dev/null; then
    trc=0; wait "$tpid" || trc=$?
    echo "twonode.sh: the target guest exited $trc" >&2
    if ((trc != 0 && !killed)); then kill_guest "$hpid"; tail -n 40 "$out/target.log" >&2; fail "the target guest failed ($trc; $out/target.log)"; fi
  fi
  if [[ -z $hrc ]] && ! kill -0 "$hpid" 2>/dev/null; then
    hrc=0; wait "$hpid" || hrc=$?
    echo "twonode.sh: the host guest exited $hrc" >&2
    if ((hrc != 0)); then kill_guest "$tpid"; tail -n 60 "$out/host.log" >&2; fail "the host guest failed ($hrc; $out/host.log)"; fi
  fi
  if ((SECONDS >= deadline)); then
    cleanup
    fail "timed out after ${timeout}s (target: ${trc:-running}, host: ${hrc:-running})"
  fi
  sleep 0.5
done
if ((killed)); then
  ((trc != 0)) || fail "the target was killed but exited 0"
  echo "twonode.sh: PASS (target killed as asked, exit $trc; host exited 0)" >&2
else
  echo "twonode.sh: PASS (both guests exited 0)" >&2
fi
