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
# trace.log (QEMU's pci_nvme_map_addr DMA trace, with --trace; --trace-also
# 'pci_nvme_map_sgl,pci_nvme_err_*' adds events, e.g. to see SGL descriptors), rc.
# Topologies: switch rc split lba4k iommu zen stock shared owncmb fanout twocmb smallcmb (see docs/testbed.md).
# --nvme-poll-queues N: nvme loads with poll_queues=N, so namespaces can take
# polled completions (cmbcp --poll; queue/io_poll is 1).
# --hotplug: PCIe native hotplug (pciehp) instead of ACPI's, and a QMP monitor;
# the guest asks for `device_del ID` by writing ID to $CMB_VM_OUT/qmp-request
# (tests/vm/qmp_watch.py relays it). Device ids: c_cmb, c_src, c_dst.
# --kernel backports|lts|stock|bookworm (env CMB_KERNEL; the flag wins):
# backports, the default, is Debian's newest trixie-backports kernel package,
# unmodified (with P2PDMA); lts is the 6.12 test kernel built from
# linux-source-6.12 by tests/vm/kernel/build-kernel.sh; stock is Debian's
# trixie kernel (6.12, without P2PDMA), which the stock topology uses unless
# bookworm (Debian's 6.1, without P2PDMA or p2pmem/allocate) is asked for.
# --qemu backports|debian|ram (env CMB_QEMU): backports, the default, is
# bookworm-backports' QEMU 10, unpacked into the cache (tests/vm/qemu/), with
# concurrent 4 MiB bounce buffers per NVMe device; debian is the system's
# qemu-system-x86_64 (bookworm: 7.2); ram is the performance testbed, QEMU 10
# built with a RAM-backed CMB (tests/vm/qemu/build-ram-cmb.sh, bench/ only).
# --append ARGS: more kernel command line (module parameters of the modules
# the initramfs loads: nvme-core.multipath=N).
# --modules "nvmet nvme-loop": more kernel modules (and what they need),
# loaded at boot (Debian's kernels; not the lts one, which has none).
# --net listen:PORT:IP/LEN | connect:PORT:IP/LEN: a virtio-net NIC on a QEMU
# socket netdev that listens on (or connects to) 127.0.0.1:PORT, so two guests
# share one virtual link and nothing leaves the machine; the guest's interface
# gets IP/LEN (e.g. 10.99.0.1/24), and the MAC follows the IP's last byte.
# Start the listening guest first (tests/vm/twonode.sh does both).
# Fails loudly (exit 125) when the guest does not boot or times out.
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap 'echo "vm.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
here=$(cd "$(dirname "$0")" && pwd)
topology=switch kernel_kind=${CMB_KERNEL:-backports} qemu_kind=${CMB_QEMU:-backports} timeout=600 poll_queues=0 out="" trace=0 trace_also="" hotplug=0 disk_mb=2048 mem=2G extra_modules="" extra_append="" net=""
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
while (($#)); do
  case "$1" in
    --topology) topology=$2; shift 2 ;;
    --kernel) kernel_kind=$2; shift 2 ;;
    --qemu) qemu_kind=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --trace) trace=1; shift ;;
    --trace-also) trace=1 trace_also=$2; shift 2 ;;
    --hotplug) hotplug=1; shift ;;
    --disk-mb) disk_mb=$2; shift 2 ;;
    --modules) extra_modules=$2; shift 2 ;;
    --append) extra_append+=" $2"; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --net) net=$2; shift 2 ;;
    --nvme-poll-queues) [[ $2 =~ ^[0-9]+$ ]] || { echo "vm.sh: --nvme-poll-queues wants a number, not '$2'" >&2; exit 2; }; poll_queues=$2; shift 2 ;;
    -h|--help) usage ;;
    --) shift; break ;;
    *) echo "vm.sh: unknown option $1" >&2; usage ;;
  esac
