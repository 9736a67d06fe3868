#!/usr/bin/env bash
# The long fuzz run (by hand, not in CI): every target for SECONDS (default
# 600) on one core, then the inputs that found new coverage are merged
# (minimized) into tests/fuzz/corpus/<target>/, so CI's short runs replay them.
# Prints one Markdown table row per target for tests/fuzz/README.md.
#
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMB_FUZZ=ON -DCMB_VM_TESTS=OFF
#   cmake --build build-fuzz && tests/fuzz/long.sh build-fuzz 600
#   tests/fuzz/long.sh build-fuzz 120 access_list     # some targets only
set -euo pipefail
build=$(cd "$1" && pwd) seconds=${2:-600}
targets=("${@:3}")
((${#targets[@]})) || targets=(pci_config cli_parsers sysfs journal extent_list access_list)
here=$(cd "$(dirname "$0")" && pwd)
export TMPDIR=${TMPDIR:-/dev/shm}
echo "| target | seconds | inputs executed | exec/s | coverage (cov/ft) | corpus before → after | findings |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for target in "${targets[@]}"; do
  fuzzer=$build/tests/fuzz/${target}_fuzz corpus=$here/corpus/$target
  work=$(mktemp -d)
  mkdir "$work/new"
  before=$(find "$corpus" -type f | wc -l)
  status=0
  (cd "$work" && "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
     -artifact_prefix="$work/" new "$corpus" >log 2>&1) || status=$?
  execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$work/log" | awk '{print $2}')
  rate=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$work/log" | awk '{print $2}')
  cov=$(grep -E '^#[0-9]+\s' "$work/log" | tail -n1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' | awk '{print $2 "/" $4}')
  findings=none
  if ((status != 0)); then
    shopt -s nullglob
    arts=("$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*)
    shopt -u nullglob
    findings="exit $status: ${arts[*]##*/}"
    tail -n 40 "$work/log" >&2
  fi
  (cd "$work" && "$fuzzer" -merge=1 "$corpus" new >merge.log 2>&1)
  after=$(find "$corpus" -type f | wc -l)
  echo "| $target | $seconds | $execs | $rate | $cov | $before → $after | $findings |"
  [[ $findings == none ]] || echo "long.sh: $target: kept $work for the failing input" >&2
  [[ $findings != none ]] || rm -rf "$work"
done
