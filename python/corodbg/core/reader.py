"""Memory access for the core: one method, plus a caching wrapper.

An adapter implements MemoryReader.read for its debugger (GDB:
inferior.read_memory; LLDB: SBProcess.ReadMemory); the decoder works the
same on live processes, core files and remote targets.
"""
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


class FunctionReader(MemoryReader):
    """Adapts a plain function read(addr, size) -> bytes.

    Any exception from FN becomes MemoryReadError, so a debugger's own
    error types never reach the decoder.
    """

    def __init__(self, fn):
        self._fn = fn

    def read(self, addr, size):
        if addr < 0 or size < 0 or addr + size > (1 << 64):
            raise MemoryReadError(addr & ((1 << 64) - 1), size, "out of range")
        if size > MAX_READ:
            raise MemoryReadError(addr, size, "too large")
        if size == 0:
            return b""
        try:
            data = bytes(self._fn(addr, size))
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