done
(($#)) || { echo "vm.sh: no command given" >&2; usage; }
[[ $topology == stock && $kernel_kind != bookworm ]] && kernel_kind=stock
if [[ -n $net ]]; then
  [[ $net =~ ^(listen|connect):([0-9]+):(10\.[0-9]+\.[0-9]+\.([0-9]+))/([0-9]+)$ ]] ||
    { echo "vm.sh: --net wants listen:PORT:IP/LEN or connect:PORT:IP/LEN with a 10.x.y.z address, not '$net'" >&2; exit 2; }
  net_mode=${BASH_REMATCH[1]} net_port=${BASH_REMATCH[2]} net_ip=${BASH_REMATCH[3]}/${BASH_REMATCH[5]} net_last=${BASH_REMATCH[4]}
  ((net_port > 0 && net_port < 65536 && net_last < 256)) || { echo "vm.sh: --net: bad port or address in '$net'" >&2; exit 2; }
fi

die() { echo "vm.sh: $*" >&2; exit 125; }
cache=${CMB_CACHE:-/var/cache/cmb}

case $kernel_kind in
  lts) kernel=$("$here/kernel/build-kernel.sh") || die "build-kernel.sh (the lts kernel) failed" ;;
  backports|stock|bookworm) kernel=$("$here/kernel/build-kernel.sh" "--$kernel_kind") || die "build-kernel.sh --$kernel_kind failed" ;;
  *) die "unknown --kernel '$kernel_kind' (backports lts stock bookworm)" ;;
esac
kver=$("$here/kernel/release.sh" "$kernel") || die "cannot read the release of $kernel"

case $qemu_kind in
  debian)
    command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run scripts/deps.sh"
    qemu_bin=qemu-system-x86_64 qemu_extra=() ;;
  backports)
    qemu_bin=$("$here/qemu/fetch-qemu.sh") || die "tests/vm/qemu/fetch-qemu.sh failed"
    # Unpacked, not installed: its firmware and modules are under its root.
    qemu_root=${qemu_bin%/usr/bin/qemu-system-x86_64}
    export QEMU_MODULE_DIR="$qemu_root/usr/lib/x86_64-linux-gnu/qemu"
    qemu_extra=(-L "$qemu_root/usr/share/qemu" -L "$qemu_root/usr/share/seabios") ;;
  ram)
    # The performance testbed: QEMU 10.0.2 built with a RAM-backed CMB
    # (tests/vm/qemu/build-ram-cmb.sh), so other devices' DMA maps the CMB
    # directly instead of 4 bytes per call on the main loop. Not modular and
    # without firmware: it uses the backports QEMU's -L directories.
    qemu_bin=$("$here/qemu/build-ram-cmb.sh") || die "tests/vm/qemu/build-ram-cmb.sh failed"
    bpo_bin=$("$here/qemu/fetch-qemu.sh") || die "tests/vm/qemu/fetch-qemu.sh failed"
    bpo_root=${bpo_bin%/usr/bin/qemu-system-x86_64}
    qemu_extra=(-L "$bpo_root/usr/share/qemu" -L "$bpo_root/usr/share/seabios") ;;
  *) die "unknown --qemu '$qemu_kind' (debian backports ram)" ;;
esac
qver=$("$qemu_bin" --version | sed -n 's/^QEMU emulator version \([0-9.]*\).*/\1/p')
[[ -n $qver ]] || die "cannot tell the version of $qemu_bin"
if [[ $(printf '%s\n' 9.2 "$qver" | sort -V | head -n1) == 9.2 ]]; then
  # 9.2+: another device's DMA into the CMB (an I/O region) is bounced
  # through a per-device buffer of this size (default 4 KiB), not one global
  # 4 KiB buffer (kmod-notes/README.md, "Hot removal").
  nvme_help=$("$qemu_bin" "${qemu_extra[@]}" -device nvme,help) || die "$qemu_bin -device nvme,help failed"
  grep -q 'x-max-bounce-buffer-size=' <<<"$nvme_help" || die "QEMU $qver has no nvme property x-max-bounce-buffer-size"
  qemu_extra+=(-global nvme.x-max-bounce-buffer-size=4M)
fi
# One TCG thread for every kernel. Debian's kernels patch their text while
# vCPUs run; under multi-threaded TCG that raced into an early "Oops: int3" in
# 1 boot of 10. The 6.12 LTS kernel on QEMU 10 once stalled in RCU for minutes
# ("rcu_sched kthread timer wakeup didn't happen") with a busy host; with one
# thread the vCPUs cannot starve each other's timers.
qemu_extra+=(-accel "tcg,thread=single")

