#!/usr/bin/env python3
"""Inside the VM testbed's "smallcmb" topology (a 1 MiB CMB, whose size is not
a multiple of memremap_compat_align(), 2 MiB): the kernel skips it without a
log line (56cf7ef0d490, nvme_map_cmb), and what cmbinfo says follows what
the kernel shows. 7.3.4 shows cmbloc/cmbsz but no p2pmem/: cmbinfo names the
CMB misaligned. 6.12.117 hides the registers too: the CMB looks absent.

    tests/vm/vm.sh --topology smallcmb -- python3 tests/vm/smallcmb_test.py CMBINFO
"""
import json
import os
import subprocess
import sys


def main():
    cmbinfo = sys.argv[1]
    release = os.uname().release
    doc = json.loads(subprocess.run([cmbinfo, "-o", "json"], check=True, capture_output=True, text=True).stdout)
    small = [c for c in doc["controllers"] if c["serial"] == "cmb"]
    assert len(small) == 1, doc["controllers"]
    c = small[0]
    assert c["p2pmem"] is None, c
    assert not os.path.exists(f"/sys/bus/pci/devices/{c['address']}/p2pmem"), c["address"]
    log = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
    assert "failed to register the CMB" not in log, "the skip is silent"
    registers = os.path.exists(f"/sys/class/nvme/{c['name']}/cmbloc")
    if registers:  # 7.3.4: the attribute group is refreshed after nvme_map_cmb
        assert c["cmb"]["size_bytes"] == 1 << 20, c["cmb"]
        note = c["p2pmem_note"] or ""
        assert note.startswith("registers present, not published: misaligned ("), note
        assert "is not a multiple of 2 MiB" in note and "56cf7ef0d490" in note, note
    else:  # 6.12.117, 6.1.176: hidden, as for no CMB
        assert c["cmb"] is None and c["p2pmem_note"] is None, c
    assert doc["kernel"]["rules"]["cmb_alignment_check"] == "yes", doc["kernel"]
    print(f"smallcmb_test: {release}: registers {'shown' if registers else 'hidden'}; "
          f"{c['p2pmem_note'] or 'CMB none'}")


if __name__ == "__main__":
    main()
