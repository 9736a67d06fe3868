#!/usr/bin/env bash
# Builds (once) the VM testbed's kernel: Debian's linux-source-6.12 with the
# p2pdma.config fragment merged over tinyconfig, and fetches Debian's stock
# trixie cloud kernel (built without CONFIG_PCI_P2PDMA) for the "stock" case
# and Debian's trixie-backports kernel (built with it) for "--kernel backports".
#
#   tests/vm/kernel/build-kernel.sh              # prints the path of the P2PDMA bzImage
#   tests/vm/kernel/build-kernel.sh --stock      # prints the path of the stock vmlinuz
#   tests/vm/kernel/build-kernel.sh --backports  # prints the path of the backports vmlinuz
#   tests/vm/kernel/build-kernel.sh --bookworm   # bookworm's stock 6.1 (no P2PDMA, no allocate)
#
# Results are cached outside the clone in $CMB_CACHE (default /var/cache/cmb),
# keyed by the hash of the fragment and a recipe number (the backports kernel:
# by its version, $CMB_CACHE/backports-<ver>/ with vmlinuz, config, modules/),
# so CI reuses them. The Debian mirror is the one the machine's own apt
# sources use; the machine itself stays on its release: a private apt
# configuration per suite (its own lists and archives directory) lists only
# that suite for these downloads.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CMB_CACHE:-/var/cache/cmb}
mkdir -p "$cache"
log() { echo "build-kernel: $*" >&2; }

# shellcheck source=SCRIPTDIR/apt-suite.sh
source "$here/apt-suite.sh"

apt_trixie() { apt_suite apt trixie "$@"; }
apt_backports() { apt_suite apt-backports trixie-backports "$@"; }
apt_trixie_update() { apt_suite_update apt trixie; }

newest_deb() {  # newest_deb DIR PACKAGE -> prints the newest DIR/PACKAGE_*.deb
  local f
  f=$(find "$1" -maxdepth 1 -name "$2_*.deb" -printf '%T@ %p\n' | sort -n | tail -n1 | cut -d' ' -f2-)
  [[ -n $f ]] || { log "no $2_*.deb in $1"; exit 1; }
  echo "$f"
}

fetch_deb() {  # fetch_deb PACKAGE [SUITE] -> prints the .deb path (SUITE: trixie, bookworm)
  local pkg=$1 suite=${2:-trixie} dir="$cache/debs" apt=apt
  [[ $suite == trixie ]] || dir="$cache/debs-$suite" apt=apt-$suite
  mkdir -p "$dir"
  apt_suite_update "$apt" "$suite"
  (cd "$dir" && apt_suite "$apt" "$suite" download "$pkg" >&2) || { log "cannot download $pkg from $suite"; exit 1; }
  newest_deb "$dir" "$pkg"
}

stock() {  # stock [SUITE]: the suite's own kernel, as Debian ships it
  local suite=${1:-trixie} out="$cache/stock" apt=apt
  [[ $suite == trixie ]] || out="$cache/stock-$suite" apt=apt-$suite
  if [[ ! -s "$out/vmlinuz" ]]; then
    apt_suite_update "$apt" "$suite"
    # The metapackage depends on the versioned unsigned image: resolve it.
    local img
    img=$(apt_suite "$apt" "$suite" --cache show linux-image-amd64 | awk -F': ' '/^Depends:/{print $2; exit}' |
          tr ',' '\n' | sed 's/^ *//; s/[( ].*//' | grep -E '^linux-image-.*-amd64' | head -n1)
    [[ -n "$img" ]] || { log "cannot resolve linux-image-amd64 in $suite"; exit 1; }
    img=${img%-unsigned}-unsigned
    local deb tmp
    deb=$(fetch_deb "$img" "$suite")
    tmp=$(mktemp -d)
    dpkg-deb -x "$deb" "$tmp"
    rm -rf "$out" && mkdir -p "$out"
    cp "$tmp"/boot/vmlinuz-* "$out/vmlinuz"
    cp "$tmp"/boot/config-* "$out/config"
    # Keep the modules the stock case needs to boot the testbed (9p, virtio, nvme).
    cp -a "$tmp"/lib/modules "$out/modules" 2>/dev/null || cp -a "$tmp"/usr/lib/modules "$out/modules"
    rm -rf "$tmp"
    log "stock $suite kernel: $(basename "$deb")"
  fi
  echo "$out/vmlinuz"
}

