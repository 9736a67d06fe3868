#!/usr/bin/env bash
# Installs every Debian package cmb needs to build, test and run its VM testbed.
# Idempotent: packages already present are not touched, and apt-get update runs
# only when something is missing.
#
#   sudo scripts/deps.sh            # everything (build + tests + VM testbed)
#   sudo scripts/deps.sh --build    # only what building the library and tools needs
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config
  liburing-dev libnvme-dev libcap-dev libudev-dev libabsl-dev libgtest-dev libgmock-dev libisal-dev
  libpci-dev pci.ids
  nlohmann-json3-dev zlib1g-dev libjson-c-dev
)
# Sanitizers and fuzzers (clang's runtime), the VM testbed (QEMU, the kernel's
# build dependencies, an initramfs), udev for the rules test, fio, gnuplot
# (its chart) and GNU time (CPU and context switches per copy) for the bench,
# Universal Ctags for the function-length check, Graphviz for the unit test
# that parses cmbinfo -o dot.
test_pkgs=(
  clang libclang-rt-14-dev
  qemu-system-x86 qemu-utils cpio gzip xz-utils busybox-static kmod
  bc flex bison libelf-dev libssl-dev dwarves python3 rsync
  udev fio util-linux procps e2fsprogs debootstrap gnuplot-nox time universal-ctags graphviz nvme-cli
)

pkgs=("${build_pkgs[@]}")
[[ "${1:-}" == "--build" ]] || pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "deps.sh: missing packages: ${missing[*]}" >&2
    echo "deps.sh: run as root (sudo $0) to install them" >&2
    exit 1
  fi
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "deps.sh: all ${#pkgs[@]} packages present"
