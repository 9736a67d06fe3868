"""cmb for Python: NVMe peer-to-peer copies through a Controller Memory Buffer.

A thin ctypes layer over libcmb's C API (cmb/cmb.h); nothing to compile.

    import cmb
    for c in cmb.discover():
        print(c.name, c.address, c.cmb_bytes, [n.name for n in c.namespaces])
    r = cmb.copy("nvme1:1", ["nvme2:1", "nvme3:1"], bytes=64 << 20,
                 progress=lambda done, total: print(done, "of", total))
    buf = cmb.P2pBuffer("nvme0", 128 << 10)       # P2P memory in nvme0's CMB
    with cmb.Queue("nvme1:1") as q:
        q.read(0, buf)                            # NVMe read straight into the CMB
    data = bytes(buf.view()[:512])                # the CPU reads it back (slowly: MMIO)

Failures raise cmb.Error, an OSError with the errno and libcmb's message
(which names the cause and the fix); using a closed object raises it with
EBADF. The library is libcmb.so.0, or the file named by $CMB_LIBRARY.
"""
import ctypes
import dataclasses
import errno as _errno
import os
import select
from typing import Callable, List, Optional, Sequence, Union

_lib = ctypes.CDLL(os.environ.get("CMB_LIBRARY", "libcmb.so.0"), use_errno=False)
_u64, _u32, _int, _uint, _str = ctypes.c_uint64, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.c_char_p


class Error(OSError):
    """A failed libcmb call: .errno and the library's message."""


class _ControllerInfo(ctypes.Structure):
    _fields_ = [("name", _str), ("serial", _str), ("model", _str), ("address", _str), ("cmb_bytes", _u64),
                ("p2pmem_available_bytes", _u64), ("p2pmem_published", _int), ("namespaces", _uint),
                ("reserved", _u64 * 4)]


class _NamespaceInfo(ctypes.Structure):
    _fields_ = [("name", _str), ("generic_device", _str), ("block_device", _str), ("nsid", _u32),
                ("lba_size", _u32), ("capacity_blocks", _u64), ("max_transfer_bytes", _u64), ("reserved", _u64 * 4)]


# cmb_copier_opts.flags (cmb.h): Copier(stripe=, sqpoll=, poll=).
COPIER_STRIPE, COPIER_SQPOLL, COPIER_POLL = 1, 2, 4
COPIER_PATH_PASSTHROUGH, COPIER_PATH_BLOCK = 8, 16
_PATHS = {None: 0, "passthrough": COPIER_PATH_PASSTHROUGH, "block": COPIER_PATH_BLOCK}


class _CopierOpts(ctypes.Structure):
    _fields_ = [("via", _str), ("allow_bounce", _int), ("force", _int), ("stop_on_dst_failure", _int),
                ("rate_bytes_per_s", _u64), ("plan_bytes", _u64), ("flags", _u64), ("reserved", _u64 * 3)]


class _Extent(ctypes.Structure):
    _fields_ = [("src_lba", _u64), ("dst_lba", _u64), ("count", _u64)]


class _DstResult(ctypes.Structure):
    _fields_ = [("name", _str), ("status", _int), ("error", _str), ("prefix_bytes", _u64), ("bytes_written", _u64),
                ("flushed", _int), ("reserved", _u64 * 4)]


class _Completion(ctypes.Structure):
    _fields_ = [("id", _u64), ("status", _int), ("error", _str), ("cancelled", _int), ("bytes_total", _u64),
                ("prefix_bytes", _u64), ("ndst", _uint), ("dsts", ctypes.POINTER(_DstResult)), ("reserved", _u64 * 4)]


