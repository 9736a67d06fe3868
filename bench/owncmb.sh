#!/usr/bin/env bash
# Benchmark of a controller and its own CMB (issue 24): copies from src into
# the cmb controller's namespace through that controller's own CMB, in one
# boot of the switch topology on Debian's kernel (vm.sh's default,
# trixie-backports) and bookworm-backports' QEMU 10 (not the RAM-backed
# testbed: the case is about what stock QEMU accepts). Compares cmbcp at its
# defaults (on Linux >= 7.3 the owner's block device, whole chunks, when
# proven) with cmbcp --path passthrough (held to 4 KiB commands there) and the
# real p2pmem-test through the same CMB, and prints the ratios, taken within
# each round, and their median.
#
#   bench/owncmb.sh [--rounds N] [--p2pmem-test DIR [--libargconfig DIR]] [SIZE [CONFIG...]]
#   bench/owncmb.sh 64M "--qd 4" "--qd 8"      # also cmbcp at other depths, each round
#
# SIZE: default 64M, a multiple of 2 MiB. Each CONFIG (cmbcp options, one
# word) is measured in each round too, as cmbcp at its defaults plus CONFIG,
# with its ratios to the same two. --rounds: default 3. The
# p2pmem-test sources as for bench/run.sh (env CMB_P2PMEM_TEST_SRC,
# CMB_LIBARGCONFIG_SRC). Output in build/bench/owncmb.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 p2pmem_src=${CMB_P2PMEM_TEST_SRC:-} argconfig_src=${CMB_LIBARGCONFIG_SRC:-}
while [[ ${1:-} == --* ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --p2pmem-test) p2pmem_src=$2; shift 2 ;;
    --libargconfig) argconfig_src=$2; shift 2 ;;
    *) echo "owncmb.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
size=${1:-64M}
configs=("${@:2}")
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "owncmb.sh: --rounds wants a positive number, not '$rounds'" >&2; exit 2; }
[[ -n $p2pmem_src ]] || {
  echo "owncmb.sh: no p2pmem-test sources: give --p2pmem-test DIR or CMB_P2PMEM_TEST_SRC" \
    "(git clone --recursive https://github.com/sbates130272/p2pmem-test)" >&2
  exit 2
}
scripts/deps.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target cmbcp >/dev/null
p2pmem_test=$(bench/build-p2pmem-test.sh "$p2pmem_src" ${argconfig_src:+"$argconfig_src"})
# Resolved: vm.sh mounts it in the guest by this name, where a symlinked build/ would not resolve.
out=$(realpath -m build/bench/owncmb)
tests/vm/vm.sh --qemu backports --kernel backports --topology switch --timeout 3000 --out "$out" -- \
  bench/owncmb_inside.sh "$(realpath build)" "$p2pmem_test" "$rounds" "$size" "${configs[@]}"
python3 - "$out/owncmb.jsonl" "$(cat "$out/kernel")" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by.setdefault(r["round"], {})[r["method"]] = r
rounds = sorted(by)
names = list(dict.fromkeys(["cmbcp_default", "cmbcp_passthrough", "p2pmem_test"] + [r["method"] for r in rows]))
print(f"\nsrc -> cmb through the cmb controller's own CMB, {rows[0]['size']} per copy: MB/s per round; "
      "CPU s/GiB: cmbcp's copy.cpu, p2pmem-test's GNU time (the whole process)")
print(f"{'method':<24} " + " ".join(f"{'round ' + str(k):>9}" for k in rounds) + f" {'median':>8} {'CPU s/GiB':>9}  notes")
for m in names:
    vs = [by[k][m] for k in rounds]
    v0 = vs[0]
    note = (f"path {v0['path']}, chunk {v0['chunk'] >> 10} KiB, qd {v0['qd']}, own-CMB command limit "
            f"{v0['own_cmb_limit']} bytes, {v0['commands']} commands" if "qd" in v0 else
            f"copy alone {statistics.median(v['copy_bytes_per_s'] for v in vs) / 1e6:.1f} MB/s, then the flush "
            f"{statistics.median(v['flush_s'] for v in vs) * 1e3:.1f} ms")
    print(f"{m:<24} " + " ".join(f"{v['bytes_per_s'] / 1e6:9.1f}" for v in vs) +
          f" {statistics.median(v['bytes_per_s'] for v in vs) / 1e6:8.1f} "
          f"{statistics.median(v.get('cmbcp_cpu_s_per_gib', v['cpu_s_per_gib']) for v in vs):9.2f}  {note}")
print()
for name, den, target in (("cmbcp default / cmbcp --path passthrough", "cmbcp_passthrough", 2.5),
                          ("cmbcp default / p2pmem-test", "p2pmem_test", 0.8)):
    vals = [by[k]["cmbcp_default"]["bytes_per_s"] / by[k][den]["bytes_per_s"] for k in rounds]
    med = statistics.median(vals)
    print(f"{name:<42} = {med:.2f}   rounds: {', '.join(f'{v:.2f}' for v in vals)}   "
          f"(target >= {target}: {'met' if med >= target else 'NOT met'})")
for m in names[3:]:
    for den in ("cmbcp_passthrough", "p2pmem_test"):
        vals = [by[k][m]["bytes_per_s"] / by[k][den]["bytes_per_s"] for k in rounds]
        print(f"{m + ' / ' + den:<42} = {statistics.median(vals):.2f}   rounds: {', '.join(f'{v:.2f}' for v in vals)}")
print(f"(guest kernel {sys.argv[2]})")
PY
