#!/usr/bin/env bash
# Inside the VM (iommu topology: QEMU intel-iommu, intel_iommu=on): cmbinfo
# names the active IOMMU and each device's domain, shows the ACS redirect the
# kernel turned on at the root port, and still predicts "switch" for pairs
# below the switch, because that root port is above their common bridge (the
# kernel agrees: vm.iommu.library checks its decision pair by pair).
#
#   iommu_test.sh CMBINFO
set -euo pipefail
# A failing command names itself, so no failure is silent.
trap '__rc=$?; echo "iommu_test.sh: FAIL: line $LINENO: \"$BASH_COMMAND\" exited $__rc" >&2' ERR
cmbinfo=$1
fail() { echo "iommu_test: FAIL: $*" >&2; exit 1; }
"$cmbinfo" -o json >/tmp/info.json
python3 - <<'PY' || fail "cmbinfo's JSON is not as the kernel set things up (above)"
import json, sys
j = json.load(open("/tmp/info.json"))
print("iommu_test: kernel.iommus =", j["kernel"]["iommus"])
assert j["kernel"]["iommus"], "no IOMMU reported"
for c in j["controllers"]:
    print(f"iommu_test: {c['name']} iommu_domain = {c['iommu_domain']}")
    assert c["iommu_domain"] in ("DMA", "DMA-FQ", "identity"), c["iommu_domain"]
for p in j["p2p"]:
    assert p["verdict"] == "switch", p
    assert p["acs_redirect"] == [], p
PY
"$cmbinfo" -t >/tmp/info.txt
cat /tmp/info.txt
grep -q '^IOMMU dmar0: on' /tmp/info.txt || fail "the text output does not say the IOMMU is on"
grep -qE 'bridge (.* \[1b36:000c\]|1b36:000c), ACS .*REDIRECT' /tmp/info.txt || fail "the root port's ACS redirect is not shown"
echo "iommu_test: OK"
