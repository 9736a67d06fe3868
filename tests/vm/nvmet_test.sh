#!/usr/bin/env bash
# Inside the VM (booted with --modules "nvmet nvme-loop"): the kernel's
# NVMe-oF target against cmbinfo's nvmet view. For each p2pmem setting of a
# namespace backed by the src drive (the CMB's BDF, "1", and a file-backed
# namespace with the BDF), cmbinfo predicts whether enabling accepts it; the
# kernel then enables it, or refuses with EINVAL, and the two must agree.
#  - REACH accept: the named CMB and "1" are accepted (switch, with
#    nvme-core.multipath=N); refuse: both refused (rc; or switch with QEMU 10's
#    controllers under native multipath, where /dev/nvmeXnY is a head with no
#    PCI parent);
#  - the file is refused everywhere; the loop port never uses p2pmem.
#
#   nvmet_test.sh CMBINFO accept|refuse
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "nvmet_test.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
cmbinfo=$1 reach=$2
[[ $reach == accept || $reach == refuse ]] || { echo "nvmet_test.sh: REACH is accept or refuse" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "nvmet_test: FAIL: $*" >&2; exit 1; }
topology=$CMB_TOPOLOGY
bdf=$("$here/by-serial" --bdf cmb)
src=/dev/$("$here/by-serial" src)n1

mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
cfg=/sys/kernel/config/nvmet
[[ -d $cfg ]] || fail "no $cfg: nvmet is not loaded"
nqn=nqn.2026-12.org.cmb:nvmet-test
sub=$cfg/subsystems/$nqn
mkdir "$sub"
echo 1 >"$sub/attr_allow_any_host"
mkdir "$sub/namespaces/1"
ns=$sub/namespaces/1
mkdir "$cfg/ports/1"
echo loop >"$cfg/ports/1/addr_trtype"
ln -s "$sub" "$cfg/ports/1/subsystems/$nqn"
truncate -s 64M /tmp/nvmet-file.img

# case DEVICE P2PMEM EXPECTED: predicts, enables, compares; EXPECTED is what
# the kernel must do in this topology (true: accepts; false: EINVAL).
case_() {
  local device=$1 p2pmem=$2 expected=$3 predicted kernel
  echo 0 >"$ns/enable"
  echo "$device" >"$ns/device_path"
  echo "$p2pmem" >"$ns/p2pmem"
  "$cmbinfo" -o json >/tmp/nvmet.json
  read -r predicted used reason <<<"$(python3 - "$nqn" <<'PY'
import json, sys
t = json.load(open("/tmp/nvmet.json"))["nvmet"]
assert t["present"], t
[n] = [n for n in t["namespaces"] if n["subsystem"] == sys.argv[1] and n["nsid"] == 1]
assert n["enabled"] is False, n
print(str(n["p2pmem_ok"]).lower(), str(n["p2pmem_used"]).lower(), n["p2pmem_ok_reason"].replace(" ", "_"))
PY
)"
  if echo 1 >"$ns/enable" 2>/tmp/enable.err; then kernel=true; else kernel=false; fi
  echo "nvmet_test: $topology: device_path $device p2pmem $p2pmem: predicted $predicted (${reason//_/ }); kernel $kernel"
  [[ $kernel == false ]] && grep -q "Invalid argument" /tmp/enable.err
  [[ $predicted == "$kernel" ]] || fail "cmbinfo predicted $predicted, the kernel said $kernel: $(cat /tmp/enable.err)"
  [[ $kernel == "$expected" ]] || fail "the kernel said $kernel where the testbed's $topology topology means $expected"
  [[ $used == false ]] || fail "p2pmem_used is $used for a loop port"
}

expect=true; [[ $reach == accept ]] || expect=false
head=$(readlink -f "/sys/block/${src#/dev/}")
echo "nvmet_test: $src is $head"
case_ "$src" "$bdf" "$expect"
case_ "$src" 1 "$expect"
case_ /tmp/nvmet-file.img "$bdf" false
"$cmbinfo" | sed -n '/^NVMe-oF target/,$p'
"$cmbinfo" | grep -q "^NVMe-oF target (nvmet):" || fail "the text has no nvmet section"

# Leave configfs as it was.
echo 0 >"$ns/enable"
rm "$cfg/ports/1/subsystems/$nqn"
rmdir "$cfg/ports/1" "$ns" "$sub"
echo "nvmet_test: $topology: every prediction matched the kernel"