# The initramfs: busybox and init.sh, plus, for Debian's kernels, the modules
# the testbed needs (Debian builds 9p and nvme as modules), dependencies
# first, as modinfo reads them from the kernel's own module tree.
mods=() mod_files=()
[[ -z $extra_modules || $kernel_kind != lts ]] || die "--modules: the lts test kernel has no modules"
if [[ $kernel_kind != lts ]]; then
  moddir="$(dirname "$kernel")/modules/$kver"
  [[ -d $moddir ]] || die "no modules for $kver in $moddir"
  add_module() {  # add_module NAME: NAME after its dependencies, once
    local m=$1 f deps d
    [[ " ${mods[*]} " == *" $m "* ]] && return 0
    f=$(find "$moddir" \( -name "$m.ko*" -o -name "${m//_/-}.ko*" -o -name "${m//-/_}.ko*" \) -print -quit)
    if [[ -z $f ]]; then
      grep -Eq "/(${m//_/-}|${m//-/_})\.ko\$" "$moddir/modules.builtin" && return 0
      die "kernel module $m (for $kver) is neither under $moddir nor built in"
    fi
    deps=$(modinfo -F depends "$f") || die "modinfo -F depends $f failed"
    for d in ${deps//,/ }; do add_module "$d"; done
    mods+=("$m") mod_files+=("$f")
  }
  # virtio_pci: a module in 6.1. ext4: the tests mount one on a destination to see it refused.
  for m in virtio_pci 9pnet_virtio 9p nvme ext4 $extra_modules; do add_module "$m"; done
  if [[ -n $net ]]; then add_module virtio_net; fi
fi
initrd_key=$( (cat "$here/init.sh" "$0"; echo "$kernel_kind $kernel $kver ${mods[*]}") | sha256sum | cut -c1-16)
initrd="$cache/initrd-$initrd_key.cgz"
if [[ ! -s $initrd ]]; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp"/{bin,proc,sys,dev,host,lib/modules}
  cp /bin/busybox "$tmp/bin/busybox"
  cp "$here/init.sh" "$tmp/init"
  chmod +x "$tmp/init"
  if ((${#mods[@]})); then
    # busybox insmod wants them plain.
    for i in "${!mods[@]}"; do
      case ${mod_files[i]} in
        *.ko.xz) xz -dc "${mod_files[i]}" >"$tmp/lib/modules/${mods[i]}.ko" ;;
        *.ko.zst) zstd -dqc "${mod_files[i]}" >"$tmp/lib/modules/${mods[i]}.ko" ;;
        *.ko) cp "${mod_files[i]}" "$tmp/lib/modules/${mods[i]}.ko" ;;
        *) die "cannot unpack kernel module ${mod_files[i]}" ;;
      esac
    done
    # Module parameters come from the kernel command line (nvme.poll_queues=2),
    # as modprobe takes them there; busybox insmod needs them as arguments.
    sed -i "s|^mount -t devtmpfs devtmpfs /dev\$|&\nfor m in ${mods[*]}; do insmod /lib/modules/\$m.ko \$(tr ' ' '\\\\n' </proc/cmdline \| sed -n \"s/^\$m\\\\.//p\"); done|" "$tmp/init"
    # As on an installed Debian system, /boot holds the kernel's config.
    mkdir -p "$tmp/boot"
    cp "$(dirname "$kernel")/config" "$tmp/boot/config-$kver"
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
  # Modules the initramfs leaves out (nvmet, nvme-loop) load from the kernel's tree.
  if [[ -n ${moddir:-} ]]; then printf 'export CMB_VM_MODULES=%q\n' "$moddir"; fi
  for v in $(compgen -e); do
    case $v in
      CMB_TOPOLOGY|CMB_VM_OUT|CMB_CACHE) ;;
      CMB_*|GTEST_*|ASAN_*|UBSAN_*|LSAN_*) printf 'export %s=%q\n' "$v" "${!v}" ;;
    esac
  done
  printf 'cd %q || exit 126\n' "$PWD"
  printf '%q ' "$@"; echo
} >"$out/job.sh"

