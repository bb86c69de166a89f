"""Fast stacks for parked coroutines: unwinding by learned frame sizes.

A debugger's own unwinder costs far too much per frame to walk 100,000
stacks.  But a parked coroutine's frames are at a handful of distinct
return addresses, and for a function without alloca the distance from a
frame's sp to its caller's sp is the same every time it is at a given pc.
So the adapter's real unwinder walks one coroutine per new pc (`learn`),
this module records each pc's frame size and the stack slot holding the
return address, checks both on a second coroutine, and walks every other
coroutine with one memory read of its stack top:

    caller_pc = *(sp + ra[pc]);  caller_sp = sp + size[pc]

The slot is learned, not assumed: x86-64 keeps the return address at
caller_sp - 8, while an aarch64 function saves its link register in a frame
record that may sit anywhere in its frame (often at its bottom).  A pc whose
frame size or return-address slot disagrees between two coroutines, or
whose slot cannot be told apart from other copies of the same value, is
marked unknown, and coroutines through it are walked by the real unwinder.  The result is exactly what the real
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
        self.ra = {}            # pc -> offset from sp of the return address
        self.checked = set()    # pcs confirmed on a second coroutine
        self.window = 512       # bytes of stack read per coroutine
        self.ptr = struct.Struct(endian + ("Q" if ptr_size == 8 else "I"))
        self.slow = 0           # coroutines walked by the real unwinder

    def _ra_slots(self, frames):
        """For each frame but the last: the offset from its sp of the slot
        holding its caller's pc, or None when no single slot does."""
        if len(frames) < 2:
            return []
        base = frames[0][1]
        try:
            data = self.reader.read(base, max(0, frames[-1][1] - base))
        except MemoryReadError:
            return [None] * (len(frames) - 1)
        step, unpack = self.ptr.size, self.ptr.unpack_from
        out = []
        for k in range(len(frames) - 1):
            sp, nxt_pc, nxt_sp = frames[k][1], frames[k + 1][0], frames[k + 1][1]
            hits = [off for off in range(0, nxt_sp - sp - step + 1, step)
                    if unpack(data, sp - base + off)[0] == nxt_pc]
            top = nxt_sp - sp - step    # where x86-64's call put it
            out.append(top if top in hits else
                       hits[0] if len(hits) == 1 else None)
        return out

    def _record(self, frames, depth):
        """Fold a real unwind into the frame-size and return-slot tables;
        returns False when it contradicts what was learned before."""
        ok = True
        slots = self._ra_slots(frames)
        for k, (pc, sp) in enumerate(frames):
            if k + 1 < len(frames):
                size = frames[k + 1][1] - sp
                slot = slots[k]
                old = self.ra.get(pc, _UNKNOWN)
                if old is _UNKNOWN:
                    self.ra[pc] = slot
                elif old != slot:
                    self.ra[pc] = None
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
            slot = self.ra.get(pc)
            if slot is None:
                return None
            off = sp + slot - base
            if off < 0 or off + self.ptr.size > len(data):
                return None
            sp += d
            pc = unpack(data, off)[0]
            if pc == 0:
                break
            out.append((pc, sp))
        return out
