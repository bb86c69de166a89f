"""Fast stacks for parked coroutines: unwinding by learned frame sizes.

A debugger's own unwinder costs far too much per frame to walk 100,000
stacks.  But a parked coroutine's frames are at a handful of distinct
return addresses, and for a function without alloca the distance from a
frame's sp to its caller's sp is the same every time it is at a given pc.
So the adapter's real unwinder walks one coroutine per new pc (`learn`),
this module records each pc's frame size, checks it on a second coroutine,
and walks every other coroutine with one memory read of its stack top:

    caller_sp = sp + size[pc];  caller_pc = *(caller_sp - 8)

A pc whose frame size disagrees between two coroutines, or whose return
address is not at caller_sp - 8, is marked unknown, and coroutines through
it are walked by the real unwinder.  The result is exactly what the real
unwinder gives, at a cost of one read per coroutine.
"""
import struct

from .errors import MemoryReadError

_UNKNOWN = object()
STOP = "stop"   # frame size value: the walk ends at this pc


class FrameSizeUnwinder:
    """Walks parked coroutines' stacks.  Debugger-neutral.

    reader: the core's MemoryReader.  learn(co, depth): the real
    unwinder, returning [(pc, sp)] of CO's frames from its top, at most
    DEPTH, ending at its start function.  is_last(pc): true when PC is in
    the coroutine's start function (the walk ends there).
    """

    def __init__(self, reader, learn, ptr_size=8, endian="<"):
        self.reader = reader
        self.learn = learn
        self.size = {}          # pc -> frame size, STOP, or None (unknown)
        self.checked = set()    # pcs confirmed on a second coroutine
        self.window = 512       # bytes of stack read per coroutine
        self.ptr = struct.Struct(endian + ("Q" if ptr_size == 8 else "I"))
        self.slow = 0           # coroutines walked by the real unwinder

    def _record(self, frames, depth):
        """Fold a real unwind into the frame-size table; returns False when
        it contradicts what was learned before."""
        ok = True
        for k, (pc, sp) in enumerate(frames):
            if k + 1 < len(frames):
                size = frames[k + 1][1] - sp
            elif len(frames) < depth:
                size = STOP     # the real unwinder ended here
            else:
                continue        # cut by DEPTH: nothing learned
            old = self.size.get(pc, _UNKNOWN)
            if old is _UNKNOWN:
                self.size[pc] = size
            elif old != size:
                self.size[pc] = None
                ok = False
            else:
                self.checked.add(pc)
        need = 0
        for k in range(len(frames) - 1):
            need = max(need, frames[k + 1][1] - frames[0][1])
        self.window = max(self.window, min(need + 64, 1 << 16))
        return ok

    def frames(self, co, depth, until=None):
        """[(pc, sp)] of parked CO, at most DEPTH frames.

        UNTIL(pc): optional; the walk ends after the first frame for which
        it is true (e.g. the first user frame for -u), so frames below it
        are neither walked nor need to be learned.  The frames returned
        are a prefix of those without UNTIL."""
        pc, sp = co.pc, co.sp
        if not pc or not sp:
            return []
        out = None
        if self.size.get(pc, _UNKNOWN) is not _UNKNOWN and pc in self.checked:
            out = self._walk(co, pc, sp, depth, until)
        if out is None:
            out = self.learn(co, depth)
            self._record(out, depth)
            self.slow += 1
            if until is not None:
                for k, (fpc, _) in enumerate(out):
                    if until(fpc):
                        return out[:k + 1]
        return out

    def _walk(self, co, pc, sp, depth, until=None):
        hi = co.stack_hi or (sp + self.window)
        size = max(0, min(self.window, hi - sp))
        try:
            data = self.reader.read(sp, size)
        except MemoryReadError:
            return None
        base = sp
        out = [(pc, sp)]
        unpack = self.ptr.unpack_from
        sizes = self.size
        while len(out) < depth:
            if until is not None and until(pc):
                break
            d = sizes.get(pc, _UNKNOWN)
            if d is STOP:
                break
            if d is None or d is _UNKNOWN or pc not in self.checked:
                return None
            sp += d
            off = sp - 8 - base
            if off < 0 or off + 8 > len(data):
                return None
            pc = unpack(data, off)[0]
            if pc == 0:
                break
            out.append((pc, sp))
        return out
