#!/usr/bin/env bash
# Fetches (once) Debian bookworm-backports' QEMU for the VM testbed
# ("vm.sh --qemu backports") and prints the path of its qemu-system-x86_64.
#
#   tests/vm/qemu/fetch-qemu.sh    # -> $CMB_CACHE/qemu-<ver>/usr/bin/qemu-system-x86_64
#
# The packages (qemu-system-x86, -common, -data, -modules-opengl and
# -modules-spice, and the newer seabios that qemu-system-x86 depends on) are
# unpacked with dpkg-deb -x into
# $CMB_CACHE/qemu-<ver>/ (<ver>: the Debian version without its epoch), not
# installed: the machine keeps its own QEMU. QEMU 10 loads ui-opengl.so and
# ui-spice-core.so even with -nographic; without its own it finds bookworm's
# (7.2, in qemu-system-common) and complains ("Only modules from the same
# build can be loaded"). Every shared library the binary and those two
# modules link is in bookworm (checked with ldd here, each time it is
# unpacked; modules for devices the testbed never uses, such as virtio-gpu-gl,
# may lack theirs). The
# binary needs -L <root>/usr/share/qemu -L <root>/usr/share/seabios for its
# firmware, and QEMU_MODULE_DIR=<root>/usr/lib/x86_64-linux-gnu/qemu so it
# never loads the system QEMU's modules; vm.sh does both.
# A private apt configuration ($CMB_CACHE/apt-bookworm-backports) lists only
# bookworm-backports; the machine's apt sources stay untouched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CMB_CACHE:-/var/cache/cmb}
mkdir -p "$cache"
log() { echo "fetch-qemu: $*" >&2; }
(($# == 0)) || { echo "usage: $0" >&2; exit 2; }

# shellcheck source=SCRIPTDIR/../kernel/apt-suite.sh
source "$here/../kernel/apt-suite.sh"
apt_bpo() { apt_suite apt-bookworm-backports bookworm-backports "$@"; }

apt_suite_update apt-bookworm-backports bookworm-backports
candidate() {  # candidate PACKAGE -> its version in bookworm-backports
  local v
  v=$(apt_bpo --cache show "$1" | awk '/^Version:/{print $2; exit}')
  [[ -n $v ]] || { log "no $1 in bookworm-backports"; exit 1; }
  echo "$v"
}
ver=$(candidate qemu-system-x86)
root="$cache/qemu-${ver#*:}"
bin="$root/usr/bin/qemu-system-x86_64"
if [[ ! -x $bin ]]; then
  pkgs=("qemu-system-x86=$ver" "qemu-system-common=$ver" "qemu-system-data=$ver"
        "qemu-system-modules-opengl=$ver" "qemu-system-modules-spice=$ver"
        "seabios=$(candidate seabios)")
  dir="$cache/debs-bookworm-backports"
  mkdir -p "$dir"
  (cd "$dir" && apt_bpo download "${pkgs[@]}" >&2) || { log "cannot download ${pkgs[*]}"; exit 1; }
  rm -rf "$root.tmp" && mkdir -p "$root.tmp"
  for p in "${pkgs[@]}"; do
    # apt names the file PACKAGE_VERSION_ARCH.deb with ':' as %3a.
    name=${p%%=*} v=${p#*=}
    deb=$(find "$dir" -maxdepth 1 -name "${name}_${v//:/%3a}_*.deb" | head -n1)
    [[ -n $deb ]] || { log "downloaded $p but found no ${name}_${v//:/%3a}_*.deb in $dir"; exit 1; }
    dpkg-deb -x "$deb" "$root.tmp" || { log "cannot unpack $deb"; exit 1; }
    log "unpacked $(basename "$deb")"
  done
  tmpbin="$root.tmp/usr/bin/qemu-system-x86_64"
  for f in "$tmpbin" "$root.tmp"/usr/lib/x86_64-linux-gnu/qemu/ui-{opengl,spice-core}.so; do
    libs=$(ldd "$f") || { log "ldd $f failed"; exit 1; }
    missing=$(grep 'not found' <<<"$libs" || [[ $? == 1 ]])
    [[ -z $missing ]] || { log "$(basename "$f") of QEMU $ver needs libraries this machine lacks: ${missing//$'\n'/;}"; exit 1; }
  done
  "$tmpbin" --version >/dev/null || { log "the unpacked $tmpbin does not run"; exit 1; }
  rm -rf "$root"
  mv "$root.tmp" "$root"
fi
echo "$bin"
