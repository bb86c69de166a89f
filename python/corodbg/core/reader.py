"""Memory access for the core: one method, plus a caching wrapper.

An adapter implements MemoryReader.read for its debugger (GDB:
inferior.read_memory; LLDB: SBProcess.ReadMemory); the decoder works the
same on live processes, core files and remote targets.
"""
import os

from .errors import MemoryReadError

# Largest single read the core ever asks for; a table claiming more is
# corrupt (4M coroutines x 256-byte entries would be 1 GiB: we read per
# chunk, and a chunk is bounded by this).
MAX_READ = 64 << 20


class MemoryReader:
    """The one-method memory interface.

    read(addr, size) returns exactly SIZE bytes or raises MemoryReadError.
    """

    def read(self, addr, size):  # pragma: no cover - interface
        raise NotImplementedError

    def read_view(self, addr, size):
        """SIZE bytes at ADDR as a buffer that may be the debugger's own
        (a memoryview: use it now, do not keep it), or MemoryReadError.
        The table's chunks are read so when only their columns are
        kept."""
        return memoryview(self.read(addr, size))


class FunctionReader(MemoryReader):
    """Adapts a plain function read(addr, size) -> bytes.

    Any exception from FN becomes MemoryReadError, so a debugger's own
    error types never reach the decoder.
    """

    def __init__(self, fn, view_fn=None):
        self._fn = fn
        # VIEW_FN(addr, size) -> a buffer (e.g. GDB's memoryview): for
        # read_view, no bytes object copied from it
        self._view_fn = view_fn

    def read(self, addr, size):
        return self._get(self._fn, addr, size, bytes)

    def read_view(self, addr, size):
        if self._view_fn is None:
            return memoryview(self.read(addr, size))
        return self._get(self._view_fn, addr, size, memoryview)

    @staticmethod
    def _get(fn, addr, size, kind):
        if addr < 0 or size < 0 or addr + size > (1 << 64):
            raise MemoryReadError(addr & ((1 << 64) - 1), size, "out of range")
        if size > MAX_READ:
            raise MemoryReadError(addr, size, "too large")
        if size == 0:
            return kind(b"")
        try:
            data = kind(fn(addr, size))
        except MemoryReadError:
            raise
        except Exception as e:  # the debugger's error type, whatever it is
            raise MemoryReadError(addr, size, str(e).splitlines()[0]
                                  if str(e) else type(e).__name__)
        if len(data) != size:
            raise MemoryReadError(addr, size, "short read")
        return data


class CachingReader(MemoryReader):
    """Caches reads by (addr, size) until invalidate() (call it on resume).

    Failures are cached too, so a bad pointer costs one debugger round trip
    per stop, not one per use.
    """

    def __init__(self, inner):
        self._inner = inner
        self._cache = {}

    def read(self, addr, size):
        key = (addr, size)
        hit = self._cache.get(key)
        if hit is None:
            try:
                hit = self._inner.read(addr, size)
            except MemoryReadError as e:
                hit = e
            self._cache[key] = hit
        if isinstance(hit, MemoryReadError):
            raise hit
        return hit

    def read_view(self, addr, size):
        """Not cached when it succeeds (a failure is)."""
        key = (addr, size)
        hit = self._cache.get(key)
        if isinstance(hit, MemoryReadError):
            raise hit
        if hit is not None:
            return memoryview(hit)
        try:
            return self._inner.read_view(addr, size)
        except MemoryReadError as e:
            self._cache[key] = e
            raise

    def invalidate(self):
        self._cache.clear()


class BytesReader(MemoryReader):
    """Memory made of (base, bytes) regions: for tests and core dumps."""

    def __init__(self, regions=None):
        self.regions = dict(regions or {})

    def add(self, base, data):
        self.regions[base] = bytearray(data)

    def read(self, addr, size):
        for base, data in self.regions.items():
            if base <= addr and addr + size <= base + len(data):
                return bytes(data[addr - base:addr - base + size])
        raise MemoryReadError(addr, size, "unmapped")

    def write(self, addr, data):
        for base, buf in self.regions.items():
            if base <= addr and addr + len(data) <= base + len(buf):
                buf[addr - base:addr - base + len(data)] = data
                return
        raise MemoryReadError(addr, len(data), "unmapped")


