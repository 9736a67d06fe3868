#!/usr/bin/env bash
# Fetches (once) Debian's QEMU orig tarball, qemu_<VERSION>+ds.orig.tar.xz,
# into DIR and prints its path; build-ram-cmb.sh calls it when its source is
# not cached.
#
#   tests/vm/qemu/fetch-qemu-src.sh VERSION DIR    # e.g. 10.0.2 /var/cache/cmb/src-qemu-10
#
# A private apt configuration ($CMB_CACHE/apt-src-bookworm-backports, a
# sources.list with one deb-src line for bookworm-backports on the mirror the
# machine's apt already uses; tests/vm/kernel/apt-suite.sh) finds the qemu
# source package whose orig tarball that is, whatever its Debian revision.
# Only the orig tarball is downloaded (with apt's own downloader, apt-helper):
# the build uses none of Debian's patches, and the mirror may lack the
# package's .dsc and debian.tar.xz (both were 404 here). It must match the
# SHA-256 that the Sources index gives (that index is signed: apt checked its
# InRelease), and lands in DIR only then. A tarball already in DIR is printed
# at once, without the network. The machine's apt sources stay untouched.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CMB_CACHE:-/var/cache/cmb}
log() { echo "fetch-qemu-src: $*" >&2; }
die() { echo "fetch-qemu-src: FAIL: $*" >&2; exit 1; }
(($# == 2)) || { echo "usage: $0 VERSION DIR   (prints DIR/qemu_VERSION+ds.orig.tar.xz)" >&2; exit 2; }
ver=$1 dir=$2
orig="qemu_${ver}+ds.orig.tar.xz"
tarball="$dir/$orig"
if [[ -s $tarball ]]; then echo "$tarball"; exit 0; fi

# shellcheck source=SCRIPTDIR/../kernel/apt-suite.sh
source "$here/../kernel/apt-suite.sh"
apt_dir=apt-src-bookworm-backports suite=bookworm-backports
apt_src() { apt_suite "$apt_dir" "$suite" "$@"; }
list="$cache/$apt_dir/etc/sources.list"
mkdir -p "$(dirname "$list")"
if [[ ! -s $list ]]; then
  m=$(mirror)
  echo "deb-src $m $suite main" >"$list.tmp"
  mv "$list.tmp" "$list"
fi
grep -q "^deb-src .* $suite main\$" "$list" || die "$list has no 'deb-src ... $suite main' line; remove the file to have it written again"
apt_suite_update "$apt_dir" "$suite"

# The source package (any Debian revision) whose files include $orig.
showsrc=$(apt_src --cache showsrc qemu) || die "apt-cache showsrc qemu failed in $cache/$apt_dir"
debver=$(awk -v orig="$orig" '
  /^Version:/ { v = $2 }
  /^Checksums-Sha256:/ { in_sums = 1; next }
  in_sums && /^ / { if ($3 == orig) { print v; exit } next }
  { in_sums = 0 }' <<<"$showsrc")
[[ -n $debver ]] || die "no qemu source package in $suite has $orig (versions there: $(awk '/^Version:/{print $2}' <<<"$showsrc" | paste -sd' ')); put the tarball in $dir by hand"
log "qemu $debver (bookworm-backports' source) has $orig"

# The URIs and SHA-256s, as apt would download them: 'URI' NAME SIZE SHA256:HEX.
uris=$(apt_src source --print-uris "qemu=$debver") || die "apt-get source --print-uris qemu=$debver failed"
read -r uri size sha < <(awk -v n="$orig" '$2 == n && $4 ~ /^SHA256:/ {
  print substr($1, 2, length($1) - 2), $3, substr($4, 8); exit }' <<<"$uris") ||
  die "apt-get source --print-uris qemu=$debver lists no $orig with a SHA256"

mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "downloading $orig ($size bytes)"
# apt-helper checks the hash and fails on a mismatch; _apt may not write to $tmp.
/usr/lib/apt/apt-helper -o APT::Sandbox::User=root download-file "$uri" "$tmp/$orig" "SHA256:$sha" >&2 ||
  die "cannot download $orig ($uri)"
got=$(sha256sum "$tmp/$orig" | cut -d' ' -f1)
[[ $got == "$sha" ]] || die "$orig has SHA-256 $got, the Sources index says $sha"
log "$orig: SHA-256 $got, as the Sources index of bookworm-backports gives it"
mv "$tmp/$orig" "$tarball"
echo "$tarball"
