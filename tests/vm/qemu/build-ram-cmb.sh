#!/usr/bin/env bash
# Builds (once) QEMU 10.0.2 with a RAM-backed NVMe CMB (ram-cmb.patch beside
# this file) for the VM testbed, and prints the path of its qemu-system-x86_64.
#
#   tests/vm/qemu/build-ram-cmb.sh    # -> $CMB_CACHE/qemu-ram-cmb-10.0.2/build/qemu-system-x86_64
#   tests/vm/qemu/build-ram-cmb.sh --fetch-only   # only the source tarball: its path
#
# The source is Debian's orig tarball (in $CMB_QEMU_SRC_DIR, by default
# $CMB_CACHE/src-qemu-10/; without Debian's patches; when missing, fetched
# there from bookworm-backports' source package and checked against its
# SHA-256 by fetch-qemu-src.sh), extracted and patched into $CMB_CACHE/qemu-ram-cmb-10.0.2/src
# and built in .../build: x86_64-softmmu only, every optional feature off
# except virtfs (9p, which vm.sh shares the root with), no docs, no tools, no
# GUI, no modules; meson.build is told not to unpack the edk2 firmware, which
# the +ds tarball lacks. The binary carries no firmware (the tarball has none):
# run it with -L <bookworm-backports QEMU>/usr/share/qemu -L .../usr/share/seabios,
# as vm.sh does for its backports QEMU (fetch-qemu.sh).
# QEMU 10 needs meson >= 1.5 and pycotap, newer than or absent from bookworm:
# both come from bookworm-backports' Debian packages (meson,
# python3-pycotap), unpacked with dpkg-deb -x into .../pydeps, not installed,
# with a private apt configuration (tests/vm/kernel/apt-suite.sh); the
# machine's apt sources stay untouched. The other build dependencies are
# bookworm's: gcc, ninja-build, pkgconf, python3-venv, libglib2.0-dev,
# zlib1g-dev (missing ones are named, with the apt-get command, and the script
# fails). Idempotent: a finished build whose patch, source and options match
# prints its path at once; an interrupted one resumes. Logs: .../*.log.
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap 'echo "build-ram-cmb: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
here=$(cd "$(dirname "$0")" && pwd)
cache=${CMB_CACHE:-/var/cache/cmb}
ver=10.0.2
src_dir=${CMB_QEMU_SRC_DIR:-$cache/src-qemu-10}
tarball="$src_dir/qemu_${ver}+ds.orig.tar.xz"
root="$cache/qemu-ram-cmb-$ver"
patch_file="$here/ram-cmb.patch"
bin="$root/build/qemu-system-x86_64"
log() { echo "build-ram-cmb: $*" >&2; }
die() { echo "build-ram-cmb: FAIL: $*" >&2; exit 1; }
usage() { echo "usage: $0 [--fetch-only]   (prints the path of the RAM-CMB qemu-system-x86_64, or of its source tarball)" >&2; exit 2; }
fetch_only=0
if [[ ${1:-} == --fetch-only ]]; then fetch_only=1; shift; fi
(($# == 0)) || usage
if ((fetch_only)); then exec "$here/fetch-qemu-src.sh" "$ver" "$src_dir"; fi

configure_args=(--python=/usr/bin/python3 --target-list=x86_64-softmmu
  --without-default-features --enable-virtfs --enable-attr
  --disable-docs --disable-download --disable-install-blobs --disable-debug-info)
# What the build depends on (this script, its options, the patch): a change
# to any of them rebuilds from scratch.
key=$( (echo "$ver ${configure_args[*]}"; cat "$0" "$patch_file") | sha256sum | cut -c1-16)

[[ -s $patch_file ]] || die "no patch at $patch_file"
built() { [[ -x $bin && $(cat "$root/built" 2>/dev/null) == "$key" ]]; }
if built; then echo "$bin"; exit 0; fi

# Build dependencies from bookworm: named, not installed, when missing.
missing=()
for t in cc:gcc ninja:ninja-build pkg-config:pkgconf patch:patch xz:xz-utils flock:util-linux; do
  command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
done
[[ -x /usr/bin/python3 ]] || missing+=(python3)
/usr/bin/python3 -c 'import venv, tomllib' 2>/dev/null || missing+=(python3-venv)
if command -v pkg-config >/dev/null; then
  pkg-config --atleast-version=2.66 glib-2.0 || missing+=(libglib2.0-dev)
  pkg-config --exists zlib || missing+=(zlib1g-dev)
fi
((${#missing[@]} == 0)) || die "missing build dependencies; install them with: apt-get install -y ${missing[*]}"
[[ -s $tarball ]] || "$here/fetch-qemu-src.sh" "$ver" "$src_dir" >/dev/null ||
  die "no QEMU source at $tarball, and fetching Debian's qemu_${ver}+ds.orig.tar.xz failed"

# One build at a time; one that waited may find the work done.
mkdir -p "$cache"
exec 9>"$root.lock"
flock 9 || die "cannot lock $root.lock"
if built; then echo "$bin"; exit 0; fi

# meson >= 1.5 and pycotap (QEMU's pythondeps.toml, group meson) from bookworm-backports.
pydeps="$root/pydeps"
export PYTHONPATH="$pydeps/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}"
pydeps_ok() {
  /usr/bin/python3 -c 'import sys, importlib.metadata as m, mesonbuild, pycotap
v = tuple(int(x) for x in m.version("meson").split(".")[:2]); sys.exit(v < (1, 5))' 2>/dev/null
}
if ! pydeps_ok; then
  # shellcheck source=SCRIPTDIR/../kernel/apt-suite.sh
  source "$here/../kernel/apt-suite.sh"
  apt_suite_update apt-bookworm-backports bookworm-backports
  dir="$cache/debs-bookworm-backports"
  mkdir -p "$dir"
  rm -rf "$pydeps.tmp" && mkdir -p "$pydeps.tmp"
  for p in meson python3-pycotap; do
    v=$(apt_suite apt-bookworm-backports bookworm-backports --cache show "$p" | awk '/^Version:/{print $2; exit}')
    [[ -n $v ]] || die "no $p in bookworm-backports"
    (cd "$dir" && apt_suite apt-bookworm-backports bookworm-backports download "$p=$v" >&2) || die "cannot download $p=$v from bookworm-backports"
    deb=$(find "$dir" -maxdepth 1 -name "${p}_${v//:/%3a}_*.deb" | head -n1)
    [[ -n $deb ]] || die "downloaded $p=$v but found no ${p}_${v//:/%3a}_*.deb in $dir"
    dpkg-deb -x "$deb" "$pydeps.tmp" || die "cannot unpack $deb"
    log "unpacked $(basename "$deb") into $pydeps"
  done
  rm -rf "$pydeps" && mv "$pydeps.tmp" "$pydeps"
  pydeps_ok || die "meson >= 1.5 and pycotap unpacked into $pydeps do not import with /usr/bin/python3"
fi

# Source: extracted and patched once per key.
src="$root/src"
if [[ $(cat "$src/.ram-cmb-key" 2>/dev/null) != "$key" ]]; then
  log "extracting $(basename "$tarball") into $src"
  rm -rf "$src.tmp" "$root/build" "$root/built" && mkdir -p "$src.tmp"
  tar -xJf "$tarball" -C "$src.tmp" --strip-components=1 || die "cannot extract $tarball"
  (cd "$src.tmp" && patch -p1 --forward --batch <"$patch_file" >&2) || die "$patch_file does not apply to QEMU $ver's hw/nvme/ctrl.c"
  # The +ds tarball drops the edk2 firmware (pc-bios/edk2-*.fd.bz2), yet meson
  # insists on them whenever bzip2 is installed: never unpack them.
  grep -q '^    unpack_edk2_blobs = bzip2.found()$' "$src.tmp/meson.build" ||
    die "QEMU $ver's meson.build has no 'unpack_edk2_blobs = bzip2.found()' to turn off"
  sed -i 's/^    unpack_edk2_blobs = bzip2.found()$/    unpack_edk2_blobs = false  # build-ram-cmb.sh: the +ds tarball has no edk2 blobs/' "$src.tmp/meson.build"
  echo "$key" >"$src.tmp/.ram-cmb-key"
  rm -rf "$src" && mv "$src.tmp" "$src"
fi

build="$root/build"
TIMEFORMAT="%R s wall, %U s user, %S s sys"
if [[ $(cat "$build/.ram-cmb-key" 2>/dev/null) != "$key" ]]; then
  rm -rf "$build" && mkdir -p "$build"
  log "configuring (log: $root/configure.log): ${configure_args[*]}"
  { time (cd "$build" && "$src/configure" "${configure_args[@]}" >"$root/configure.log" 2>&1) ; } 2>"$root/configure.time" ||
    { tail -n 30 "$root/configure.log" >&2; die "configure failed (log: $root/configure.log)"; }
  log "configure took $(cat "$root/configure.time")"
  # So that a later ninja in $build (meson regenerating itself) finds meson without PYTHONPATH.
  site=$(echo "$build"/pyvenv/lib/python3*/site-packages)
  [[ -d $site ]] || die "configure made no venv site-packages under $build/pyvenv"
  echo "$pydeps/usr/lib/python3/dist-packages" >"$site/cmb-pydeps.pth"
  echo "$key" >"$build/.ram-cmb-key"
fi
log "building with ninja (log: $root/ninja.log)"
{ time (ninja -C "$build" -j "$(nproc)" qemu-system-x86_64 >"$root/ninja.log" 2>&1) ; } 2>"$root/ninja.time" ||
  { tail -n 40 "$root/ninja.log" >&2; die "ninja failed (log: $root/ninja.log)"; }
log "ninja took $(cat "$root/ninja.time")"
[[ -x $bin ]] || die "ninja succeeded but built no $bin"
"$bin" --version >/dev/null || die "the built $bin does not run"
"$bin" -device virtio-9p-pci,help >/dev/null 2>&1 || die "the built $bin lacks virtio-9p-pci (virtfs), which vm.sh needs"
"$bin" -device nvme,help 2>/dev/null | grep -q 'cmb_size_mb=' || die "the built $bin has no nvme device with cmb_size_mb"
echo "$key" >"$root/built"
echo "$bin"
