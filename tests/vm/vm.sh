#!/usr/bin/env bash
# The VM testbed runner: boots a named topology of emulated NVMe devices under
# QEMU (TCG) with the cmb test kernel, runs one command inside (the host's
# root filesystem is shared read-only, so binaries built here run there),
# and exits with the command's status.
#
#   tests/vm/vm.sh --topology switch -- build/tools/cmbinfo -v
#   tests/vm/vm.sh --topology rc --out /tmp/rc-run -- sh -c 'cmbinfo; dmesg | tail'
#
# Kept in --out (default: a new directory under /tmp): console.log, dmesg.txt,
# trace.log (QEMU's pci_nvme_map_addr DMA trace, with --trace), rc.
# Topologies: switch rc split lba4k iommu zen stock (see docs/testbed.md).
# --hotplug: PCIe native hotplug (pciehp) instead of ACPI's, and a QMP monitor;
# the guest asks for `device_del ID` by writing ID to $CMB_VM_OUT/qmp-request
# (tests/vm/qmp_watch.py relays it). Device ids: c_cmb, c_src, c_dst.
# Fails loudly (exit 125) when the guest does not boot or times out.
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "vm.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
here=$(cd "$(dirname "$0")" && pwd)
topology=switch kernel_kind=p2pdma timeout=600 out="" trace=0 hotplug=0 disk_mb=2048 mem=2G
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while (($#)); do
  case "$1" in
    --topology) topology=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --trace) trace=1; shift ;;
    --hotplug) hotplug=1; shift ;;
    --disk-mb) disk_mb=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    -h|--help) usage ;;
    --) shift; break ;;
    *) echo "vm.sh: unknown option $1" >&2; usage ;;
  esac
done
(($#)) || { echo "vm.sh: no command given" >&2; usage; }
[[ $topology == stock ]] && kernel_kind=stock

die() { echo "vm.sh: $*" >&2; exit 125; }
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run scripts/deps.sh"
cache=${CMB_CACHE:-/var/cache/cmb}

if [[ $kernel_kind == stock ]]; then
  kernel=$("$here/kernel/build-kernel.sh" --stock)
else
  kernel=$("$here/kernel/build-kernel.sh")
fi

# The initramfs: busybox and init.sh (plus, for the stock kernel, the modules
# it needs, which Debian builds as modules).
initrd_key=$( (cat "$here/init.sh" "$0"; echo "$kernel_kind") | sha256sum | cut -c1-16)
initrd="$cache/initrd-$initrd_key.cgz"
if [[ ! -s $initrd ]]; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp"/{bin,proc,sys,dev,host,lib/modules}
  cp /bin/busybox "$tmp/bin/busybox"
  cp "$here/init.sh" "$tmp/init"
  chmod +x "$tmp/init"
  if [[ $kernel_kind == stock ]]; then
    # Debian builds 9p and nvme as (xz-compressed) modules; busybox insmod
    # wants them plain, loaded dependencies first.
    mods=(netfs 9pnet 9pnet_virtio 9p nvme-auth nvme-core nvme)
    for m in "${mods[@]}"; do
      f=$(find "$cache/stock/modules" -name "$m.ko*" | head -n1)
      [[ -n $f ]] || die "stock kernel module $m not found under $cache/stock/modules"
      xz -dc "$f" >"$tmp/lib/modules/$m.ko"
    done
    sed -i "s|^mount -t devtmpfs devtmpfs /dev\$|&\nfor m in ${mods[*]}; do insmod /lib/modules/\$m.ko; done|" "$tmp/init"
    # As on an installed Debian system, /boot holds the kernel's config.
    mkdir -p "$tmp/boot"
    cp "$cache/stock/config" "$tmp/boot/config-$(ls "$cache/stock/modules")"
    sed -i "s|^mkdir -p /host/dev/shm /host/dev/pts\$|mount --bind /boot /host/boot\n&|" "$tmp/init"
  fi
  (cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$tmp"
fi

if [[ -z $out ]]; then out=$(mktemp -d /tmp/cmb-vm.XXXXXX); fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/rc" "$out/dmesg.txt" "$out/console.log" "$out/trace.log" "$out"/qmp*
disks="$out/disks"
mkdir -p "$disks"

# The job: the command, in the caller's directory and environment subset.
{
  echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  echo "export HOME=/root TERM=dumb CMB_TOPOLOGY=$topology CMB_VM_OUT=$out"
  for v in $(compgen -e); do
    case $v in
      CMB_TOPOLOGY|CMB_VM_OUT|CMB_CACHE) ;;
      CMB_*|GTEST_*|ASAN_*|UBSAN_*|LSAN_*) printf 'export %s=%q\n' "$v" "${!v}" ;;
    esac
  done
  printf 'cd %q || exit 126\n' "$PWD"
  printf '%q ' "$@"; echo
} >"$out/job.sh"

qemu=(qemu-system-x86_64 -machine q35 -m "$mem" -smp 2 -nographic -no-reboot -net none
      -fw_cfg name=etc/sercon-port,string=0
      -kernel "$kernel" -initrd "$initrd"
      -virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap"
      -virtfs "local,path=$out,mount_tag=out,security_model=none,multidevs=remap")
append="console=ttyS0 panic=-1 quiet loglevel=4 cmb.out=$out"
# Host directories under /tmp the job needs: the guest mounts its own tmpfs there.
keep=()
for p in "$PWD" "$@"; do
  if [[ $p == /tmp/?* ]]; then
    p=${p#/tmp/}
    keep+=("/tmp/${p%%/*}")
  fi
done
if ((${#keep[@]})); then append+=" cmb.keep=$(printf '%s\n' "${keep[@]}" | sort -u | paste -sd,)"; fi

disk() {  # disk NAME -> drive id
  truncate -s "${disk_mb}M" "$disks/$1.img"
  qemu+=(-drive "file=$disks/$1.img,if=none,id=d_$1,format=raw,cache=unsafe")
}
nvme() {  # nvme NAME BUS [extra device options] [-- ns options]
  local name=$1 bus=$2; shift 2
  disk "$name"
  qemu+=(-device "nvme,id=c_$name,serial=$name,bus=$bus${1:+,$1}")
  qemu+=(-device "nvme-ns,drive=d_$name,bus=c_$name,nsid=1${2:+,$2}")
}
root_port() { qemu+=(-device "pcie-root-port,id=$1,chassis=$2,slot=$2,bus=pcie.0"); }
switch() {  # switch NAME ROOTPORT CHASSIS NDOWN
  local name=$1 rp=$2 ch=$3 n=$4 i
  qemu+=(-device "x3130-upstream,id=${name}u,bus=$rp")
  for ((i = 0; i < n; i++)); do
    qemu+=(-device "xio3130-downstream,id=${name}d$i,bus=${name}u,chassis=$((ch + i)),slot=$((ch + i))")
  done
}
cmb="cmb_size_mb=64"

case $topology in
  switch|stock|iommu)
    root_port rp0 1; switch sw rp0 10 3
    nvme cmb swd0 "$cmb"; nvme src swd1; nvme dst swd2 ;;
  lba4k)
    root_port rp0 1; switch sw rp0 10 3
    nvme cmb swd0 "$cmb"; nvme src swd1; nvme dst swd2 "" "logical_block_size=4096,physical_block_size=4096" ;;
  rc|zen)
    root_port rp0 1; root_port rp1 2; root_port rp2 3
    nvme cmb rp0 "$cmb"; nvme src rp1; nvme dst rp2 ;;
  split)
    root_port rp0 1; root_port rp1 2; switch sa rp0 10 2; switch sb rp1 20 1
    nvme cmb sad0 "$cmb"; nvme src sad1; nvme dst sbd0 ;;
  *) die "unknown topology '$topology' (switch rc split lba4k iommu zen stock)" ;;