_P = ctypes.c_void_p
for name, res, args in [
        ("cmb_version", _int, []), ("cmb_last_error", _str, []),
        ("cmb_discover", _int, [ctypes.POINTER(_P)]), ("cmb_system_free", None, [_P]),
        ("cmb_controller_count", _int, [_P]),
        ("cmb_controller_get", _int, [_P, _uint, ctypes.POINTER(_ControllerInfo)]),
        ("cmb_namespace_get", _int, [_P, _uint, _uint, ctypes.POINTER(_NamespaceInfo)]),
        ("cmb_namespace_find", _int, [_P, _str, ctypes.POINTER(_NamespaceInfo)]),
        ("cmb_p2p_alloc", _int, [_P, _str, ctypes.c_size_t, ctypes.POINTER(_P)]),
        ("cmb_host_alloc", _int, [ctypes.c_size_t, ctypes.POINTER(_P)]),
        ("cmb_buffer_data", _P, [_P]), ("cmb_buffer_size", ctypes.c_size_t, [_P]), ("cmb_buffer_free", None, [_P]),
        ("cmb_queue_open", _int, [_P, _str, _int, ctypes.POINTER(_P)]),
        ("cmb_queue_read", _int, [_P, _u64, _P, ctypes.c_size_t, ctypes.c_size_t]),
        ("cmb_queue_write", _int, [_P, _u64, _P, ctypes.c_size_t, ctypes.c_size_t]),
        ("cmb_queue_error", _str, [_P]), ("cmb_queue_close", None, [_P]),
        ("cmb_copier_open", _int, [_P, _str, ctypes.POINTER(_str), _uint, ctypes.POINTER(_CopierOpts),
                                   ctypes.POINTER(_P)]),
        ("cmb_copier_plan", _str, [_P]),
        ("cmb_copier_submit", _int, [_P, ctypes.POINTER(_Extent), ctypes.c_size_t, ctypes.POINTER(_u64)]),
        ("cmb_copier_cancel", _int, [_P, _u64]), ("cmb_copier_event_fd", _int, [_P]),
        ("cmb_copier_process", _int, [_P, ctypes.POINTER(_Completion), _uint]),
        ("cmb_copier_wait", _int, [_P, _u64, _int, ctypes.POINTER(_Completion)]),
        ("cmb_copier_progress", _u64, [_P, _u64]),
        ("cmb_copier_progress_get", _int, [_P, _u64, ctypes.POINTER(_u64)]), ("cmb_copier_error", _str, [_P]),
        ("cmb_copier_close", None, [_P])]:
    f = getattr(_lib, name)
    f.restype, f.argtypes = res, args


def _check(rc: int, error_of: Optional[Callable] = None, handle=None) -> int:
    """rc, or raises Error with the handle's message (error_of(handle)), or this
    thread's when there is none: for EBADF the handle is not live, so it is not asked."""
    if rc < 0:
        text = error_of(handle) if error_of is not None and rc != -_errno.EBADF else None
        if text is None:
            text = _lib.cmb_last_error()
        raise Error(-rc, (text or b"").decode() or os.strerror(-rc))
    return rc


def _string(b: Optional[bytes]) -> str:
    """A string accessor's answer: NULL (None) means a handle that is not live."""
    if b is None:
        raise Error(_errno.EBADF, (_lib.cmb_last_error() or b"").decode() or os.strerror(_errno.EBADF))
    return b.decode()


def version() -> str:
    v = _lib.cmb_version()
    return f"{v // 10000}.{v // 100 % 100}.{v % 100}"


@dataclasses.dataclass
class Namespace:
    name: str
    generic_device: str
    block_device: str
    nsid: int
    lba_size: int
    capacity_blocks: int
    max_transfer_bytes: int


@dataclasses.dataclass
class Controller:
    name: str
    serial: str
    model: str
    address: str
    cmb_bytes: int
    p2pmem_available_bytes: int
    p2pmem_published: bool
    namespaces: List[Namespace]


