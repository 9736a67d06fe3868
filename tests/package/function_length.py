#!/usr/bin/env python3
"""Reads Universal Ctags' JSON tags of functions (with end: lines) on stdin and
prints every function longer than MAX lines; exits 1 if there is one, 2 if
there were too few functions to believe the count (ctags found nothing)."""
import json
import sys

max_lines = int(sys.argv[1])
count, long = 0, []
for line in sys.stdin:
    tag = json.loads(line)
    if tag.get("_type") != "tag" or "end" not in tag:
        continue
    count += 1
    length = tag["end"] - tag["line"] + 1
    if length > max_lines:
        scope = tag.get("scope", "")
        long.append(f'{tag["path"]}:{tag["line"]}: {scope}::{tag["name"]} is {length} lines')
if count < 300:
    print(f"function_length: FAIL: ctags found only {count} functions", file=sys.stderr)
    sys.exit(2)
if long:
    print(f"function_length: FAIL: functions over {max_lines} lines:", file=sys.stderr)
    print("\n".join(long), file=sys.stderr)
    sys.exit(1)
print(f"function_length: {count} functions in lib/ and tools/, none over {max_lines} lines")
