#!/usr/bin/env bash
# The target node of vm.twonode.tcp (tests/vm/twonode.sh boots it with
# --net listen:...:10.99.0.1/24 and --modules nvmet-tcp): fills the first
# MIB MiB (default 16) of its src drive with a known pattern (each 8-byte word its own
# byte offset), exports src's namespace over NVMe/TCP on 10.99.0.1:4420 through
# configfs by hand, tells the host (signal-ready, holding the pattern's
# sha256), then waits for the host's signal-done (holding the sha256 of what
# the host copied back local -> remote) and checks its own drive has exactly that.
# vm.twonode.tcp_target_killed uses it with 64 MiB; the runner kills it
# while it waits for signal-done.
#   twonode_tcp_target.sh [MIB [NQN]]
set -euo pipefail
trap 'echo "twonode_tcp_target: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
here=$(cd "$(dirname "$0")" && pwd)
mib=${1:-16} nqn=${2:-nqn.2026-12.org.cmb:twonode-tcp}
out=$CMB_VM_OUT
fail() { echo "twonode_tcp_target: FAIL: $*" >&2; exit 1; }
signal() { printf '%s\n' "$2" >"$out/signal-$1.tmp"; mv "$out/signal-$1.tmp" "$out/signal-$1"; }
wait_for() {  # wait_for NAME SECONDS
  local i
  for ((i = 0; i < $2 * 5; i++)); do [[ -e $out/signal-$1 ]] && return 0; sleep 0.2; done
  fail "no signal-$1 from the host within $2 s"
}

src=$("$here/by-serial" src)
python3 -c 'import array, sys; sys.stdout.buffer.write(array.array("Q", range(0, int(sys.argv[1]) << 20, 8)).tobytes())' "$mib" >/tmp/pattern
dd if=/tmp/pattern of="/dev/${src}n1" bs=1M oflag=direct status=none
want=$(sha256sum </tmp/pattern | cut -d' ' -f1)
got=$(dd if="/dev/${src}n1" bs=1M count="$mib" iflag=direct status=none | sha256sum | cut -d' ' -f1)
[[ $got == "$want" ]] || fail "src reads back $got after writing the pattern ($want)"
echo "$want" >"$out/pattern.sha256"

mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
cfs=/sys/kernel/config/nvmet
[[ -d $cfs ]] || fail "no $cfs: nvmet is not loaded"
mkdir "$cfs/subsystems/$nqn"
echo 1 >"$cfs/subsystems/$nqn/attr_allow_any_host"
mkdir "$cfs/subsystems/$nqn/namespaces/1"
echo "/dev/${src}n1" >"$cfs/subsystems/$nqn/namespaces/1/device_path"
echo 1 >"$cfs/subsystems/$nqn/namespaces/1/enable"
mkdir "$cfs/ports/1"
echo tcp >"$cfs/ports/1/addr_trtype"
echo ipv4 >"$cfs/ports/1/addr_adrfam"
echo 10.99.0.1 >"$cfs/ports/1/addr_traddr"
echo 4420 >"$cfs/ports/1/addr_trsvcid"
ln -s "$cfs/subsystems/$nqn" "$cfs/ports/1/subsystems/$nqn"
echo "twonode_tcp_target: /dev/${src}n1 exported as $nqn on tcp 10.99.0.1:4420 (pattern sha256 $want)"
signal ready "$want"

wait_for done 700
back=$(cat "$out/signal-done")
[[ $back =~ ^[0-9a-f]{64}$ ]] || fail "signal-done holds '$back', not a sha256"
got=$(dd if="/dev/${src}n1" bs=1M count=16 iflag=direct status=none | sha256sum | cut -d' ' -f1)
[[ $got == "$back" ]] || fail "after the host's local -> remote copy src holds $got, the host sent $back"
rm "$cfs/ports/1/subsystems/$nqn"
echo "twonode_tcp_target: PASS (the host's 16 MiB landed on /dev/${src}n1: $got)"
