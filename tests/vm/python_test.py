#!/usr/bin/env python3
"""The Python module (python/cmb) on the real kernel, inside the VM testbed's
"fanout" topology: discovery, a fan-out copy with progress, P2P reads and
writes into a CMB buffer, and the errors a caller gets. Every copy is checked
by reading the devices back with O_DIRECT, neighbours included.

    tests/vm/vm.sh --topology fanout -- env CMB_LIBRARY=build/lib/libcmb.so.0 \
        PYTHONPATH=python python3 tests/vm/python_test.py
"""
import errno
import mmap
import os
import unittest

import cmb

MiB = 1 << 20


def by_serial():
    return {c.serial: c for c in cmb.discover()}


def device_io(path, offset, data=None, size=0):
    """O_DIRECT I/O (no page cache) through an aligned anonymous mapping."""
    n = len(data) if data is not None else size
    buf = mmap.mmap(-1, n)
    fd = os.open(path, (os.O_WRONLY if data is not None else os.O_RDONLY) | os.O_DIRECT)
    try:
        if data is not None:
            buf.write(data)
            assert os.pwritev(fd, [buf], offset) == n
            return None
        assert os.preadv(fd, [buf], offset) == n
        return bytes(buf)
    finally:
        os.close(fd)
        buf.close()


class PythonModule(unittest.TestCase):
    def setUp(self):
        self.c = by_serial()
        self.blk = {s: c.namespaces[0].block_device for s, c in self.c.items() if c.namespaces}
        self.spec = {s: f"{c.name}:1" for s, c in self.c.items()}

    def test_discover_sees_the_cmb_and_namespaces(self):
        cmb_ctrl = self.c["cmb"]
        self.assertEqual(cmb_ctrl.cmb_bytes, 64 * MiB)
        self.assertTrue(cmb_ctrl.p2pmem_published)
        self.assertRegex(cmb_ctrl.address, r"^0000:[0-9a-f]{2}:00\.0$")
        src = self.c["src"].namespaces[0]
        self.assertEqual((src.nsid, src.lba_size), (1, 512))
        self.assertTrue(src.generic_device.startswith("/dev/ng"), src)
        self.assertRegex(cmb.version(), r"^\d+\.\d+\.\d+$")

    def test_fan_out_copy_with_progress_is_exact(self):
        data = os.urandom(8 * MiB)
        device_io(self.blk["src"], 0, data)
        before = {d: device_io(self.blk[d], 0, size=4096) for d in ("dst", "dst2")}
        seen = []
        done = cmb.copy(self.spec["src"], [self.spec["dst"], self.spec["dst2"]], bytes=8 * MiB, dst_lba=8,
                        progress=lambda d, t: seen.append((d, t)))
        self.assertTrue(done.ok, done.error)
        self.assertEqual(done.bytes_total, 8 * MiB)
        self.assertEqual([d.prefix_bytes for d in done.dsts], [8 * MiB, 8 * MiB])
        self.assertTrue(seen and seen[-1] == (8 * MiB, 8 * MiB), seen)
        self.assertEqual(seen, sorted(seen), "progress never goes back")
        for d in ("dst", "dst2"):
            got = device_io(self.blk[d], 0, size=4096 + 8 * MiB)
            self.assertEqual(got[:4096], before[d][:4096], f"{d}: LBAs 0..7 changed")
            self.assertTrue(got[4096:] == data, f"{d}: the copy differs")

    def test_the_block_device_path_is_exact_and_named_in_the_plan(self):
        data = os.urandom(4 * MiB)
        device_io(self.blk["src"], 0, data)
        before = device_io(self.blk["dst3"], 0, size=8 * MiB)
        with cmb.Copier(self.spec["src"], self.spec["dst3"], path="block") as c:
            self.assertIn(" block", c.plan)
            self.assertNotIn("passthrough", c.plan, c.plan)
            rid = c.submit([(0, 2048, 4 * MiB // 512)])
            done = c.wait(rid)
            self.assertTrue(done.ok, done.error)
        got = device_io(self.blk["dst3"], 0, size=8 * MiB)
        self.assertTrue(got[2048 * 512:2048 * 512 + 4 * MiB] == data, "the copy differs")
        self.assertTrue(got[:2048 * 512] == before[:2048 * 512], "bytes before the range changed")
        self.assertTrue(got[2048 * 512 + 4 * MiB:] == before[2048 * 512 + 4 * MiB:], "bytes after it changed")
        with self.assertRaises(ValueError):
            cmb.Copier(self.spec["src"], self.spec["dst3"], path="nvme")

    def test_p2p_read_and_write_through_a_cmb_buffer(self):
        data = os.urandom(128 << 10)
        device_io(self.blk["src"], 0, data)
        buf = cmb.P2pBuffer(self.c["cmb"].name, 128 << 10)
        with cmb.Queue(self.spec["src"]) as q:
            q.read(0, buf)
        self.assertTrue(bytes(buf.view()) == data, "the CMB holds what the source read into it")
        with cmb.Queue(self.spec["dst3"], writable=True) as q:
            q.write(100, buf)
        self.assertTrue(device_io(self.blk["dst3"], 100 * 512, size=128 << 10) == data)
        buf.close()

    def test_errors_name_the_cause(self):
        with self.assertRaises(cmb.Error) as e:
            cmb.copy(self.spec["src"], [self.spec["dst"], self.spec["dst"]], bytes=4096)
        self.assertEqual(e.exception.errno, errno.EINVAL)
        self.assertIn("same namespace twice", str(e.exception))
        with self.assertRaises(cmb.Error) as e:
            cmb.Queue("nvme99:1")
        self.assertEqual(e.exception.errno, errno.ENOENT, e.exception)
        with self.assertRaises(cmb.Error) as e:
            cmb.P2pBuffer(self.c["src"].name, 4096)
        self.assertIn(self.c["src"].name, str(e.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
