#!/usr/bin/env bash
# Inside the VM (fanout topology: cmb, src, dst, dst2, dst3 behind one
# switch; --hotplug): Debian's systemd-udevd with cmb's rules
# (udev/70-cmb.rules.in, rendered for a numeric group and an access list in
# /tmp, since the testbed's /etc is the host's, read-only), then the least
# privilege they promise, tried by a member of the group and by an outsider:
#  1. only listed namespaces that are not in use get the group: listed src and
#     dst do; listed dst2, with a mounted ext4, does not, and a member's
#     cmbcp --force into it fails with the file system intact; unlisted cmb
#     and dst3 do not; no CMB's allocate does (cmb is unlisted); a kernel name
#     in the list is refused with a warning naming file and line; the member
#     cannot open dst2's node directly either;
#  2. listing cmb's controller (pci=) and re-triggering grants its allocate:
#     the member copies src -> dst through the CMB;
#  3. a granted namespace mounted afterwards: the member's cmbcp refuses it,
#     and with --force still refuses (exit 4, CAP_SYS_ADMIN); --verify-only (reads only) needs no override; the file
#     system is intact; a re-trigger then takes the node away, and unmounting
#     plus a re-trigger gives it back;
#  4. removing dst's entry and re-triggering takes its node away; a cmbinfo
#     that fails grants nothing;
#  5. an outsider is refused with the cause and the fix;
#  6. a controller hot-added through QEMU's monitor, listed by serial in
#     advance, gets its node and allocate from the live uevents alone.
#
#   udev_test.sh RULES_TEMPLATE CMBINFO CMBCP
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "udev_test.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
template=$1 cmbinfo=$2 cmbcp=$3
here=$(cd "$(dirname "$0")" && pwd)
gid=4242 uid=4343
list=/tmp/cmb-devices
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
member=(setpriv --reuid="$uid" --regid="$uid" --groups="$gid" --inh-caps=-all --bounding-set=-all
        env HOME=/tmp LD_LIBRARY_PATH="$stage")
outsider=(setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all --bounding-set=-all
          env HOME=/tmp LD_LIBRARY_PATH="$stage")

cmb=$("$here/by-serial" cmb) src=$("$here/by-serial" src) dst=$("$here/by-serial" dst)
dst2=$("$here/by-serial" dst2) dst3=$("$here/by-serial" dst3)
cmb_bdf=$("$here/by-serial" --bdf cmb)
ng() { echo "/dev/ng${1#nvme}n1"; }
owner() { stat -c %g:%a "$1"; }
want() {  # want PATH GID:MODE WHY
  [[ $(owner "$1") == "$2" ]] || fail "$1 is $(owner "$1"), want $2 ($3)"
}
grant_why() { udevadm info "$1" | sed -n 's/^E: CMB_GRANT_WHY=//p'; }
apply() {
  udevadm trigger --action=change --subsystem-match=nvme-generic --subsystem-match=pci
  udevadm settle --timeout=60
}
# runs AS EXPECTED_RC OUTFILE -- COMMAND...: the command's status must be EXPECTED_RC.
runs() {
  local who=$1 want_rc=$2 outf=$3 rc=0
  shift 4
  if [[ $who == member ]]; then "${member[@]}" "$@" >"$outf" 2>&1 || rc=$?
  else "${outsider[@]}" "$@" >"$outf" 2>&1 || rc=$?; fi
  [[ $rc == "$want_rc" ]] || fail "$who: $* exited $rc, want $want_rc: $(cat "$outf")"
}
fs_intact() {  # fs_intact DEV MOUNTPOINT SUM
  [[ $(md5sum <"$2/data" | cut -d' ' -f1) == "$3" ]] || fail "$2/data changed"
  umount "$2"
  e2fsck -fn "$1" >/tmp/fsck.txt 2>&1 || fail "e2fsck $1 after the member's attempt: $(cat /tmp/fsck.txt)"
}
mkfs_mount() {  # mkfs_mount DEV MOUNTPOINT -> prints the data file's md5
  mkfs.ext4 -q -F "$1" 32M
  mkdir -p "$2"
  mount -t ext4 "$1" "$2"
  head -c 1048576 /dev/urandom >"$2/data"
  sync
  md5sum <"$2/data" | cut -d' ' -f1
}

# dst2 holds a mounted ext4 before udev sees anything.
sum2=$(mkfs_mount "/dev/${dst2}n1" /tmp/mnt-dst2)
dd if=/dev/urandom of="/dev/${src}n1" bs=1M count=4 oflag=direct status=none
cat >"$list" <<EOF
# udev_test: src by serial, dst by wwid, dst2 by serial (mounted), and a kernel name
serial=src
wwid=$(cat "/sys/block/${dst}n1/wwid")
serial=dst2
${dst3}n1
EOF

