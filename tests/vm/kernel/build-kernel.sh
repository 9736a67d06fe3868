#!/usr/bin/env bash
# Builds (once) the VM testbed's kernel: Debian's linux-source-6.12 with the
# p2pdma.config fragment merged over tinyconfig, and fetches Debian's stock
# trixie cloud kernel (built without CONFIG_PCI_P2PDMA) for the "stock" case.
#
#   tests/vm/kernel/build-kernel.sh          # prints the path of the P2PDMA bzImage
#   tests/vm/kernel/build-kernel.sh --stock  # prints the path of the stock vmlinuz
#
# Results are cached outside the clone in $CMB_CACHE (default /var/cache/cmb),
# keyed by the hash of the fragment and a recipe number, so CI reuses them.
# The Debian mirror is the one the machine's own apt sources use; the machine
# itself stays on its release: a private apt configuration lists trixie only
# for these downloads.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CMB_CACHE:-/var/cache/cmb}
mkdir -p "$cache"
log() { echo "build-kernel: $*" >&2; }

# shellcheck source=mirror.sh
source "$here/mirror.sh"

# apt-get (or, with --cache, apt-cache) with a private configuration that
# knows only trixie.
apt_trixie() {
  local tool=apt-get
  if [[ $1 == --cache ]]; then tool=apt-cache; shift; fi
  local d="$cache/apt"
  mkdir -p "$d/lists/partial" "$d/archives/partial" "$d/etc"
  if [[ ! -s "$d/etc/sources.list" ]]; then
    local m; m=$(mirror)
    echo "deb $m trixie main" >"$d/etc/sources.list"
  fi
  "$tool" -q -o Dir::Etc::sourcelist="$d/etc/sources.list" -o Dir::Etc::sourceparts=/dev/null \
    -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d" -o Dir::Cache::archives="$d/archives" \
    -o Dir::State::status=/dev/null -o APT::Get::List-Cleanup=0 \
    -o Debug::NoLocking=1 "$@"
}

apt_trixie_update() {
  # The lists are refreshed at most once a day.
  local stamp="$cache/apt/updated"
  if [[ ! -e "$stamp" || -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]]; then
    apt_trixie update >&2
    touch "$stamp"
  fi
}

fetch_deb() {  # fetch_deb PACKAGE -> prints the .deb path
  local pkg=$1 dir="$cache/debs"
  mkdir -p "$dir"
  apt_trixie_update
  (cd "$dir" && apt_trixie download "$pkg" >&2)
  ls -t "$dir"/"${pkg}"_*.deb | head -n1
}

stock() {
  local out="$cache/stock"
  if [[ ! -s "$out/vmlinuz" ]]; then
    apt_trixie_update
    # The metapackage depends on the versioned unsigned image: resolve it.
    local img
    img=$(apt_trixie --cache show linux-image-amd64 | awk -F': ' '/^Depends:/{print $2; exit}' |
          tr ',' '\n' | sed 's/[( ].*//' | grep -E '^linux-image-.*-amd64' | head -n1)
    [[ -n "$img" ]] || { log "cannot resolve linux-image-amd64"; exit 1; }
    img=${img%-unsigned}-unsigned
    local deb tmp
    deb=$(fetch_deb "$img")
    tmp=$(mktemp -d)
    dpkg-deb -x "$deb" "$tmp"
    rm -rf "$out" && mkdir -p "$out"
    cp "$tmp"/boot/vmlinuz-* "$out/vmlinuz"
    cp "$tmp"/boot/config-* "$out/config"
    # Keep the modules the stock case needs to boot the testbed (9p, virtio, nvme).
    cp -a "$tmp"/lib/modules "$out/modules" 2>/dev/null || cp -a "$tmp"/usr/lib/modules "$out/modules"
    rm -rf "$tmp"
    log "stock kernel: $(basename "$deb")"
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
  --stock) stock ;;
  "") p2pdma ;;
  *) echo "usage: $0 [--stock]" >&2; exit 2 ;;
esac
