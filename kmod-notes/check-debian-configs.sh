#!/usr/bin/env bash
# Reads the kernel config Debian ships in its kernel image packages and prints
# the options cmb needs, one Markdown row per package: the evidence behind the
# distribution table in kmod-notes/README.md.
#
#   kmod-notes/check-debian-configs.sh                 # this machine's suite: amd64 and cloud-amd64
#   kmod-notes/check-debian-configs.sh linux-image-6.1.0-56-rt-amd64 ...
#   kmod-notes/check-debian-configs.sh /var/cache/cmb/stock/config   # or a config file
set -euo pipefail
opts=(PCI_P2PDMA ZONE_DEVICE IO_URING BLK_DEV_NVME HOTPLUG_PCI_PCIE)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if (($# == 0)); then
  for meta in linux-image-amd64 linux-image-cloud-amd64; do
    set -- "$@" "$(apt-cache depends "$meta" | awk '/Depends: linux-image-/ {print $2; exit}')"
  done
fi
printf '| package | version |'; printf ' `%s` |' "${opts[@]}"; echo
printf '| --- | --- |'; printf ' --- |%.0s' "${opts[@]}"; echo
for p in "$@"; do
  if [[ -f $p ]]; then
    cfg=$p version=file
  else
    (cd "$work" && apt-get download -q "$p" >/dev/null 2>&1) || { echo "| $p | not downloadable |"; continue; }
    deb=$(ls "$work"/"$p"_*.deb)
    version=$(dpkg-deb -f "$deb" Version)
    rm -rf "$work/x" && dpkg-deb -x "$deb" "$work/x"
    cfg=$(ls "$work"/x/boot/config-* | head -n1)
    rm -f "$deb"
  fi
  printf '| %s | %s |' "$p" "$version"
  for o in "${opts[@]}"; do
    if line=$(grep -E "^CONFIG_$o=|^# CONFIG_$o is not set" "$cfg"); then
      v=$(sed -E 's/^CONFIG_[A-Z0-9_]+=//; s/^# .* is not set$/not set/' <<<"$line")
    else
      v=absent  # not even offered: a dependency is off
    fi
    printf ' %s |' "$v"
  done
  echo
done
