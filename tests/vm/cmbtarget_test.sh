#!/usr/bin/env bash
# Inside the VM (--modules "nvmet nvme-loop", nvme-core.multipath=N): cmbtarget
# against the kernel's NVMe-oF target.
#  - switch: `export --p2pmem auto` plans the CMB, the kernel accepts it (the
#    namespace is enabled with that p2pmem), and cmbinfo's prediction agrees;
#    a second export of the same subsystem, a mounted namespace, and --force
#    without root are refused, configfs unchanged; a user outside root cannot
#    export; save, remove, restore give back the same tree, and remove leaves
#    configfs as it found it;
#  - rc: `export --p2pmem auto` is refused before configfs is written, and the
#    same setting by hand gets the kernel's EINVAL, which cmbinfo predicted.
#
#   cmbtarget_test.sh CMBTARGET CMBINFO
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "cmbtarget_test.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
cmbtarget=$1 cmbinfo=$2
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "cmbtarget_test: FAIL: $*" >&2; exit 1; }
topology=$CMB_TOPOLOGY
bdf=$("$here/by-serial" --bdf cmb)
src=$("$here/by-serial" src) dst=$("$here/by-serial" dst)
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
cfg=/sys/kernel/config/nvmet
tree() { find "$cfg" -printf '%P %l\n' | sort; }
tree >/tmp/empty.tree
nqn=nqn.2026-12.org.cmb:cmbtarget-test

# run EXPECTED ARGS...: cmbtarget exits EXPECTED; its output in /tmp/ct.out, /tmp/ct.err.
run() {
  local want=$1 rc=0; shift
  "$cmbtarget" "$@" >/tmp/ct.out 2>/tmp/ct.err || rc=$?
  ((rc == want)) || fail "cmbtarget $* exited $rc, not $want: $(cat /tmp/ct.out /tmp/ct.err)"
}
unchanged() { tree | diff /tmp/empty.tree - || fail "configfs changed: $1"; }

if [[ $topology == rc ]]; then
  run 4 export -t loop --allow-any-host --p2pmem auto -n "$nqn" "${src}:1"
  grep -q "the kernel would refuse p2pmem" /tmp/ct.err || fail "rc: no reason: $(cat /tmp/ct.err)"
  cat /tmp/ct.err
  unchanged "a refused export wrote configfs"
  # The same by hand: the kernel refuses on enable, as cmbinfo predicts.
  mkdir "$cfg/subsystems/$nqn" "$cfg/subsystems/$nqn/namespaces/1"
  ns=$cfg/subsystems/$nqn/namespaces/1
  echo "/dev/${src}n1" >"$ns/device_path"
  echo 1 >"$ns/p2pmem"
  ok=$("$cmbinfo" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["nvmet"]["namespaces"][0]["p2pmem_ok"])')
  [[ $ok == False ]] || fail "rc: cmbinfo predicts p2pmem_ok $ok"
  if echo 1 >"$ns/enable" 2>/tmp/enable.err; then fail "rc: the kernel enabled p2pmem=1"; fi
  grep -q "Invalid argument" /tmp/enable.err || fail "rc: enable failed otherwise: $(cat /tmp/enable.err)"
  rmdir "$ns" "$cfg/subsystems/$nqn"
  unchanged "the hand-made subsystem is gone"
  echo "cmbtarget_test: rc: refused before writing; the kernel's EINVAL by hand was predicted"
  exit 0
fi

run 0 export -t loop --allow-any-host --p2pmem auto -n "$nqn" --dry-run -o json "${src}:1"
python3 - "$bdf" <<'PY'
import json, sys
p = json.load(open("/tmp/ct.out"))
assert p["applied"] is False, p
[n] = p["namespaces"]
assert n["p2pmem"] == sys.argv[1] and n["p2pmem_ok"] is True, n
assert n["p2pmem_used"] is False and "only nvmet-rdma" in n["p2pmem_used_reason"], n
PY
unchanged "--dry-run wrote configfs"
run 0 export -t loop --allow-any-host --p2pmem auto -n "$nqn" -o json "${src}:1"
ns=$cfg/subsystems/$nqn/namespaces/1
[[ $(cat "$ns/enable") == 1 && $(cat "$ns/p2pmem") == "$bdf" ]] || fail "the kernel shows enable $(cat "$ns/enable"), p2pmem $(cat "$ns/p2pmem")"
ok=$("$cmbinfo" -o json | python3 -c 'import json,sys; [n] = json.load(sys.stdin)["nvmet"]["namespaces"]; print(n["p2pmem_ok"], n["enabled"])')
[[ $ok == "True True" ]] || fail "cmbinfo says p2pmem_ok, enabled = $ok after the kernel accepted it"
echo "cmbtarget_test: exported ${src}n1 with p2pmem $bdf; the kernel enabled it, as predicted"
"$cmbtarget" show

run 4 export -t loop --allow-any-host -n "$nqn" "${dst}:1"
grep -q "exists already" /tmp/ct.err || fail "a second $nqn: $(cat /tmp/ct.err)"
run 2 export -t loop -n other "${dst}:1"
grep -q "no host may connect" /tmp/ct.err || fail "no hosts named: $(cat /tmp/ct.err)"
mkfs.ext4 -q -F "/dev/${dst}n1"
mkdir -p /tmp/mnt-dst
mount "/dev/${dst}n1" /tmp/mnt-dst
run 4 export -t loop --allow-any-host -n other "${dst}:1"
grep -q "is in use" /tmp/ct.err || fail "a mounted namespace: $(cat /tmp/ct.err)"
uid=65534
outsider=(setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all --bounding-set=-all)
rc=0; "${outsider[@]}" "$cmbtarget" export -t loop --allow-any-host -n other --force "${dst}:1" 2>/tmp/ct.err || rc=$?
((rc == 4)) && grep -q "needs CAP_SYS_ADMIN" /tmp/ct.err || fail "--force as a user exited $rc: $(cat /tmp/ct.err)"
umount /tmp/mnt-dst
rc=0; "${outsider[@]}" "$cmbtarget" export -t loop --allow-any-host -n other "${dst}:1" 2>/tmp/ct.err || rc=$?
((rc != 0)) || fail "a user outside root exported ${dst}n1"
echo "cmbtarget_test: a user outside root: exit $rc: $(cat /tmp/ct.err)"
[[ ! -e $cfg/subsystems/other ]] || fail "the refused exports left subsystem 'other'"

run 0 save /tmp/saved1.json
tree >/tmp/exported.tree
run 0 remove "$nqn"
unchanged "remove did not leave configfs as it found it"
run 0 restore /tmp/saved1.json
tree | diff /tmp/exported.tree - || fail "restore gave a different tree"
run 0 save /tmp/saved2.json
cmp /tmp/saved1.json /tmp/saved2.json || fail "the configuration saved after restore differs"
grep -q "\"p2pmem\": \"$bdf\"" /tmp/saved1.json || fail "save lost p2pmem"
[[ $(cat "$ns/enable") == 1 ]] || fail "restore left the namespace disabled"
run 4 restore /tmp/saved1.json
run 0 remove "$nqn"
unchanged "the final remove"
echo "cmbtarget_test: switch: save, remove, restore round-trip the tree, p2pmem $bdf included"
