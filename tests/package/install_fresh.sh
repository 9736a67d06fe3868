#!/usr/bin/env bash
# The .deb installs on a fresh Debian machine (ctest label "package"): a
# minimal debootstrap of this machine's release (cached as a tarball), where
# apt installs ./cmb_*.deb and pulls the runtime libraries its Depends name
# from the same Debian mirror this machine uses. Then: the tools run, the
# postinst created the group, the udev rules, man pages and completion are in
# place, and removing the package leaves none of its files behind.
#
#   sudo tests/package/install_fresh.sh BUILD_DIR
# Needs root (debootstrap, chroot). Cache: $CMB_CACHE (default /var/cache/cmb).
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "install_fresh.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
cache=${CMB_CACHE:-/var/cache/cmb}
fail() { echo "install test: FAIL: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || fail "needs root (debootstrap and chroot); run it as root"
command -v debootstrap >/dev/null || fail "debootstrap missing: run scripts/deps.sh"
# shellcheck source=../vm/kernel/mirror.sh
source "$src/tests/vm/kernel/mirror.sh"
. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}

work=$(mktemp -d /tmp/cmb-install.XXXXXX)
root=$work/root
cleanup() {
  for m in var/cache/apt/archives proc dev; do mountpoint -q "$root/$m" && umount -l "$root/$m"; done
  rm -rf "$work"
}
trap cleanup EXIT

base=$cache/debootstrap-$suite-minbase.tar
if [[ ! -s $base ]]; then
  echo "install test: debootstrap --variant=minbase $suite (once; cached in $base)"
  mkdir -p "$cache" "$work/boot"
  m=$(mirror)
  debootstrap --variant=minbase "$suite" "$work/boot" "$m" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
  tar -C "$work/boot" -cf "$base.tmp" . && mv "$base.tmp" "$base"
  rm -rf "${work:?}/boot"
fi
mkdir -p "$root"
tar -C "$root" -xf "$base"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
# Downloaded packages persist between runs (the root itself is fresh each time).
mkdir -p "$cache/debs-$suite"
mount --bind "$cache/debs-$suite" "$root/var/cache/apt/archives"