class _System:
    """A discovery snapshot, freed when done with (handles copy what they need)."""

    def __init__(self):
        self.p = _P()
        _check(_lib.cmb_discover(ctypes.byref(self.p)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _lib.cmb_system_free(self.p)
        self.p = None


def _str_or_none(b: Optional[bytes]) -> str:
    return b.decode() if b else ""


def discover() -> List[Controller]:
    """The NVMe controllers, their CMBs and namespaces, as the kernel shows them now."""
    out = []
    with _System() as s:
        for i in range(_check(_lib.cmb_controller_count(s.p))):
            c = _ControllerInfo()
            _check(_lib.cmb_controller_get(s.p, i, ctypes.byref(c)))
            nss = []
            for j in range(c.namespaces):
                n = _NamespaceInfo()
                _check(_lib.cmb_namespace_get(s.p, i, j, ctypes.byref(n)))
                nss.append(Namespace(_str_or_none(n.name), _str_or_none(n.generic_device),
                                     _str_or_none(n.block_device), n.nsid, n.lba_size, n.capacity_blocks,
                                     n.max_transfer_bytes))
            out.append(Controller(_str_or_none(c.name), _str_or_none(c.serial), _str_or_none(c.model),
                                  _str_or_none(c.address), c.cmb_bytes, c.p2pmem_available_bytes,
                                  bool(c.p2pmem_published), nss))
    return out


class _Handle:
    """Owns one C handle: close(), the end of a with block, or garbage collection frees it, once."""
    p = None  # set once opened, so a failed __init__ frees nothing
    _free = ""  # the cmb_*_close or cmb_*_free function, by name

    def close(self):
        if self.p and _lib is not None:  # at interpreter exit the module may be gone
            getattr(_lib, self._free)(self.p)
            self.p = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


class _Buffer(_Handle):
    _free = "cmb_buffer_free"

    def __init__(self, p: _P):
        self.p = p

    def __len__(self) -> int:
        n = _lib.cmb_buffer_size(self.p)
        if n == 0:  # no live buffer is empty: a closed one
            _string(None)
        return n

    def view(self) -> memoryview:
        """The buffer's bytes (for P2P memory every access is an MMIO read or write of the CMB)."""
        arr = (ctypes.c_ubyte * len(self)).from_address(_lib.cmb_buffer_data(self.p))
        arr._owner = self  # the view keeps the buffer alive
        return memoryview(arr).cast("B")


class P2pBuffer(_Buffer):
    """`size` bytes of P2P memory in the CMB of `provider` ("nvme0" or a PCI address)."""

    def __init__(self, provider: str, size: int):
        p = _P()
        with _System() as s:
            _check(_lib.cmb_p2p_alloc(s.p, provider.encode(), size, ctypes.byref(p)))
        super().__init__(p)


class HostBuffer(_Buffer):
    """`size` bytes of page-aligned host memory."""

    def __init__(self, size: int):
        p = _P()
        _check(_lib.cmb_host_alloc(size, ctypes.byref(p)))
        super().__init__(p)


class Queue(_Handle):
    """NVMe reads and writes of namespace `ns` ("nvme1:1", "/dev/ng1n1") into buffers; each call waits."""
    _free = "cmb_queue_close"

    def __init__(self, ns: str, writable: bool = False):
        self.p = _P()
        with _System() as s:
            _check(_lib.cmb_queue_open(s.p, ns.encode(), int(writable), ctypes.byref(self.p)))

    def _io(self, fn, lba: int, buf: _Buffer, offset: int, nbytes: Optional[int]):
        n = len(buf) - offset if nbytes is None else nbytes
        _check(fn(self.p, lba, buf.p, offset, n), _lib.cmb_queue_error, self.p)

    def read(self, lba: int, buf: _Buffer, offset: int = 0, nbytes: Optional[int] = None):
        self._io(_lib.cmb_queue_read, lba, buf, offset, nbytes)

    def write(self, lba: int, buf: _Buffer, offset: int = 0, nbytes: Optional[int] = None):
        self._io(_lib.cmb_queue_write, lba, buf, offset, nbytes)


@dataclasses.dataclass
class DstResult:
    name: str
    error: str  # "" when it holds every byte
    prefix_bytes: int
    bytes_written: int
    flushed: bool


@dataclasses.dataclass
class Completion:
    id: int
    error: str  # "" when every destination holds every byte
    cancelled: bool
    bytes_total: int
    prefix_bytes: int
    dsts: List[DstResult]

    @property
    def ok(self) -> bool:
        return not self.error


def _completion(c: _Completion) -> Completion:
    d = [DstResult(_str_or_none(c.dsts[i].name), _str_or_none(c.dsts[i].error), c.dsts[i].prefix_bytes,
                   c.dsts[i].bytes_written, bool(c.dsts[i].flushed)) for i in range(c.ndst)]
    return Completion(c.id, _str_or_none(c.error), bool(c.cancelled), c.bytes_total, c.prefix_bytes, d)


class Copier(_Handle):
    """An asynchronous copier from `src` to one or more `dsts` (fan-out); see cmb::Copier.
    Closing it (or collecting it) waits for its pending requests."""
    _free = "cmb_copier_close"

    def __init__(self, src: str, dsts: Union[str, Sequence[str]], *, via: Optional[str] = None,
                 allow_bounce: bool = False, force: bool = False, rate: int = 0, plan_bytes: int = 0,
                 stop_on_dst_failure: bool = False, stripe: bool = False, sqpoll: bool = False,
                 poll: bool = False, path: Optional[str] = None):
        """path: "passthrough" or "block" for every end; None: the planner picks per end."""
        if path not in _PATHS:
            raise ValueError(f"path {path!r}: one of 'passthrough', 'block' or None")
        names = [dsts] if isinstance(dsts, str) else list(dsts)
        arr = (_str * len(names))(*[n.encode() for n in names])
        flags = (COPIER_STRIPE if stripe else 0) | (COPIER_SQPOLL if sqpoll else 0) | (COPIER_POLL if poll else 0)
        flags |= _PATHS[path]
        opts = _CopierOpts(via.encode() if via else None, int(allow_bounce), int(force), int(stop_on_dst_failure),
                           rate, plan_bytes, flags)
        self.p = _P()
        with _System() as s:
            _check(_lib.cmb_copier_open(s.p, src.encode(), arr, len(names), ctypes.byref(opts), ctypes.byref(self.p)))

    @property
    def plan(self) -> str:
        return _string(_lib.cmb_copier_plan(self.p))

    def submit(self, extents: Sequence[tuple]) -> int:
        """extents: (src_lba, dst_lba, count) each; returns the request id."""
        arr = (_Extent * len(extents))(*[_Extent(*e) for e in extents])
        rid = _u64()
        _check(_lib.cmb_copier_submit(self.p, arr, len(extents), ctypes.byref(rid)), _lib.cmb_copier_error, self.p)
        return rid.value

    def cancel(self, rid: int):
        _check(_lib.cmb_copier_cancel(self.p, rid), _lib.cmb_copier_error, self.p)

    def fileno(self) -> int:
        """The event fd: readable when process() has work (select/poll/asyncio add_reader)."""
        return _check(_lib.cmb_copier_event_fd(self.p))

    def process(self) -> List[Completion]:
        out = (_Completion * 16)()
        n = _check(_lib.cmb_copier_process(self.p, out, 16), _lib.cmb_copier_error, self.p)
        return [_completion(out[i]) for i in range(n)]

    def wait(self, rid: int, timeout_ms: int = -1) -> Completion:
        c = _Completion()
        _check(_lib.cmb_copier_wait(self.p, rid, timeout_ms, ctypes.byref(c)), _lib.cmb_copier_error, self.p)
        return _completion(c)

    def progress(self, rid: int) -> int:
        """Bytes of request rid's prefix so far; Error ENOENT once its completion was returned."""
        n = _u64()
        _check(_lib.cmb_copier_progress_get(self.p, rid, ctypes.byref(n)))
        return n.value


def copy(src: str, dsts: Union[str, Sequence[str]], *, count: Optional[int] = None, bytes: Optional[int] = None,
         src_lba: int = 0, dst_lba: int = 0, progress: Optional[Callable[[int, int], None]] = None,
         **copier_args) -> Completion:
    """Copies `count` source LBAs (or `bytes`) from src_lba to dst_lba of every destination.

    progress(done, total) is called about once a second. Raises Error when the
    copy cannot start; a copy that failed part-way returns its Completion, whose
    .error and per-destination prefixes say what is done.
    """
    if (count is None) == (bytes is None):
        raise Error(_errno.EINVAL, "give exactly one of count and bytes")
    lba_size = _lba_size(src)
    with Copier(src, dsts, **copier_args) as c:
        n = count if count is not None else bytes // lba_size
        if bytes is not None and bytes % lba_size:
            raise Error(_errno.EINVAL, f"{bytes} bytes are not whole {lba_size}-byte LBAs of {src}")
        rid = c.submit([(src_lba, dst_lba, n)])
        while True:
            for done in c.process():
                if done.id == rid:
                    if progress:
                        progress(done.prefix_bytes, done.bytes_total)
                    return done
            if progress:
                progress(c.progress(rid), n * lba_size)
            select.select([c.fileno()], [], [], 1.0)


def _lba_size(spec: str) -> int:
    n = _NamespaceInfo()
    with _System() as s:
        _check(_lib.cmb_namespace_find(s.p, spec.encode(), ctypes.byref(n)))
    return n.lba_size
