#!/usr/bin/env bash
# The host node of vm.twonode.tcp (tests/vm/twonode.sh boots it with
# --net connect:...:10.99.0.2/24 and --modules nvme-tcp): once the target
# exports (signal-ready, holding the sha256 of the pattern on its drive), it
# connects over NVMe/TCP with nvme-cli (`nvme connect -t tcp -a 10.99.0.1 -s 4420
# -n NQN -l 10`; the kill test writes /dev/nvme-fabrics itself),
#  1. checks cmbinfo -o json shows the controller as tcp to 10.99.0.1:4420,
#     live, from 10.99.0.2, ctrl_loss_tmo 10 s, never P2P-eligible, NVMe/TCP named;
#  2. cmbcp remote -> local (to its own dst, 16 MiB, --allow-bounce): the plan
#     bounces and says why (the NVMe/TCP rule), dst holds the target's pattern;
#  3. cmbcp local -> remote (from its own src, 16 MiB of random data): the same
#     plan checks, the remote namespace reads back byte-exact,
# then disconnects and hands the sha256 to the target (signal-done), which
# checks its drive.
#   twonode_tcp_host.sh PATH_TO_cmbinfo PATH_TO_cmbcp [NQN]
set -euo pipefail
trap 'echo "twonode_tcp_host: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
cmbinfo=$1 cmbcp=$2 nqn=${3:-nqn.2026-12.org.cmb:twonode-tcp}
here=$(cd "$(dirname "$0")" && pwd)
out=$CMB_VM_OUT
fail() { echo "twonode_tcp_host: FAIL: $*" >&2; exit 1; }
signal() { printf '%s\n' "$2" >"$out/signal-$1.tmp"; mv "$out/signal-$1.tmp" "$out/signal-$1"; }
wait_for() {  # wait_for NAME SECONDS
  local i
  for ((i = 0; i < $2 * 5; i++)); do [[ -e $out/signal-$1 ]] && return 0; sleep 0.2; done
  fail "no signal-$1 from the target within $2 s"
}
sha16() { dd if="$1" bs=1M count=16 iflag=direct status=none | sha256sum | cut -d' ' -f1; }

wait_for ready 600
want=$(cat "$out/signal-ready")
[[ $want =~ ^[0-9a-f]{64}$ ]] || fail "signal-ready holds '$want', not a sha256"
[[ -e /dev/nvme-fabrics ]] || fail "no /dev/nvme-fabrics: nvme-fabrics is not loaded"
connected=0
for i in 1 2 3 4 5; do
  if nvme connect -t tcp -a 10.99.0.1 -s 4420 -n "$nqn" -l 10 >/dev/null; then
    connected=1; break
  fi
  echo "twonode_tcp_host: connect attempt $i failed; retrying" >&2
  sleep 2
