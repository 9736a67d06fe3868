#!/bin/busybox sh
# PID 1 of the testbed guest. Mounts the host's root (9p, read-only) and the
# runner's output directory (9p, read-write) at its host path, binds the
# guest's /proc /sys /dev into it, then chroots and runs the job the runner
# wrote to <out>/job.sh. Its exit status lands in <out>/rc.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
out=$(sed -n 's/.*cmb\.out=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /host
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 host /host; then
  echo "cmb-vm: cannot mount the host root over 9p" >/dev/console
  poweroff -f
fi
mount --rbind /proc /host/proc
mount --rbind /sys /host/sys
mount --rbind /dev /host/dev
# The guest gets its own /tmp, but host directories under /tmp that the job
# needs (cmb.keep=/tmp/a,/tmp/b: a clone or build tree there) stay visible.
keep=$(sed -n 's/.*cmb\.keep=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /hosttmp
mount --bind /host/tmp /hosttmp
mount -t tmpfs tmpfs /host/tmp
mount -t tmpfs tmpfs /host/run
for k in $(echo "$keep" | tr ',' ' '); do
  mkdir -p "/host$k"
  mount --bind "/hosttmp/${k#/tmp/}" "/host$k"
done
# After the tmpfs mounts, so an output directory under /tmp stays visible.
mkdir -p "/host$out"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none out "/host$out"
mkdir -p /host/dev/shm /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
mount -t devpts devpts /host/dev/pts
# vm.sh --net: the virtio-net interface (the only one besides lo) gets cmb.ip.
ip=$(sed -n 's/.*cmb\.ip=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$ip" ]; then
  ip link set lo up
  dev=""
  for n in /sys/class/net/*; do [ "${n##*/}" = lo ] || dev=${n##*/}; done
  if [ -z "$dev" ] || ! ip addr add "$ip" dev "$dev" || ! ip link set "$dev" up; then
    echo "cmb-vm: cannot give the network interface '$dev' the address $ip" >/dev/console
    poweroff -f
  fi
fi
echo "cmb-vm: guest up, running job" >/dev/console
chroot /host /bin/sh "$out/job.sh" </dev/console >/dev/console 2>&1
rc=$?
dmesg >"/host$out/dmesg.txt"
echo "$rc" >"/host$out/rc"
sync
umount "/host$out"
poweroff -f
