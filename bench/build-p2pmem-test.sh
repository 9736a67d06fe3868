#!/usr/bin/env bash
# Builds the real p2pmem-test (github.com/sbates130272/p2pmem-test) from its
# own sources, for bench/run.sh and bench/owncmb.sh to compare cmbcp with.
# Nothing of it is kept in this repository: the sources come from the
# caller's copy of its repository, the build goes to OUT (default
# build/bench/p2pmem-test), and the script prints the binary's path.
#
#   bench/build-p2pmem-test.sh [--out DIR] P2PMEM_TEST [LIBARGCONFIG]
#
# P2PMEM_TEST is either a git directory of p2pmem-test (a clone, or a bare
# mirror: its HEAD is built, local changes are not), or a plain source tree
# whose libargconfig/ is filled in (`git clone --recursive`). The libargconfig
# submodule is taken, at the commit P2PMEM_TEST's HEAD pins, from LIBARGCONFIG
# (a git directory of github.com/sbates130272/libargconfig) or else from the
# clone's own libargconfig/ checkout.
#
# One change is made to the extracted copy, with sed: libargconfig's option
# handlers test errno after strtol/strtoul/strtod without clearing it first,
# so an errno left over from before the parse (as happens in the VM testbed's
# guest) makes them refuse a good number ("Expected positive argument for
# '--threads/-t' but got '4'!"). The sed puts `errno = 0;` before each of
# those calls; the script fails if it finds none (the parser changed: look
# again) or if the count of inserted lines is not the count of calls.
set -euo pipefail
trap 'echo "build-p2pmem-test: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
die() { echo "build-p2pmem-test: FAIL: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
out=$(dirname "$0")/../build/bench/p2pmem-test
while [[ ${1:-} == --* ]]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    *) echo "build-p2pmem-test: unknown option $1" >&2; usage ;;
  esac
done
(($# == 1 || $# == 2)) || usage
src=$1 argsrc=${2:-}
out=$(realpath -m "$out")
[[ -d $src ]] || die "no directory $src (a p2pmem-test clone or source tree)"
for t in make cc git; do command -v "$t" >/dev/null || die "$t is missing"; done

tree=$out/src
is_git() { git -C "$1" rev-parse --verify -q 'HEAD^{commit}' >/dev/null 2>&1; }
if is_git "$src"; then
  rev=$(git -C "$src" rev-parse HEAD)
  # The submodule is a gitlink in the tree: its pinned commit.
  pin=$(git -C "$src" ls-tree HEAD libargconfig | awk '$2 == "commit" {print $3}')
  [[ -n $pin ]] || die "$src's HEAD ($rev) has no libargconfig submodule"
  if [[ -z $argsrc && -e $src/libargconfig/.git ]]; then argsrc=$src/libargconfig; fi
  [[ -n $argsrc ]] || die "libargconfig: give its git directory as the second argument (p2pmem-test pins $pin)"
  is_git "$argsrc" || die "$argsrc is not a git directory of libargconfig"
  git -C "$argsrc" cat-file -e "$pin^{commit}" 2>/dev/null || die "$argsrc has no commit $pin (the one p2pmem-test pins)"
  # Built already from these commits by this script: nothing to do.
  key="$rev $pin $(sha256sum <"$0" | cut -c1-16)"
  if [[ -x $out/p2pmem-test && $(cat "$out/built" 2>/dev/null) == "$key" ]]; then echo "$out/p2pmem-test"; exit 0; fi
  rm -rf "$tree" "$out/p2pmem-test" "$out/built"
  mkdir -p "$tree"
  git -C "$src" archive HEAD | tar -x -C "$tree"
  rm -rf "$tree/libargconfig"
  mkdir "$tree/libargconfig"
  git -C "$argsrc" archive "$pin" | tar -x -C "$tree/libargconfig"
  version="0.1-g${rev:0:7}-argconfig-${pin:0:7}"
else
  [[ -f $src/src/main.c && -f $src/Makefile ]] || die "$src is neither a git directory nor a p2pmem-test tree (no src/main.c)"
  key=""
  rm -rf "$tree" "$out/p2pmem-test" "$out/built"
  mkdir -p "$tree"
  cp -a "$src/." "$tree/"
  rm -rf "$tree/build" "$tree/p2pmem-test" "$tree/.git"
  if [[ -n $argsrc ]]; then
    rm -rf "$tree/libargconfig"
    mkdir "$tree/libargconfig"
    if is_git "$argsrc"; then git -C "$argsrc" archive HEAD | tar -x -C "$tree/libargconfig"; else cp -a "$argsrc/." "$tree/libargconfig/"; fi
  fi
  version="0.1-tree"
fi
parser=$tree/libargconfig/src/argconfig.c
[[ -f $parser ]] || die "no libargconfig sources in $tree/libargconfig (an empty submodule? clone with --recursive, or name libargconfig's git directory)"

# The errno fix (see the top of this file).
calls=$(grep -c -E 'strto(l|ul|d)\(optarg, &endptr' "$parser" || [[ $? == 1 ]])
((calls > 0)) || die "$parser has no strtol/strtoul/strtod(optarg, ...) calls: the parser changed, check whether the errno fix is still needed"
before=$(grep -c -E '^[[:space:]]*errno = 0;$' "$parser" || [[ $? == 1 ]])
sed -E -i 's/^([[:space:]]*)(.*= strto(l|ul|d)\(optarg, &endptr)/\1errno = 0;\n\1\2/' "$parser"
after=$(grep -c -E '^[[:space:]]*errno = 0;$' "$parser")
((after - before == calls)) || die "the errno fix inserted $((after - before)) lines for $calls calls in $parser"

# VERSION-GEN reads a `version` file first; the tree has no .git.
echo "$version+errno-fix" >"$tree/version"
make -C "$tree" >"$out/make.log" 2>&1 || { cat "$out/make.log" >&2; die "make in $tree failed (log: $out/make.log)"; }
cp "$tree/p2pmem-test" "$out/p2pmem-test"
# A plain tree may change under the same name: it is built every time.
if [[ -n $key ]]; then echo "$key" >"$out/built"; fi
echo "$out/p2pmem-test"
