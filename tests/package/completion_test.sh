#!/usr/bin/env bash
# The bash completion offers every long option each tool's --help lists (so it
# cannot silently fall behind), and the fixed-value arguments complete.
#
#   tests/package/completion_test.sh BUILD_DIR
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "completion_test.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../completion/cmb.bash
source "$src/completion/cmb.bash"
fail() { echo "completion test: FAIL: $*" >&2; exit 1; }
complete_words() {  # complete_words FUNC WORD... -> the candidates for the last word
  local f=$1; shift
  COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
  "$f"
  printf '%s\n' "${COMPREPLY[@]}" | sort
}
for tool in cmbinfo cmbcp cmbtarget; do
  offered=$(complete_words "_$tool" "$tool" --)
  n=0
  for opt in $("$build/tools/$tool" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
    grep -qx -- "$opt" <<<"$offered" || fail "$tool --help lists $opt but completion does not offer it"
    n=$((n + 1))
  done
  ((n >= 5)) || fail "$tool --help listed only $n long options"
  echo "completion test: $tool: all $n long options of --help complete"
done
[[ $(complete_words _cmbcp cmbcp --method n) == nvme-copy ]] || fail "--method n does not complete to nvme-copy"
[[ $(complete_words _cmbcp cmbcp -o "") == $'json\ntext' ]] || fail "-o does not complete to text/json"
[[ $(complete_words _cmbinfo cmbinfo --output j) == json ]] || fail "cmbinfo --output j does not complete to json"
# Every output format cmbinfo accepts (as its refusal of another lists them) completes.
formats=$({ "$build/tools/cmbinfo" -o none 2>&1 || true; } | sed -n 's/.*(use \(.*\)).*/\1/p' | sed 's/,\| or / /g')
[[ -n $formats ]] || fail "cmbinfo -o none does not list its formats"
[[ $(complete_words _cmbinfo cmbinfo -o "" | tr '\n' ' ') == "$(tr ' ' '\n' <<<"$formats" | grep . | sort | tr '\n' ' ')" ]] ||
  fail "cmbinfo -o completes to $(complete_words _cmbinfo cmbinfo -o "" | tr '\n' ' '), not to its formats: $formats"
echo "completion test: value completion OK"