qemu=("$qemu_bin" -machine q35 -m "$mem" -smp 2 -nographic -no-reboot -net none
      -fw_cfg "name=etc/sercon-port,string=0"
      -kernel "$kernel" -initrd "$initrd"
      -virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap"
      -virtfs "local,path=$out,mount_tag=out,security_model=none,multidevs=remap")
append="console=ttyS0 panic=-1 quiet loglevel=4 cmb.out=$out"
((poll_queues)) && append+=" nvme.poll_queues=$poll_queues"
if [[ -n $net ]]; then
  # Only ever 127.0.0.1: the two QEMU processes meet on the loopback.
  qemu+=(-netdev "socket,id=n0,$net_mode=127.0.0.1:$net_port"
         -device "virtio-net-pci,netdev=n0,mac=52:54:00:99:00:$(printf %02x "$net_last")")
  append+=" cmb.ip=$net_ip"
fi
append+=$extra_append
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
  owncmb)
    # Each end of a copy owns a CMB (src, dst: 32 MiB), next to the 64 MiB one.
    root_port rp0 1; switch sw rp0 10 3
    nvme cmb swd0 "$cmb"; nvme src swd1 "cmb_size_mb=32"; nvme dst swd2 "cmb_size_mb=32" ;;
  fanout)
    # One source, three destinations (dst, dst2, dst3) and the CMB, behind one switch.
    root_port rp0 1; switch sw rp0 10 5
    nvme cmb swd0 "$cmb"; nvme src swd1; nvme dst swd2; nvme dst2 swd3; nvme dst3 swd4 ;;
  twocmb)
    # Two third-party CMBs (cmb, cmb2: 64 MiB each), a source and a destination, behind one switch.
    root_port rp0 1; switch sw rp0 10 4
    nvme cmb swd0 "$cmb"; nvme cmb2 swd1 "$cmb"; nvme src swd2; nvme dst swd3 ;;
  smallcmb)
    # A 1 MiB CMB: BAR2 is 1 MiB, not a multiple of memremap_compat_align()
    # (2 MiB), so nvme_map_cmb() skips it (56cf7ef0d490), next to a plain source.
    root_port rp0 1; switch sw rp0 10 2
    nvme cmb swd0 "cmb_size_mb=1"; nvme src swd1 ;;
  shared)
    # One namespace of an NVMe subsystem, shared by two controllers (c_pa,
    # c_pb; a subsystem gives both its serial, "shared"),
    # next to a CMB controller and a plain source.
    root_port rp0 1; switch sw rp0 10 4
    nvme cmb swd0 "$cmb"; nvme src swd1
    disk shared
    qemu+=(-device "nvme-subsys,id=subsys0,nqn=cmb-shared"
           -device "nvme,id=c_pa,serial=shared,subsys=subsys0,bus=swd2"
           -device "nvme,id=c_pb,serial=shared,subsys=subsys0,bus=swd3"
           -device "nvme-ns,drive=d_shared,bus=c_pa,nsid=1,shared=on") ;;
  *) die "unknown topology '$topology' (switch rc split lba4k iommu zen stock shared owncmb fanout twocmb smallcmb)" ;;
esac
case $topology in
  zen) qemu+=(-cpu EPYC) ;;
  iommu)
    qemu[2]="q35,kernel-irqchip=split"
    qemu+=(-device "intel-iommu,intremap=on")
    append+=" intel_iommu=on" ;;
esac
((trace)) && qemu+=(-trace "pci_nvme_map_addr" -D "$out/trace.log")
if [[ -n $trace_also ]]; then
  IFS=, read -ra extra_events <<<"$trace_also"
  for e in "${extra_events[@]}"; do qemu+=(-trace "$e"); done
fi
if ((hotplug)); then
  # QEMU's q35 default (ACPI hotplug) never lets the guest release the device;
  # with it off, the guest's pciehp handles the attention button.
  qemu+=(-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off -qmp "unix:$out/qmp.sock,server=on,wait=off")
  "$here/qmp_watch.py" "$out/qmp.sock" "$out" 2>>"$out/qmp.log" &
  watcher=$!
  trap 'kill "$watcher" 2>/dev/null' EXIT
fi
qemu+=("${qemu_extra[@]}" -append "$append")

echo "vm.sh: booting '$topology' (kernel $kver [$kernel_kind], QEMU $qver [$qemu_kind]), output in $out" >&2
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
