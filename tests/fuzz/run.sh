#!/usr/bin/env bash
# Runs one libFuzzer target: every input of its corpus (regressions), then new
# inputs for SECONDS, in a scratch copy so the committed corpus stays as is.
# Fails on any crash, leak, sanitizer report or timeout, printing the input.
#
#   tests/fuzz/run.sh build-fuzz/tests/fuzz/sysfs_fuzz tests/fuzz/corpus/sysfs 30
set -euo pipefail
fuzzer=$(realpath "$1") corpus=$2 seconds=$3
[[ -d $corpus ]] || { echo "fuzz: no corpus directory $corpus" >&2; exit 1; }
work=$(mktemp -d /tmp/cmb-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp -r "$corpus"/. "$work/corpus/"
cd "$work"
status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" corpus >log 2>&1 || status=$?
if ((status != 0)); then
  tail -n 60 log >&2
  for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
    [[ -e $a ]] && { echo "fuzz: failing input $(basename "$a"):" >&2; od -A d -c "$a" | head -n 20 >&2; }
  done
  echo "fuzz: $(basename "$fuzzer") FAILED (exit $status)" >&2
  exit 1
fi
echo "fuzz: $(basename "$fuzzer"): $(grep -oE 'stat::number_of_executed_units: [0-9]+' log | awk '{print $2}') inputs in ${seconds}s, no finding"
