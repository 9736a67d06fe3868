#!/usr/bin/env python3
"""The library speaks in its own words: no string literal in lib/ names a
tool, a package, a shell recipe or a request field by its C++ name. Fixes travel as data (cmb/fix.h) and the
tools word them (tools/common/fix_words.cc). The C API's renderer may name
the man pages, as the C docs are those.

  tests/package/library_words.py SOURCE_DIR
"""
import pathlib
import re
import sys

WORDS = re.compile(r"\bcmbinfo\b|\bcmbcp\b|nvme-cli|\bnvme (?:error-log|smart-log|resv-report|sanitize-log|id-ctrl|"
                   r"list|reset)\b|\bmodprobe\b|\becho \d|\budevadm\b|\bapt(?:-get)?\b|linux-image|\bdmesg\b|\bsudo\b|"
                   r"cmb\(7\)|cmb-devices\(5\)|--[a-z][a-z-]+|\b(?:grep|lspci|setpci|rmmod|insmod|tee) |"
                   r"`[a-z_]+`")  # a request field by its C++ name: say it in words, or as a Fix::Option
LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"')
MAN_OK = {"c_api.cc"}  # renders fixes for C callers: the man pages are their docs


def code_only(line):
    # Drop a trailing // comment that is outside any string literal.
    out, in_str, i = [], False, 0
    while i < len(line):
        c = line[i]
        if c == '\\' and in_str:
            out.append(line[i:i + 2]); i += 2; continue
        if c == '"':
            in_str = not in_str
        if not in_str and line.startswith("//", i):
            break
        out.append(c); i += 1
    return "".join(out)


def main():
    root = pathlib.Path(sys.argv[1])
    bad = []
    files = sorted((root / "lib/src").glob("*.cc")) + sorted((root / "lib/src").glob("*.h")) + \
        sorted((root / "lib/include/cmb").glob("*.h"))
    for f in files:
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if line.lstrip().startswith(("//", "#include", "*")):
                continue
            for lit in LITERAL.findall(code_only(line)):
                for m in WORDS.finditer(lit):
                    if f.name in MAN_OK and m.group(0).startswith(("cmb(7)", "cmb-devices(5)")):
                        continue
                    bad.append(f"{f.relative_to(root)}:{n}: {m.group(0)!r} in {lit}")
    if bad:
        print("library_words: FAIL: tool words in lib/ (put the fix in cmb::Fix; the tools word it):")
        print("\n".join(bad))
        return 1
    print(f"library_words: {len(files)} files in lib/, no tool words in their strings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
