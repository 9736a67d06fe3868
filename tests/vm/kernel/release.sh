#!/usr/bin/env bash
# Prints the release (uname -r) of a bzImage, from its setup header: a
# NUL-terminated string at 0x200 + the 16-bit offset at 0x20e, after the
# "HdrS" magic at 0x202 (Documentation/arch/x86/boot.rst).
#
#   tests/vm/kernel/release.sh "$(tests/vm/kernel/build-kernel.sh --backports)"   # 7.3.4+deb13-amd64
set -euo pipefail
[[ $# -eq 1 && -s $1 ]] || { echo "usage: $0 BZIMAGE" >&2; exit 2; }
[[ $(dd if="$1" bs=1 skip=$((0x202)) count=4 status=none) == HdrS ]] || { echo "$0: $1 is not a bzImage" >&2; exit 1; }
off=$(od -An -tu2 -j $((0x20e)) -N2 "$1" | tr -d ' ')
rel=$(dd if="$1" bs=1 skip=$((off + 0x200)) count=256 status=none | tr '\0' '\n' | sed -n '1s/ .*//p')
[[ -n $rel ]] || { echo "$0: no release string in $1" >&2; exit 1; }
echo "$rel"