mkdir -p /run/udev/rules.d
sed -e "s/@CMB_GROUP@/$gid/g" -e "s|@CMAKE_INSTALL_FULL_BINDIR@|$(dirname "$cmbinfo")|g" \
    -e "s|@CMB_DEVICES_FILE@|$list|g" "$template" >/run/udev/rules.d/70-cmb.rules
# systemd-udevd refuses to work in a chroot unless told (the testbed chroots into the host's /).
export SYSTEMD_IGNORE_CHROOT=1
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add --subsystem-match=nvme-generic --subsystem-match=nvme --subsystem-match=pci
udevadm settle --timeout=60

# 1. Only what is listed and not in use.
want "$(ng "$src")" "$gid:660" "listed by serial"
want "$(ng "$dst")" "$gid:660" "listed by wwid"
want "$(ng "$dst2")" "0:600" "listed, but a mounted ext4"
want "$(ng "$cmb")" "0:600" "not listed"
want "$(ng "$dst3")" "0:600" "listed only by its kernel name, which is refused"
n=0
for a in /sys/bus/pci/devices/*/p2pmem/allocate; do want "$a" "0:600" "no CMB's controller is listed"; n=$((n + 1)); done
((n > 0)) || fail "no p2pmem/allocate found"
[[ $(grant_why "$(ng "$dst2")") == "in use (mounted on /tmp/mnt-dst2), though listed as serial=dst2 ($list line 4)" ]] ||
  fail "dst2's CMB_GRANT_WHY: $(grant_why "$(ng "$dst2")")"
[[ $(grant_why "$(ng "$cmb")") == "not listed in $list" ]] || fail "cmb's CMB_GRANT_WHY: $(grant_why "$(ng "$cmb")")"
udevadm info "$(ng "$src")" | grep -qx "E: CMB_GRANT=yes" || fail "src's node lacks CMB_GRANT=yes"
# IMPORT{program} on the PCI function: the CMB's properties, as udevadm info shows them.
udevadm info "/sys/bus/pci/devices/$cmb_bdf" >/tmp/udev-info.txt
grep -E '^E: CMB_' /tmp/udev-info.txt
for p in "CMB_NVME=$cmb" CMB_SIZE=67108864 CMB_P2PMEM=published CMB_GRANT=no \
         "CMB_GRANT_WHY=neither $cmb nor a namespace of it is listed in $list"; do
  grep -qx "E: $p" /tmp/udev-info.txt || fail "udevadm info of $cmb_bdf lacks $p"
done
clients=$(sed -n 's/^E: CMB_P2P_CLIENTS=//p' /tmp/udev-info.txt)
for s in src dst dst2 dst3; do
  b=$("$here/by-serial" --bdf "$s")
  [[ " $clients " == *" $b "* ]] || fail "CMB_P2P_CLIENTS='$clients' lacks $s ($b), which is on the same switch"
done
"${member[@]}" "$cmbinfo" --devices "$list" >/tmp/udev-cmbinfo.txt 2>&1 || fail "cmbinfo as a member: $(cat /tmp/udev-cmbinfo.txt)"
grep -q "$list:5: '${dst3}n1' names a device by its kernel name" /tmp/udev-cmbinfo.txt ||
  fail "cmbinfo does not warn of the kernel name on line 5: $(cat /tmp/udev-cmbinfo.txt)"
grep -q "group cmb: no: in use (mounted on /tmp/mnt-dst2)" /tmp/udev-cmbinfo.txt ||
  fail "cmbinfo does not say why dst2 is not granted: $(cat /tmp/udev-cmbinfo.txt)"
echo "udev_test: 1. src and dst granted; dst2 (mounted), cmb and dst3 (unlisted) and every allocate not"
# The member cannot reach the CMB: the copy fails before writing.
dd if=/dev/zero of="/dev/${dst}n1" bs=1M count=4 oflag=direct status=none
runs member 4 /tmp/udev-nocmb.txt -- "$cmbcp" "${src}:1" "${dst}:1" --bytes 4M --no-progress
grep -q "p2pmem/allocate: permission denied" /tmp/udev-nocmb.txt || fail "the member's error: $(cat /tmp/udev-nocmb.txt)"
cmp -s -n 4194304 /dev/zero "/dev/${dst}n1" || fail "the refused copy wrote dst"
runs member 4 /tmp/udev-dst2.txt -- "$cmbcp" "${src}:1" "${dst2}:1" --bytes 1M --force --no-progress --allow-bounce
grep -q "is in use (mounted on /tmp/mnt-dst2): overriding that safety check needs CAP_SYS_ADMIN" /tmp/udev-dst2.txt ||
  fail "the member's --force into dst2: $(cat /tmp/udev-dst2.txt)"
# Nor by opening its node directly: it is root's.
if "${member[@]}" dd if=/dev/zero of="$(ng "$dst2")" bs=4096 count=1 status=none 2>/tmp/udev-dd.txt; then
  fail "the member opened $(ng "$dst2") for writing"
fi
grep -q "Permission denied" /tmp/udev-dd.txt || fail "the member's open of $(ng "$dst2"): $(cat /tmp/udev-dd.txt)"
fs_intact "/dev/${dst2}n1" /tmp/mnt-dst2 "$sum2"
runs member 4 /tmp/udev-dst3.txt -- "$cmbcp" "${src}:1" "${dst3}:1" --bytes 1M --no-progress --allow-bounce
grep -q "cannot open $(ng "$dst3") for writing: permission denied" /tmp/udev-dst3.txt ||
  fail "the member's copy to unlisted dst3: $(cat /tmp/udev-dst3.txt)"
echo "udev_test: 1. the member cannot allocate from the CMB, nor write dst2 with --force (ext4 intact), nor dst3"

# 2. List the CMB's controller (and, for step 6, a controller still to come).
printf 'pci=%s\nserial=new\n' "$cmb_bdf" >>"$list"
# The controller's own event decides its CMB (the rule for a serial= or a
# namespace not yet known at the PCI "bind"): alone, it grants the allocate.
udevadm trigger --action=change --subsystem-match=nvme
udevadm settle --timeout=60
want "/sys/bus/pci/devices/$cmb_bdf/p2pmem/allocate" "$gid:660" "its controller is listed; the nvme controller's event"
want "$(ng "$cmb")" "0:600" "no event on it yet"
apply
want "/sys/bus/pci/devices/$cmb_bdf/p2pmem/allocate" "$gid:660" "its controller is listed by pci="
want "$(ng "$cmb")" "$gid:660" "its controller is listed by pci="
udevadm info "/sys/bus/pci/devices/$cmb_bdf" | grep -qx "E: CMB_GRANT_WHY=listed as pci=$cmb_bdf ($list line 6)" ||
  fail "the CMB's CMB_GRANT_WHY: $(udevadm info "/sys/bus/pci/devices/$cmb_bdf" | grep CMB_GRANT)"
runs member 0 /tmp/udev-cp.txt -- "$cmbcp" "${src}:1" "${dst}:1" --bytes 4M --no-progress -v
grep -q "^plan: p2p .* through the CMB of $cmb_bdf" /tmp/udev-cp.txt || fail "the copy did not go through the CMB: $(cat /tmp/udev-cp.txt)"
# The member cannot open the block device (group disk): no page-cache drop,
# no exclusive hold; the copy says both, and root drops the cache to compare.
grep -q "readers of /dev/${dst}n1 may see its old data" /tmp/udev-cp.txt ||
  fail "the member's copy does not warn that dst's page cache was not dropped: $(cat /tmp/udev-cp.txt)"
grep -q "cannot hold /dev/${dst}n1 exclusively: no read permission" /tmp/udev-cp.txt ||
  fail "the member's copy does not say it could not hold /dev/${dst}n1: $(cat /tmp/udev-cp.txt)"
echo 1 >/proc/sys/vm/drop_caches
cmp -n 4194304 "/dev/${src}n1" "/dev/${dst}n1" || fail "the member's copy differs"
echo "udev_test: 2. pci=$cmb_bdf listed: the member copied 4 MiB src -> dst through the CMB: $(tail -1 /tmp/udev-cp.txt)"
# The block devices stay root's and group disk's: the member's copy went
# through passthrough, and asking for the block-device path is refused before
# writing, naming passthrough as the way in.
grep -q "^plan: p2p .*, path passthrough$" /tmp/udev-cp.txt || fail "the member's plan path: $(cat /tmp/udev-cp.txt)"
dd if="/dev/${dst}n1" of=/tmp/udev-dst-before bs=1M count=8 iflag=direct status=none
runs member 4 /tmp/udev-block.txt -- "$cmbcp" "${src}:1" "${dst}:1" --src-lba 16384 --bytes 4M --path block --no-progress
grep -q "cannot open /dev/${dst}n1 for writing: permission denied" /tmp/udev-block.txt ||
  fail "the member's --path block: $(cat /tmp/udev-block.txt)"
grep -q "Fix: pass --path with passthrough" /tmp/udev-block.txt || fail "no fix named: $(cat /tmp/udev-block.txt)"
dd if="/dev/${dst}n1" of=/tmp/udev-dst-after bs=1M count=8 iflag=direct status=none
cmp /tmp/udev-dst-before /tmp/udev-dst-after || fail "the refused --path block changed /dev/${dst}n1"
echo "udev_test: 2b. the member's --path block was refused (exit 4) before writing: $(head -1 /tmp/udev-block.txt)"

# 3. dst, granted, gets a file system after the grant: udev sees no event, so
# the node stays the group's until the next trigger. cmbcp refuses, and
# --force without CAP_SYS_ADMIN overrides nothing.
sum=$(mkfs_mount "/dev/${dst}n1" /tmp/mnt-dst)
want "$(ng "$dst")" "$gid:660" "granted before the mount; no uevent since"
runs member 4 /tmp/udev-mounted.txt -- "$cmbcp" "${src}:1" "${dst}:1" --bytes 1M --no-progress
grep -q "is in use (mounted on /tmp/mnt-dst)" /tmp/udev-mounted.txt || fail "unforced: $(cat /tmp/udev-mounted.txt)"
runs member 4 /tmp/udev-forced.txt -- "$cmbcp" "${src}:1" "${dst}:1" --bytes 1M --no-progress --force
grep -q "needs CAP_SYS_ADMIN" /tmp/udev-forced.txt || fail "--force as a member: $(cat /tmp/udev-forced.txt)"
# (unshare -r cannot run in the testbed's chroot: the kernel refuses a user
# namespace to a chrooted process. tests/unit/access_list_test.cc checks that
# CAP_SYS_ADMIN of another user namespace does not count.)
# Comparing writes nothing: --verify-only needs no override.
runs member 5 /tmp/udev-verify.txt -- "$cmbcp" "${src}:1" "${dst}:1" --bytes 1M --no-progress --verify-only
apply
want "$(ng "$dst")" "0:600" "mounted when the trigger ran"
fs_intact "/dev/${dst}n1" /tmp/mnt-dst "$sum"
apply
want "$(ng "$dst")" "$gid:660" "unmounted again"
echo "udev_test: 3. mounted after its grant: cmbcp refused, --force refused (exit 4, CAP_SYS_ADMIN), ext4 intact; a trigger took the node away and gave it back after umount"

# 4. Removing the entry takes the access away.
sed -i '/^wwid=/d' "$list"
apply
want "$(ng "$dst")" "0:600" "its entry was removed"
runs member 4 /tmp/udev-removed.txt -- "$cmbcp" "${src}:1" "${dst}:1" --bytes 1M --no-progress
grep -q "cannot open $(ng "$dst") for writing: permission denied" /tmp/udev-removed.txt ||
  fail "after removing dst's entry: $(cat /tmp/udev-removed.txt)"
echo "udev_test: 4. dst's entry removed: its node is root's again and the member's copy is refused"

# A cmbinfo that fails grants nothing: src, granted so far, goes back to root.
mv "$cmbinfo" "$cmbinfo.real"
printf '#!/bin/sh\nexit 1\n' >"$cmbinfo"
chmod 755 "$cmbinfo"
apply
want "$(ng "$src")" "0:600" "cmbinfo failed"
want "/sys/bus/pci/devices/$cmb_bdf/p2pmem/allocate" "0:600" "cmbinfo failed"
mv "$cmbinfo.real" "$cmbinfo"
apply
want "$(ng "$src")" "$gid:660" "cmbinfo works again"
echo "udev_test: 4. a failing cmbinfo granted nothing (src's node and the CMB back to root), and a working one again"

# 5. Outside the group: refused, with the cause and the fix.
runs outsider 4 /tmp/udev-out.txt -- "$cmbcp" "${src}:1" "${dst3}:1" --bytes 4M --no-progress
msg=$(cat /tmp/udev-out.txt)
[[ $msg == *"permission denied"* && $msg == *"/etc/cmb/devices"* && $msg == *"join the group"* ]] ||
  fail "the outsider's error does not name the cause and fix: $msg"
echo "udev_test: 5. outside the group, cmbcp exits 4: $msg"

# 6. Hot-add: the live uevents, not a trigger. A new controller with a CMB
# (serial "new", listed in step 2) arrives on the switch port the CMB
# provider is removed from. At its PCI "bind" uevent the nvme driver has not
# read its serial yet; the controller's "connected" and the namespace's
# uevents decide again once it has.
"$here/qmp" c_cmb >/dev/null || fail "device_del c_cmb: $(cat "$CMB_VM_OUT/qmp-reply")"
for ((i = 0; i < 30; i++)); do [[ -e /sys/bus/pci/devices/$cmb_bdf ]] || break; sleep 1; done
[[ ! -e /sys/bus/pci/devices/$cmb_bdf ]] || fail "$cmb_bdf still present 30 s after device_del"
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
want "$a" "$gid:660" "hot-added, listed by serial"
udevadm info "/sys/bus/pci/devices/$new_bdf" | grep -qx "E: CMB_SIZE=67108864" ||
  fail "udevadm info of the hot-added $new_bdf lacks CMB_SIZE"
echo "udev_test: 6. hot-added $new ($new_bdf), listed by serial: udevd made $a group $gid, mode 0660, on the live uevents"