# Debian's newest trixie-backports kernel (built with CONFIG_PCI_P2PDMA).
# linux-image-<ver>-amd64 is a metapackage over linux-binary-<ver>-amd64
# (vmlinuz), linux-modules-<ver>-amd64 and linux-base-<ver>-amd64 (config).
backports() {
  apt_suite_update apt-backports trixie-backports
  # The unversioned metapackage depends on the current versioned image.
  local img ver
  img=$(apt_backports --cache show linux-image-amd64 | awk -F': ' '/^Depends:/{print $2; exit}' |
        tr ',' '\n' | sed 's/^ *//; s/[( ].*//' | grep -E '^linux-image-[0-9].*-amd64$' | sort -V | tail -n1)
  [[ -n "$img" ]] || { log "cannot resolve linux-image-amd64 in trixie-backports"; exit 1; }
  ver=${img#linux-image-}
  local out="$cache/backports-$ver"
  if [[ ! -s "$out/vmlinuz" || ! -s "$out/config" || ! -d "$out/modules" ]]; then
    local deps pkgs=() p
    deps=$(apt_backports --cache show "$img" | awk -F': ' '/^Depends:/{print $2; exit}' |
           tr ',|' '\n' | sed 's/^ *//; s/[( ].*//')
    for p in "linux-binary-$ver" "linux-modules-$ver" "linux-base-$ver"; do
      grep -Fqx "$p" <<<"$deps" || { log "$img does not depend on $p (depends: ${deps//$'\n'/ })"; exit 1; }
      pkgs+=("$p")
    done
    local dir="$cache/debs-backports" tmp
    mkdir -p "$dir"
    (cd "$dir" && apt_backports download "${pkgs[@]}" >&2) || { log "cannot download ${pkgs[*]} from trixie-backports"; exit 1; }
    tmp=$(mktemp -d "$cache/backports-unpack.XXXXXX")
    for p in "${pkgs[@]}"; do
      local deb; deb=$(newest_deb "$dir" "$p")
      dpkg-deb -x "$deb" "$tmp" || { log "cannot unpack $deb"; exit 1; }
      log "backports kernel: $(basename "$deb")"
    done
    local m="$tmp/usr/lib/modules/$ver"
    [[ -s "$m/vmlinuz" ]] || { log "no usr/lib/modules/$ver/vmlinuz in ${pkgs[*]}"; exit 1; }
    [[ -s "$m/config" ]] || { log "no usr/lib/modules/$ver/config in ${pkgs[*]}"; exit 1; }
    grep -qx 'CONFIG_PCI_P2PDMA=y' "$m/config" || { log "$ver is built without CONFIG_PCI_P2PDMA"; exit 1; }
    rm -rf "$out.tmp" && mkdir -p "$out.tmp/modules"
    mv "$m/vmlinuz" "$out.tmp/vmlinuz"
    mv "$m/config" "$out.tmp/config"
    mv "$m" "$out.tmp/modules/$ver"
    rm -rf "$tmp" "$out"
    mv "$out.tmp" "$out"
  fi
  echo "$out/vmlinuz"
}

p2pdma() {
  local key out
  # Bump RECIPE when the build steps below change what gets built.
  local RECIPE=1
  key=$( (cat "$here/p2pdma.config"; echo "recipe $RECIPE") | sha256sum | cut -c1-16)
  out="$cache/kernel-$key"
  if [[ ! -s "$out/bzImage" ]]; then
    local deb src tmp jobs
    deb=$(fetch_deb linux-source-6.12)
    tmp="$cache/build-$key"
    rm -rf "$tmp" && mkdir -p "$tmp"
    log "unpacking $(basename "$deb")"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards '*/linux-source-6.12.tar.xz'
    src="$tmp/linux-source-6.12"
    tar -xf "$(find "$tmp" -name 'linux-source-6.12.tar.xz' | head -n1)" -C "$tmp"
    jobs=$(nproc)
    log "building in $src with $jobs jobs (about 10 minutes on 2 cores)"
    make -C "$src" -s tinyconfig >&2
    "$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$here/p2pdma.config" >/dev/null
    make -C "$src" -s olddefconfig >&2
    # Every option the fragment asks for must have survived olddefconfig.
    local missing=0 line
    while IFS= read -r line; do
      [[ "$line" =~ ^CONFIG_ ]] || continue
      if [[ "$line" == *=n ]]; then
        grep -qx "${line%=n}=y" "$src/.config" && { log "not disabled: $line"; missing=1; }
      elif ! grep -qx "$line" "$src/.config"; then
        log "option lost by olddefconfig: $line"; missing=1
      fi
    done <"$here/p2pdma.config"
    ((missing == 0)) || exit 1
    make -C "$src" -s -j"$jobs" bzImage >&2
    mkdir -p "$out"
    cp "$src/arch/x86/boot/bzImage" "$out/bzImage"
    cp "$src/.config" "$out/config"
    # Keep the source of the files the project reads (p2pdma, nvme, blk-map).
    mkdir -p "$cache/linux-src"
    rsync -a --delete "$src/drivers/pci/p2pdma.c" "$src/drivers/nvme/host/pci.c" \
      "$src/drivers/nvme/host/ioctl.c" "$src/block/blk-map.c" "$cache/linux-src/"
    rm -rf "$tmp"
    log "built $out/bzImage"
  fi
  echo "$out/bzImage"
}

case "${1:-}" in
  --stock) stock trixie ;;
  --bookworm) stock bookworm ;;
  --backports) backports ;;
  ""|--lts) p2pdma ;;
  *) echo "usage: $0 [--lts|--stock|--bookworm|--backports]" >&2; exit 2 ;;
esac
