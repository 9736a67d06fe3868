#!/usr/bin/env bash
# Inside the VM: cmbinfo --probe proves P2P reads and writes nothing.
#  - switch: every pair (the CMB with each namespace, its own included) is
#    read into the CMB and into host memory, and they match; with --trace,
#    $CMB_VM_OUT/dma-expect.json asks dma_trace.py for exactly the bytes read
#    by P2P inside the CMB's window;
#  - rc: the pairs the kernel refuses are listed with the reason, not read;
#    the CMB's own controller is read (distance 0);
#  - both: the block path too, exit codes, and the sha256 of every namespace
#    unchanged.
#
#   probe_test.sh CMBINFO
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "probe_test.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
cmbinfo=$1
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "probe_test: FAIL: $*" >&2; exit 1; }
bdf=$("$here/by-serial" --bdf cmb)
read -r start end _ <<<"$(sed -n 3p "/sys/bus/pci/devices/$bdf/resource")"  # BAR2: QEMU's CMB

# Random bytes at the start of each namespace, so a read of the wrong place or
# of stale CMB contents cannot match by accident.
for c in cmb src dst; do
  dd if=/dev/urandom of="/dev/$("$here/by-serial" "$c")n1" bs=1M count=8 oflag=direct status=none
done
sums() { for d in /dev/nvme*n1; do sha256sum "$d"; done; }
sums >/tmp/before.sha

# probe ARGS... : cmbinfo --probe -o json ARGS into /tmp/probe.json; prints its exit status.
probe() {
  local rc=0
  "$cmbinfo" --probe -o json "$@" >/tmp/probe.json 2>/tmp/probe.err || rc=$?
  echo "$rc"
}
# check TOPOLOGY PATH: the pairs of /tmp/probe.json as the topology requires; prints the P2P bytes read.
check() {
  python3 - "$1" "$2" <<'PY'
import json, sys
topology, path = sys.argv[1], sys.argv[2]
probe = json.load(open("/tmp/probe.json"))["probe"]
pairs = probe["pairs"]
assert len(pairs) == 3, pairs  # one CMB against three namespaces
total = 0
for p in pairs:
    own = p["provider"] == p["client"]
    assert own == p["own_cmb"], p
    if topology == "rc" and not own:
        assert p["verdict"] == "unsupported" and not p["tried"], p
        assert p["skipped"].startswith("not read: the verdict is unsupported: "), p
        assert p["match"] is None and p["bytes"] is None, p
        continue
    assert p["tried"] and p["error"] is None, p
    assert p["match"] is True, p
    assert p["bytes"] == 4 << 20 and p["path"] == path, p
    assert p["p2p_mb_s"] > 0 and p["host_mb_s"] > 0, p
    assert p["p2p_crc32c"] == p["host_crc32c"], p
    total += p["bytes"]
    print(f"probe_test: {p['provider_name']} CMB <- {p['namespace']}: match, P2P {p['p2p_mb_s']:.1f} MB/s, "
          f"host {p['host_mb_s']:.1f} MB/s, {p['command_bytes']}-byte commands on {p['path']}", file=sys.stderr)
assert probe["exit"] == 0, probe
print(total)
PY
}

topology=$CMB_TOPOLOGY
rc=$(probe)
((rc == 0)) || fail "cmbinfo --probe exited $rc: $(cat /tmp/probe.err)"
p2p_bytes=$(check "$topology" passthrough)
rc=$(probe --path block)
((rc == 0)) || fail "cmbinfo --probe --path block exited $rc: $(cat /tmp/probe.err)"
block_bytes=$(check "$topology" block)

# The text names each pair and what was not proven.
"$cmbinfo" --probe --bytes 1M >/tmp/probe.txt
cat /tmp/probe.txt
grep -q "Not proven: the write direction" /tmp/probe.txt || fail "the text does not say the write direction is unproven"
if [[ $topology == rc ]]; then
  grep -q "CMB <- .*not read: the verdict is unsupported" /tmp/probe.txt || fail "rc: no refused pair listed"
else
  [[ $(grep -c " match " /tmp/probe.txt) == 3 ]] || fail "switch: not three matching pairs in the text"
fi
"$cmbinfo" --probe --report --bytes 1M >/tmp/report.txt
grep -q "^Read proof (1 MiB a pair):" /tmp/report.txt || fail "--report --probe has no read proof: $(cat /tmp/report.txt)"
for n in /sys/block/nvme*n1; do  # QEMU's wwid carries the serial: "nvme.1b36-<serial hex>-..."
  ! grep -qF "$(cat "$n/wwid")" /tmp/report.txt || fail "the report names $(basename "$n")'s wwid"
done

sums >/tmp/after.sha
diff /tmp/before.sha /tmp/after.sha || fail "a namespace changed under a read-only probe"
echo "probe_test: $topology: every namespace unchanged ($(wc -l </tmp/after.sha) sha256 sums)"
# For dma_trace.py: the P2P reads of every run, inside the CMB's window, and nothing else.
tried=3; [[ $topology != rc ]] || tried=1  # pairs the text and --report runs read, 1 MiB each
p2p_total=$((p2p_bytes + block_bytes + tried * (2 << 20)))
printf '{"window_start": "%s", "window_end": "%s", "p2p_bytes": %d, "host_bytes": %d}\n' \
  "$start" "$end" "$p2p_total" "$((p2p_bytes + block_bytes))" >"$CMB_VM_OUT/dma-expect.json"