done
((connected)) || fail "could not connect to $nqn at 10.99.0.1:4420"
fab=""
for ((i = 0; i < 100; i++)); do
  for c in /sys/class/nvme/nvme*; do
    [[ $(cat "$c/subsysnqn") == "$nqn" && $(cat "$c/transport") == tcp && $(cat "$c/state") == live ]] && fab=${c##*/}
  done
  [[ -n $fab ]] && break
  sleep 0.2
done
[[ -n $fab ]] || fail "no live tcp controller of $nqn appeared"
src=$("$here/by-serial" src) dst=$("$here/by-serial" dst)

# 1. cmbinfo's view of the fabric controller; it names the namespace's devices.
"$cmbinfo" -o json >"$out/cmbinfo.json"
devs=$(python3 - "$out/cmbinfo.json" "$fab" "$nqn" <<'PY'
import json, sys
path, fab, nqn = sys.argv[1:]
j = json.load(open(path))
c = next(c for c in j["controllers"] if c["name"] == fab)
f = c["fabric"]
checks = [
    ("transport", c["transport"], "tcp"), ("address", c["address"], None),
    ("traddr", f["traddr"], "10.99.0.1"), ("trsvcid", f["trsvcid"], "4420"),
    ("src_addr", f["src_addr"], "10.99.0.2"), ("subsysnqn", f["subsysnqn"], nqn),
    ("state", f["state"], "live"), ("ctrl_loss_tmo_s", f["ctrl_loss_tmo_s"], 10),
    ("reconnects_forever", f["reconnects_forever"], False), ("eligible", f["p2p"]["eligible"], False),
    ("reason names NVMe/TCP", "is an NVMe/TCP controller" in (f["p2p"]["reason"] or ""), True),
    ("namespaces", len(c["namespaces"]), 1),
]
bad = [(n, got, want) for n, got, want in checks if got != want]
for n, got, want in bad:
    print(f"{n}: got {got!r}, want {want!r}", file=sys.stderr)
if bad:
    print(json.dumps(c, indent=1), file=sys.stderr)
    sys.exit(1)
ns = c["namespaces"][0]
print(ns["block_device"], ns["generic_device"])
PY
) || fail "cmbinfo's JSON for $fab does not match the connection (above)"
read -r remote_blk remote_ng <<<"$devs"
[[ -b $remote_blk && -c $remote_ng ]] || fail "cmbinfo names $remote_blk and $remote_ng for $fab, which are not devices"
echo "twonode_tcp_host: $nqn is $fab ($remote_blk, $remote_ng) over tcp 10.99.0.1:4420; local src $src, dst $dst"

check_plan() {  # check_plan JSON: a 16 MiB copy that bounced, saying why
  python3 - "$1" "$fab" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
p, fab = j["plan"], sys.argv[2]
reasons = " | ".join(p["reasons"])
checks = [
    ("method", p["method"], "bounce"), ("provider", p["provider"], None), ("bytes", p["bytes"], 16 << 20),
    ("the NVMe/TCP rule among the reasons", f"{fab} is an NVMe/TCP controller" in reasons, True),
    ("complete", j["copy"]["complete"], True), ("bytes_done", j["copy"]["bytes_done"], 16 << 20),
    ("exit_status", j["exit_status"], 0),
]
bad = [(n, got, want) for n, got, want in checks if got != want]
for n, got, want in bad:
    print(f"{n}: got {got!r}, want {want!r}", file=sys.stderr)
print("plan reasons:", reasons)
sys.exit(1 if bad else 0)
PY
}

# 2. remote -> local.
"$cmbcp" "$fab:1" "$dst:1" --bytes 16M --allow-bounce -o json >"$out/remote-to-local.json" ||
  fail "cmbcp $fab:1 -> $dst:1 exited $?: $(cat "$out/remote-to-local.json")"
check_plan "$out/remote-to-local.json" || fail "remote -> local: the plan or outcome is wrong (above)"
got=$(sha16 "/dev/${dst}n1")
[[ $got == "$want" ]] || fail "remote -> local: dst holds $got, the target's pattern is $want"
echo "twonode_tcp_host: remote -> local byte-exact ($got)"

# 3. local -> remote.
dd if=/dev/urandom of="/dev/${src}n1" bs=1M count=16 oflag=direct status=none
mine=$(sha16 "/dev/${src}n1")
[[ $mine != "$want" ]] || fail "the random data equals the pattern"
"$cmbcp" "$src:1" "$fab:1" --bytes 16M --allow-bounce -o json >"$out/local-to-remote.json" ||
  fail "cmbcp $src:1 -> $fab:1 exited $?: $(cat "$out/local-to-remote.json")"
check_plan "$out/local-to-remote.json" || fail "local -> remote: the plan or outcome is wrong (above)"
got=$(sha16 "$remote_blk")
[[ $got == "$mine" ]] || fail "local -> remote: $remote_blk reads back $got, src holds $mine"
echo "twonode_tcp_host: local -> remote byte-exact ($got)"

echo 1 >"/sys/class/nvme/$fab/delete_controller"
signal done "$mine"
echo "twonode_tcp_host: PASS"