(cd "$build" && cpack -B "$work/out" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$work"/out/cmb_*_amd64.deb)
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

! in_root getent group cmb >/dev/null || fail "the fresh root already has a cmb group"
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" >"$work/apt.log" 2>&1 ||
  { tail -n 30 "$work/apt.log" >&2; fail "apt-get install ./$(basename "$deb") failed"; }
echo "install test: apt installed $(basename "$deb") with: $(grep -oE 'Unpacking [^ ]+' "$work/apt.log" | cut -d' ' -f2 | paste -sd' ')"

in_root dpkg-query -W -f='${Status}\n' cmb | grep -qx "install ok installed" || fail "dpkg does not list cmb installed"
in_root cmbcp --version | grep -q '^cmbcp ' || fail "cmbcp does not run"
in_root cmbinfo --version | grep -q '^cmbinfo ' || fail "cmbinfo does not run"
# No NVMe in the chroot's view of an empty root: exit 3, said plainly.
mkdir -p "$root/tmp/empty"
set +e; out=$(in_root cmbinfo --root /tmp/empty 2>&1); rc=$?; set -e
[[ $rc == 3 ]] || fail "cmbinfo on an empty root exited $rc, not 3: $out"
in_root getent group cmb >/dev/null || fail "postinst did not create the group cmb"
for f in /usr/lib/udev/rules.d/70-cmb.rules /usr/share/man/man1/cmbinfo.1.gz /usr/share/man/man1/cmbcp.1.gz \
         /usr/share/man/man7/cmb.7.gz /usr/share/bash-completion/completions/cmbcp "/usr/lib/$(gcc -print-multiarch)/libcmb.so.0"; do
  [[ -e $root$f || -e $root${f%.gz} ]] || fail "$f is missing after install"
done
grep -q 'GROUP="cmb"' "$root/usr/lib/udev/rules.d/70-cmb.rules" || fail "the installed rules do not name the group cmb"
grep -q 'IMPORT{program}="/usr/bin/cmbinfo --devices /etc/cmb/devices --udev %k"' "$root/usr/lib/udev/rules.d/70-cmb.rules" ||
  fail "the installed rules do not run the installed /usr/bin/cmbinfo with /etc/cmb/devices"
# The access list: a conffile, installed with no entry, and postinst says so.
in_root dpkg-query -W -f='${Conffiles}\n' cmb | grep -q '^ /etc/cmb/devices ' || fail "/etc/cmb/devices is not a conffile"
[[ -z $(grep -v '^[[:space:]]*\(#.*\)\?$' "$root/etc/cmb/devices") ]] || fail "/etc/cmb/devices is installed with entries"
grep -q "may use no NVMe device until /etc/cmb/devices lists it" "$work/apt.log" ||
  fail "postinst did not say that nothing is granted yet: $(cat "$work/apt.log")"
# An upgrade from 0.1.x, which granted every namespace, says what changed and what to edit.
up=$(in_root env DPKG_MAINTSCRIPT_PACKAGE=cmb DPKG_MAINTSCRIPT_NAME=postinst /var/lib/dpkg/info/cmb.postinst configure 0.1.0 2>&1)
[[ $up == *"no longer gets every NVMe namespace"* && $up == *"Edit /etc/cmb/devices"* ]] ||
  fail "postinst configure 0.1.0 does not explain the upgrade: $up"
[[ -L $root/etc/systemd/system/multi-user.target.wants/cmb-regrant.service ]] ||
  fail "postinst did not enable cmb-regrant.service"
echo "install test: /etc/cmb/devices is an empty conffile; postinst explains a fresh install and an upgrade from 0.1.0 and enables cmb-regrant.service"
grep -qx 'prefix=/usr' "$root/usr/lib/$(gcc -print-multiarch)/pkgconfig/cmb.pc" || fail "cmb.pc does not say prefix=/usr"

# A developer on that machine builds the examples against the installed package,
# with find_package(cmb) and with pkg-config, using only what Depends and
# Recommends bring plus a compiler.
recommends=$(dpkg-deb -f "$deb" Recommends | tr -d ' ' | tr ',' ' ')
# shellcheck disable=SC2086
in_root apt-get install -y -qq --no-install-recommends g++ cmake ninja-build $recommends >"$work/apt-dev.log" 2>&1 ||
  { tail -n 30 "$work/apt-dev.log" >&2; fail "installing a compiler and the Recommends ($recommends) failed"; }
cp -r "$src/examples" "$root/tmp/examples"
in_root cmake -S /tmp/examples -B /tmp/ex -G Ninja >"$work/ex.log" 2>&1 && in_root cmake --build /tmp/ex >>"$work/ex.log" 2>&1 ||
  { cat "$work/ex.log" >&2; fail "examples/ does not build with find_package(cmb) against the installed package"; }
in_root sh -c 'g++ -std=c++20 /tmp/examples/p2p_copy.cc -o /tmp/p2p_copy_pc $(pkg-config --cflags --libs cmb)' >"$work/pc.log" 2>&1 ||
  { cat "$work/pc.log" >&2; fail "examples/p2p_copy.cc does not build with pkg-config against the installed package"; }
for exe in /tmp/ex/p2p_copy /tmp/p2p_copy_pc; do
  set +e; out=$(in_root "$exe" 2>&1); rc=$?; set -e
  [[ $rc == 2 && $out == *usage:* ]] || fail "$exe (built against the installed package) exited $rc: $out"
done
libs=$(in_root ldd /tmp/ex/p2p_copy)
grep -qE 'libcmb\.so\.0 => (/usr)?/lib/(x86_64-linux-gnu/)?libcmb\.so\.0' <<<"$libs" || fail "p2p_copy does not load the installed libcmb.so.0: $libs"
echo "install test: examples/ built against the installed package with find_package(cmb) and pkg-config, and run"

in_root apt-get remove -y -qq cmb >"$work/remove.log" 2>&1 || { cat "$work/remove.log" >&2; fail "apt-get remove cmb failed"; }
# remove keeps conffiles (Debian policy); purge takes them too.
left=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print substr($6, 2)}' | while read -r f; do if [[ -e $root$f ]]; then echo "$f"; fi; done)
[[ $left == /etc/cmb/devices ]] || fail "files left after remove, besides the conffile /etc/cmb/devices: $left"
in_root dpkg --purge cmb >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "dpkg --purge cmb failed"; }
[[ ! -e $root/etc/cmb/devices ]] || fail "/etc/cmb/devices is left after purge"
echo "install test: installed on a fresh $suite root, ran, created group cmb, removed and purged cleanly"
