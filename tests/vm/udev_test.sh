#!/usr/bin/env bash
# Inside the VM (switch topology): Debian's systemd-udevd with cmb's rules
# (udev/70-cmb.rules.in, rendered for a numeric group, since the testbed's
# /etc is the host's, read-only), a coldplug trigger, then:
#  - /dev/ngXnY and every published p2pmem/allocate belong to the group, mode 0660;
#  - a user in the group runs cmbinfo and a cmbcp copy (checked with cmp);
#  - a user outside it gets a permission error naming the group and the rules file;
#  - udevadm info shows the CMB's properties (IMPORT{program} of cmbinfo --udev);
#  - a controller hot-added through QEMU's monitor (vm.sh --hotplug) gets the
#    same, from the live uevents.
#
#   udev_test.sh RULES_TEMPLATE CMBINFO CMBCP
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "udev_test.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
template=$1 cmbinfo=$2 cmbcp=$3
here=$(cd "$(dirname "$0")" && pwd)
gid=4242 uid=4343
fail() { echo "udev_test: FAIL: $*" >&2; exit 1; }

# The test user must be able to run the tools wherever the clone lives (a
# build tree under /root, mode 0700, is out of its reach): stage them, and the
# build tree's shared libraries they load, in the guest's own /tmp.
stage=/tmp/cmb-udev-bin
mkdir -p "$stage"
cp "$cmbinfo" "$cmbcp" "$stage/"
ldd "$cmbinfo" "$cmbcp" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u | while read -r lib; do
  case $lib in /lib/*|/usr/*) ;; *) cp "$lib" "$stage/" ;; esac
done
chmod -R a+rX "$stage"
cmbinfo=$stage/$(basename "$cmbinfo") cmbcp=$stage/$(basename "$cmbcp")

mkdir -p /run/udev/rules.d
sed -e "s/@CMB_GROUP@/$gid/g" -e "s|@CMAKE_INSTALL_FULL_BINDIR@|$(dirname "$cmbinfo")|g" "$template" \
  >/run/udev/rules.d/70-cmb.rules
# systemd-udevd refuses to work in a chroot unless told (the testbed chroots into the host's /).
export SYSTEMD_IGNORE_CHROOT=1
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add --subsystem-match=nvme-generic --subsystem-match=pci
udevadm settle --timeout=60

for ng in /dev/ng*n*; do
  [[ $(stat -c %g:%a "$ng") == "$gid:660" ]] || fail "$ng is $(stat -c %g:%a "$ng"), want $gid:660"
done
n=0
for a in /sys/bus/pci/devices/*/p2pmem/allocate; do
  [[ $(stat -c %g:%a "$a") == "$gid:660" ]] || fail "$a is $(stat -c %g:%a "$a"), want $gid:660"
  n=$((n + 1))
done
((n > 0)) || fail "no p2pmem/allocate found"
echo "udev_test: $(ls /dev/ng*n* | wc -l) generic devices and $n p2pmem/allocate now group $gid, mode 0660"

# IMPORT{program}: the CMB's properties, as udevadm info shows them.
prov=$("$here/by-serial" cmb)
prov_bdf=$("$here/by-serial" --bdf cmb)
udevadm info "/sys/bus/pci/devices/$prov_bdf" >/tmp/udev-info.txt
grep -E '^E: CMB_' /tmp/udev-info.txt
grep -qx "E: CMB_NVME=$prov" /tmp/udev-info.txt || fail "udevadm info lacks CMB_NVME=$prov"
grep -qx "E: CMB_SIZE=67108864" /tmp/udev-info.txt || fail "udevadm info lacks CMB_SIZE=67108864"
grep -qx "E: CMB_P2PMEM=published" /tmp/udev-info.txt || fail "udevadm info lacks CMB_P2PMEM=published"
clients=$(sed -n 's/^E: CMB_P2P_CLIENTS=//p' /tmp/udev-info.txt)
for s in src dst; do
  b=$("$here/by-serial" --bdf "$s")
  [[ " $clients " == *" $b "* ]] || fail "CMB_P2P_CLIENTS='$clients' lacks $s ($b), which is on the same switch"
done

src=$("$here/by-serial" src) dst=$("$here/by-serial" dst)
dd if=/dev/urandom of="/dev/${src}n1" bs=1M count=4 oflag=direct status=none
member=(setpriv --reuid="$uid" --regid="$uid" --groups="$gid" --inh-caps=-all --bounding-set=-all
        env HOME=/tmp LD_LIBRARY_PATH="$stage")
outsider=(setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all --bounding-set=-all
          env HOME=/tmp LD_LIBRARY_PATH="$stage")

