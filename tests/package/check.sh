#!/usr/bin/env bash
# Packaging check (ctest label "package"): builds the .deb with CPack, checks
# its contents and metadata, unpacks it into a scratch root, and builds the
# examples/ project against that unpacked package twice, as users would:
# with find_package(cmb) and with pkg-config.
#
#   tests/package/check.sh BUILD_DIR
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "check.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/cmb-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "package check: FAIL: $*" >&2; exit 1; }
# Debian's multiarch library directory (GNUInstallDirs uses it under /usr).
lib=usr/lib/$(gcc -print-multiarch)
# The example, run without arguments, must load libcmb and print its usage with status 2.
runs() {
  local out rc
  out=$(LD_LIBRARY_PATH=$root/$lib "$1" 2>&1) && rc=0 || rc=$?
  [[ $rc == 2 && $out == *usage:* ]] || fail "$1 exited $rc: $out"
}

(cd "$build" && cpack -B "$work/out" >/dev/null)
deb=$(ls "$work"/out/cmb_*_amd64.deb)
echo "package check: built $(basename "$deb") ($(stat -c %s "$deb") bytes)"
dpkg-deb -c "$deb" | awk '{print $6}' >"$work/files"
for f in usr/bin/cmbinfo usr/bin/cmbcp usr/bin/cmbtarget usr/share/man/man1/cmbtarget.1 usr/share/bash-completion/completions/cmbtarget usr/include/cmb/copy_engine.h usr/include/cmb/cmb.h usr/include/cmb/copier.h \
         usr/share/man/man3/cmb_copier_open.3 usr/lib/python3/dist-packages/cmb/__init__.py $lib/libcmb.a $lib/libcmb.so.0 \
         $lib/pkgconfig/cmb.pc $lib/cmake/cmb/cmbConfig.cmake usr/lib/udev/rules.d/70-cmb.rules \
         usr/share/man/man1/cmbcp.1 usr/share/man/man1/cmbinfo.1 usr/share/man/man7/cmb.7 usr/share/man/man5/cmb-devices.5 \
         etc/cmb/devices usr/share/doc/cmb/NEWS.md usr/lib/systemd/system/cmb-regrant.service \
         usr/share/bash-completion/completions/cmbcp usr/share/bash-completion/completions/cmbinfo; do
  grep -qx "./$f" "$work/files" || fail "$f is not in the package"
done
for dep in liburing2 libpci3 libisal2 pci.ids; do
  dpkg-deb -f "$deb" Depends | grep -qw "$dep" || fail "Depends lacks $dep: $(dpkg-deb -f "$deb" Depends)"
done
dpkg-deb -e "$deb" "$work/control"
grep -q "addgroup --system" "$work/control/postinst" || fail "postinst does not create the group"
grep -qx "/etc/cmb/devices" "$work/control/conffiles" || fail "/etc/cmb/devices is not listed in conffiles"
grep -q "chgrp root" "$work/control/postrm" || fail "postrm does not take the grants back"

root=$work/root
dpkg-deb -x "$deb" "$root"
soname=$(objdump -p "$root/$lib/libcmb.so.0" | awk '/SONAME/ {print $2}')
[[ $soname == libcmb.so.0 ]] || fail "SONAME is '$soname'"
"$root/usr/bin/cmbcp" --version | grep -q "cmbcp " || fail "the packaged cmbcp does not run"

# find_package(cmb), the CMake way.
cmake -S "$src/examples" -B "$work/ex" -G Ninja -DCMAKE_PREFIX_PATH="$root/usr" >/dev/null
cmake --build "$work/ex" >/dev/null
for ex in p2p_copy discover p2p_io copy fan_out copy_c; do
  [[ $ex == discover ]] && continue  # takes no arguments: it would discover this machine
  runs "$work/ex/$ex"
done
# pkg-config, the Makefile way.
PKG_CONFIG_PATH=$root/$lib/pkgconfig
flags=$(PKG_CONFIG_PATH=$PKG_CONFIG_PATH pkg-config --define-variable=prefix="$root/usr" --cflags --libs cmb)
g++ -std=c++20 "$src/examples/p2p_copy.cc" -o "$work/p2p_copy_pc" $flags
runs "$work/p2p_copy_pc"
# The C API from C, the Makefile way.
gcc -std=c11 -Wall -Werror "$src/examples/c/copy.c" -o "$work/copy_c_pc" $flags
runs "$work/copy_c_pc"
# Every C function is versioned; nothing but cmb's own symbols is exported.
c_syms=$(grep -cE '^[a-z][^(]*[ *]cmb_[a-z0-9_]+\(' "$root/usr/include/cmb/cmb.h")
versioned=$(objdump -T "$root/$lib/libcmb.so.0" | grep -cE ' CMB_0\.[0-9]+ +cmb_')
[[ $c_syms == "$versioned" ]] || fail "cmb.h declares $c_syms functions, $versioned are exported with a CMB_0.x version"
# The Python module loads the packaged library.
v=$(CMB_LIBRARY=$root/$lib/libcmb.so.0 PYTHONPATH=$root/usr/lib/python3/dist-packages python3 -c 'import cmb; print(cmb.version())')
[[ $v == 0.2.0 ]] || fail "the Python module reports version '$v'"
echo "package check: contents, metadata, SONAME, symbol versions, find_package(cmb) and pkg-config builds (C++ and C), Python import all OK"
