#!/usr/bin/env bash
# Tuning sweep: in one boot (of the switch topology, or --topology T), alternates the fio P2P
# copy ceiling (a read job and a write job through the CMB at once, 512k
# qd 16) with cmbcp p2p copies under each CONFIG (cmbcp options, quoted as
# one word, after optional words thp=MODE and sgl=BYTES, which set transparent
# huge pages and nvme's sgl_threshold for that copy), ROUNDS times, and prints
# each configuration's MB/s per round and its ratio to that round's ceiling,
# its CPU per GiB and its voluntary context switches per command (GNU time).
# Every copy is verified. This is how the engine's defaults are kept or
# dropped (docs/performance.md).
#
#   bench/sweep.sh [--qemu KIND] [--topology T] [--rounds N] SIZE CONFIG...
#   bench/sweep.sh --qemu ram 1G "" "--qd 32" "--chunk 256K --qd 32"
#   bench/sweep.sh --qemu ram --topology twocmb 1G "" "--stripe"   # one CMB against two
#   bench/sweep.sh --qemu ram 1G "--path block" "sgl=4096 --path block"   # PRPs against SGLs
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=2 topology=switch
while [[ ${1:-} == --* ]]; do
  case $1 in
    --qemu) export CMB_QEMU=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --topology) topology=$2; shift 2 ;;
    *) echo "sweep.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
(($# >= 2)) || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
size=$1; shift
scripts/deps.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target cmbcp >/dev/null
# Resolved: vm.sh mounts it in the guest by this name, where a symlinked build/ would not resolve.
out=$(realpath -m build/bench/sweep)
poll=()
if [[ " $* " == *" --poll"* ]]; then poll=(--nvme-poll-queues 2); fi
tests/vm/vm.sh "${poll[@]}" --topology "$topology" --disk-mb 2048 --mem 2G --timeout 3000 --out "$out" -- \
  bench/sweep_inside.sh "$(realpath build)" "$size" "$rounds" "$@"
python3 - "$out/sweep.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ceil = {r["round"]: r["bytes_per_s"] for r in rows if r["config"] == "fio"}
configs = list(dict.fromkeys(r["config"] for r in rows))
print(f"{'config':<32} " + " ".join(f"{'round ' + str(k):>16}" for k in sorted(ceil)) + "   mean ratio")
for c in configs:
    rs = [r for r in rows if r["config"] == c]
    cells = [f"{r['bytes_per_s']/1e6:7.1f} ({r['bytes_per_s']/ceil[r['round']]:.2f})" for r in rs]
    mean = sum(r["bytes_per_s"] / ceil[r["round"]] for r in rs) / len(rs)
    extra = f"   CPU {sum(r['cpu_s_per_gib'] for r in rs)/len(rs):.2f} s/GiB" if "cpu_s_per_gib" in rs[0] else ""
    if "vol_cs" in rs[0]:
        # Sleeps of the process per command: how many completions one wakeup reaps.
        extra += f", {sum(r['vol_cs'] / r['commands'] for r in rs)/len(rs):.2f} waits/command, path {rs[0]['path']}"
    print(f"{(c or '(defaults)'):<32} " + " ".join(f"{x:>16}" for x in cells) + f"   {mean:.2f}{extra}")
PY