"${member[@]}" "$cmbinfo" >/tmp/udev-cmbinfo.txt || fail "cmbinfo as a group member: $(cat /tmp/udev-cmbinfo.txt)"
grep -q "p2pmem   published" /tmp/udev-cmbinfo.txt || fail "cmbinfo as a member sees no p2pmem"
if ! "${member[@]}" "$cmbcp" "${src}:1" "${dst}:1" --bytes 4M --no-progress -v >/tmp/udev-cp.txt 2>&1; then
  fail "cmbcp as a group member: $(cat /tmp/udev-cp.txt)"
fi
# The member cannot open the block device either, so the copy could not drop
# its page cache (udev's probe read the start of it at coldplug): it says so,
# and root drops it before comparing.
grep -q "readers of /dev/${dst}n1 may see its old data" /tmp/udev-cp.txt ||
  fail "the member's copy does not warn that dst's page cache was not dropped: $(cat /tmp/udev-cp.txt)"
echo 1 >/proc/sys/vm/drop_caches
cmp -n 4194304 "/dev/${src}n1" "/dev/${dst}n1" || fail "the member's copy differs"
# The member cannot open the block device (group disk) for the exclusive
# hold: the copy goes on, and says so.
grep -q "cannot hold /dev/${dst}n1 exclusively: no read permission" /tmp/udev-cp.txt ||
  fail "the member's copy does not say it could not hold /dev/${dst}n1: $(cat /tmp/udev-cp.txt)"
echo "udev_test: a member of group $gid ran cmbinfo and copied 4 MiB with cmbcp: $(tail -1 /tmp/udev-cp.txt)"

set +e
"${outsider[@]}" "$cmbcp" "${src}:1" "${dst}:1" --bytes 4M --no-progress >/tmp/udev-out.txt 2>&1
rc=$?
set -e
msg=$(cat /tmp/udev-out.txt)
[[ $rc == 4 ]] || fail "cmbcp outside the group exited $rc, want 4 (refused before writing)"
[[ $msg == *"permission denied"* && $msg == *"join the 'cmb' group"* && $msg == *70-cmb.rules* ]] ||
  fail "the outsider's error does not name the cause and fix: $msg"
echo "udev_test: outside the group, cmbcp exits $rc: $msg"

# Hot-add: the live uevents, not a trigger. A new controller with a CMB
# arrives on the switch port the CMB provider is removed from; udevd must give
# its p2pmem/allocate to the group by itself. The nvme driver creates p2pmem/
# while probing, before the "bind" uevent, so the rule finds it there.
"$here/qmp" c_cmb >/dev/null || fail "device_del c_cmb: $(cat "$CMB_VM_OUT/qmp-reply")"
for ((i = 0; i < 30; i++)); do [[ -e /sys/bus/pci/devices/$prov_bdf ]] || break; sleep 1; done
[[ ! -e /sys/bus/pci/devices/$prov_bdf ]] || fail "$prov_bdf still present 30 s after device_del"
# QEMU deletes the device only after the slot is powered off; a device_add
# before that is accepted but finds the slot empty ("Card not present").
for ((i = 0; i < 60; i++)); do
  "$here/qmp" '{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/c_cmb", "property": "type"}}' \
    >/dev/null 2>&1 || break
  sleep 0.5
done
((i < 60)) || fail "QEMU still has c_cmb 30 s after the guest let go of it"
"$here/qmp" '{"execute": "device_add", "arguments": {"driver": "nvme", "id": "c_new", "serial": "new", "bus": "swd0", "cmb_size_mb": 64}}' \
  >/dev/null || fail "device_add: $(cat "$CMB_VM_OUT/qmp-reply")"
new=""
for ((i = 0; i < 30; i++)); do new=$("$here/by-serial" new 2>/dev/null) && break; sleep 1; done
[[ -n $new ]] || fail "the hot-added controller (serial new) did not appear within 30 s"
udevadm settle --timeout=60
new_bdf=$("$here/by-serial" --bdf new)
a=/sys/bus/pci/devices/$new_bdf/p2pmem/allocate
[[ -e $a ]] || fail "the hot-added $new has no $a"
[[ $(stat -c %g:%a "$a") == "$gid:660" ]] || fail "hot-added $a is $(stat -c %g:%a "$a"), want $gid:660"
udevadm info "/sys/bus/pci/devices/$new_bdf" | grep -qx "E: CMB_SIZE=67108864" ||
  fail "udevadm info of the hot-added $new_bdf lacks CMB_SIZE"
echo "udev_test: hot-added $new ($new_bdf): udevd made $a group $gid, mode 0660, on the live uevent"
