#!/bin/sh
# Runs inside the VM testbed's switch topology on Debian's kernel: NVMe over
# Fabrics as the kernel shows it, through nvmet and nvme-loop (no network).
# dst's namespace is exported as a loop subsystem and connected back; then
#  1. cmbinfo -o json shows the loop controller as the kernel's sysfs has it:
#     transport loop, no PCI address, the subsystem NQN, state live,
#     ctrl_loss_tmo 600 s and reconnect_delay 10 s (nvmf defaults), its
#     namespace with a generic device, and the verdict: never eligible, with
#     nvme-loop named; fabric_p2p pairs the CMB with it;
#  2. cmbcp to the loop namespace is refused (exit 4) with that rule, and
#     with --allow-bounce copies 1 MiB byte-exact, read back through dst.
# The modules come from the kernel's own tree (vm.sh exports CMB_VM_MODULES).
#   fabric_loop_test.sh PATH_TO_cmbinfo PATH_TO_cmbcp
set -eu
cmbinfo=$1 cmbcp=$2
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "fabric_loop_test: FAIL: $*" >&2; exit 1; }
[ -n "${CMB_VM_MODULES:-}" ] || fail "CMB_VM_MODULES is not set: run through tests/vm/vm.sh with a Debian kernel"
for m in fs/configfs/configfs drivers/nvme/host/nvme-fabrics drivers/nvme/target/nvmet drivers/nvme/target/nvme-loop; do
  f=$(ls "$CMB_VM_MODULES/kernel/$m.ko"* 2>/dev/null | head -1)
  [ -n "$f" ] || fail "no module $m under $CMB_VM_MODULES"
  insmod "$f" || fail "insmod $f"
done
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
src=$("$here/by-serial" src) dst=$("$here/by-serial" dst) cmb_bdf=$("$here/by-serial" --bdf cmb)
nqn=nqn.2026-12.org.cmb:fabric-loop
cfs=/sys/kernel/config/nvmet
mkdir "$cfs/subsystems/$nqn" "$cfs/ports/1"
echo 1 >"$cfs/subsystems/$nqn/attr_allow_any_host"
mkdir "$cfs/subsystems/$nqn/namespaces/1"
echo "/dev/${dst}n1" >"$cfs/subsystems/$nqn/namespaces/1/device_path"
echo 1 >"$cfs/subsystems/$nqn/namespaces/1/enable"
echo loop >"$cfs/ports/1/addr_trtype"
ln -s "$cfs/subsystems/$nqn" "$cfs/ports/1/subsystems/$nqn"
echo "transport=loop,nqn=$nqn" >/dev/nvme-fabrics
fab=""
for i in $(seq 50); do
  for c in /sys/class/nvme/*; do
    [ "$(cat "$c/subsysnqn")" = "$nqn" ] && [ -e "/dev/ng${c##*nvme}n1" ] && fab=${c##*/}
  done
  [ -n "$fab" ] && break
  sleep 0.2
done
[ -n "$fab" ] || fail "the loop controller of $nqn did not appear with a namespace"
echo "fabric_loop_test: $nqn is $fab (dst $dst, cmb $cmb_bdf)"

"$cmbinfo" -o json >/tmp/info.json || fail "cmbinfo -o json exited $?"
python3 - "$fab" "$nqn" "$cmb_bdf" <<'PY' || fail "cmbinfo's JSON does not match the kernel's view (above)"
import json, os, sys
fab, nqn, cmb = sys.argv[1:]
j = json.load(open("/tmp/info.json"))
c = next(c for c in j["controllers"] if c["name"] == fab)
f = c["fabric"]
num = fab[4:]
checks = [
    (c["transport"], "loop"), (c["address"], None), (f["subsysnqn"], nqn), (f["state"], "live"),
    (f["ctrl_loss_tmo_s"], 600), (f["reconnects_forever"], False), (f["reconnect_delay_s"], 10),
    (f["traddr"], None), (f["rnic"], None), (f["p2p"]["eligible"], False),
    ("nvme-loop" in f["p2p"]["reason"], True),
    (c["namespaces"][0]["generic_device"], f"/dev/ng{num}n1"), (os.path.exists(f"/dev/ng{num}n1"), True),
    ([p["provider"] for p in j["fabric_p2p"] if p["client_name"] == fab], [cmb]),
    (all(x["fabric"] is None for x in j["controllers"] if x["name"] != fab), True),
]
bad = [(got, want) for got, want in checks if got != want]
for got, want in bad:
    print(f"got {got!r}, want {want!r}")
print(json.dumps(c, indent=1))
sys.exit(1 if bad else 0)
PY

rc=0
"$cmbcp" --count 8 "$src:1" "$fab:1" >/tmp/refused 2>&1 || rc=$?
[ "$rc" = 4 ] || fail "cmbcp to $fab exited $rc, not 4: $(cat /tmp/refused)"
grep -q "is an nvme-loop controller" /tmp/refused || fail "the refusal does not name nvme-loop: $(cat /tmp/refused)"
dd if=/dev/urandom of="/dev/${src}n1" bs=1M count=1 oflag=direct status=none
"$cmbcp" --count 2048 --allow-bounce "$src:1" "$fab:1" || fail "the bounce copy to $fab failed"
cmp -n 1048576 "/dev/${src}n1" "/dev/${fab}n1" || fail "the loop namespace differs from src"
echo 3 >/proc/sys/vm/drop_caches
cmp -n 1048576 "/dev/${src}n1" "/dev/${dst}n1" || fail "dst (behind the loop) differs from src"
echo "fabric_loop_test: PASS"
