#!/usr/bin/env bash
# No function over MAX lines (default 60) in lib/ and tools/, counted from its
# first line to its closing brace by Universal Ctags (its end: field). A
# longer function is split where a piece has a name (the style guide).
#
#   tests/package/function_length_test.sh SOURCE_DIR [MAX]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$1"
ctags --sort=no --languages=C++ --kinds-C++=f --fields=+ne --output-format=json -o - \
    lib/src/*.cc lib/src/*.h lib/include/cmb/*.h tools/*/*.cc tools/*/*.h |
  python3 "$here/function_length.py" "${2:-60}"