class ProcMemReader(MemoryReader):
    """Reads of a stopped local process through /proc/PID/mem (one pread,
    about a microsecond) instead of a debugger call or a round trip
    through a debug server (tens of microseconds): the stack walker reads
    one window per parked coroutine, 100,000 per -u listing.  Use it only
    for stack memory (no breakpoint bytes there); anything it cannot read
    goes to SLOW."""

    def __init__(self, fd, slow, pid=None):
        self.fd = fd
        self.slow = slow
        self.pid = pid
        self._buf = None     # read_many's buffer, reused

    def read(self, addr, size):
        if self.fd is not None and 0 <= addr < (1 << 63):
            try:
                data = os.pread(self.fd, size, addr)
                if len(data) == size:
                    return data
            except OSError:
                pass
        return self.slow.read(addr, size)

    def read_many(self, ranges):
        """[(addr, size)] -> a memoryview of each range's bytes, all read
        with one process_vm_readv per IOV_MAX ranges (about a fifth of
        the CPU time of a pread each, for 100,000 stack windows); None
        when that cannot be done (no such call, a range unreadable: read
        them one by one).  The views share one buffer, overwritten by
        the next call: use them before."""
        readv = _process_vm_readv()
        if readv is None or self.fd is None or not self.pid or not ranges:
            return None
        import ctypes
        from array import array
        total = sum(size for _, size in ranges)
        if self._buf is None or len(self._buf[0]) < total:
            buf = bytearray(max(total, 1 << 16))
            self._buf = (buf, (ctypes.c_char * len(buf)).from_buffer(buf))
        buf, cbuf = self._buf
        base = ctypes.addressof(cbuf)
        local, remote, views = array("Q"), array("Q"), []
        off = 0
        mv = memoryview(buf)
        for addr, size in ranges:
            local.append(base + off)
            local.append(size)
            remote.append(addr)
            remote.append(size)
            views.append(mv[off:off + size])
            off += size
        for i in range(0, len(ranges), _IOV_MAX):
            n = min(_IOV_MAX, len(ranges) - i)
            want = sum(size for _, size in ranges[i:i + n])
            got = readv(self.pid, local.buffer_info()[0] + 16 * i, n,
                        remote.buffer_info()[0] + 16 * i, n, 0)
            if got != want:
                return None
        return views

    def close(self):
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None

    __del__ = close


def open_proc_mem(pid, slow, check_addr, check_size=64):
    """A ProcMemReader for local process PID, or None.  It is used only
    when /proc/PID/mem shows at CHECK_ADDR the bytes SLOW (the debugger's
    reader) shows, so it is the process being debugged, not another with
    the same pid (a remote or containerized target)."""
    if not pid or os.environ.get("CORODBG_NO_PROC_MEM"):
        return None
    fd = None
    try:
        want = slow.read(check_addr, check_size)
        fd = os.open("/proc/%d/mem" % pid, os.O_RDONLY)
        if os.pread(fd, check_size, check_addr) == want:
            r, fd = ProcMemReader(fd, slow, pid), None
            return r
    except (OSError, MemoryReadError):
        pass
    finally:
        if fd is not None:
            os.close(fd)
    return None


_IOV_MAX = 1024
_READV = []


def _process_vm_readv():
    """libc's process_vm_readv through ctypes, or None (no ctypes, no
    such call, or CORODBG_NO_PROC_MEM set)."""
    if not _READV:
        fn = None
        if not os.environ.get("CORODBG_NO_PROC_MEM"):
            try:
                import ctypes
                if ctypes.sizeof(ctypes.c_void_p) != 8:
                    raise ImportError("iovecs here are two 8-byte words")
                fn = ctypes.CDLL(None).process_vm_readv
                fn.restype = ctypes.c_ssize_t
                fn.argtypes = [ctypes.c_int, ctypes.c_void_p,
                               ctypes.c_ulong, ctypes.c_void_p,
                               ctypes.c_ulong, ctypes.c_ulong]
            except (ImportError, OSError, AttributeError):
                fn = None
        _READV.append(fn)
    return _READV[0]
