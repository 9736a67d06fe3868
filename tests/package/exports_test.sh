#!/usr/bin/env bash
# libcmb.so exports the C API (versioned CMB_0.x) and the public C++ API
# (lib/include/cmb/), and nothing of lib/src: no cmb::internal symbol and no
# piece of the Copier's private engine (Copier::Impl). Tests of internals link
# libcmb.a instead.
#
#   tests/package/exports_test.sh BUILD_DIR
set -euo pipefail
so=$1/lib/libcmb.so
[[ -e $so ]] || { echo "exports_test: FAIL: $so does not exist" >&2; exit 1; }
syms=$(nm -DC --defined-only "$so")
n=$(grep -c ' cmb' <<<"$syms")
((n > 100)) || { echo "exports_test: FAIL: only $n cmb symbols exported: is the library empty?" >&2; exit 1; }
if private=$(grep -E 'cmb::internal::|cmb::Copier::Impl::' <<<"$syms"); then
  echo "exports_test: FAIL: libcmb.so exports private symbols:" >&2
  echo "$private" >&2
  exit 1
fi
# Every function of cmb.h is exported with a symbol version (a CMB_0.x node
# of lib/libcmb.map), and no other C symbol is.
hdr=$(dirname "$0")/../../lib/include/cmb/cmb.h
declared=$(grep -oE '^[a-z][^(]*[ *]cmb_[a-z0-9_]+\(' "$hdr" | grep -oE 'cmb_[a-z0-9_]+' | sort)
exported=$(objdump -T "$so" | awk 'NF > 1 && $(NF-1) ~ /^CMB_0\.[0-9]+$/ && $NF ~ /^cmb_/ {print $NF}' | sort)
if [[ $declared != "$exported" ]]; then
  echo "exports_test: FAIL: cmb.h's functions and the versioned C exports differ (< cmb.h, > libcmb.so):" >&2
  diff <(echo "$declared") <(echo "$exported") >&2 || true
  exit 1
fi
echo "exports_test: $n cmb symbols exported, none of them internal; $(wc -l <<<"$declared") C functions, each versioned"