esac
case $topology in
  zen) qemu+=(-cpu EPYC) ;;
  iommu)
    qemu[2]="q35,kernel-irqchip=split"
    qemu+=(-device "intel-iommu,intremap=on")
    append+=" intel_iommu=on" ;;
esac
((trace)) && qemu+=(-trace "pci_nvme_map_addr" -D "$out/trace.log")
if ((hotplug)); then
  # QEMU's q35 default (ACPI hotplug) never lets the guest release the device;
  # with it off, the guest's pciehp handles the attention button.
  qemu+=(-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off -qmp "unix:$out/qmp.sock,server=on,wait=off")
  "$here/qmp_watch.py" "$out/qmp.sock" "$out" 2>>"$out/qmp.log" &
  watcher=$!
  trap 'kill "$watcher" 2>/dev/null' EXIT
fi
qemu+=(-append "$append")

echo "vm.sh: booting '$topology' ($(basename "$kernel")), output in $out" >&2
set +e
timeout --foreground -k 10 "$timeout" "${qemu[@]}" </dev/null 2>&1 | tee "$out/console.log" | grep -v -e "^cmb-vm: guest up" -e "fw_cfg item names should be prefixed"
qrc=${PIPESTATUS[0]}
set -e
rm -rf "$disks"
if [[ ! -s "$out/rc" ]]; then
  # Tell a guest that never reached its job (a boot failure: the testbed's
  # fault) from one that died or hung while running it (the test's).
  tail -n 30 "$out/console.log" >&2
  if ! grep -q '^cmb-vm: guest up' "$out/console.log"; then
    die "BOOT FAILURE: the guest never reached its job (qemu exit $qrc; console: $out/console.log)"
  fi
  if ((qrc == 124)); then die "the job timed out after ${timeout}s (console: $out/console.log)"; fi
  die "the guest died while running its job (qemu exit $qrc; console: $out/console.log)"
fi
exit "$(cat "$out/rc")"
