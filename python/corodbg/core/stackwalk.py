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

The return-address slot is learned, not assumed: x86-64 keeps the return
address at caller_sp - 8, while an aarch64 function saves its link
register in a frame record that may sit anywhere in its frame (often at
its bottom).  A pc whose frame size or return-address slot disagrees
between two coroutines, or whose slot cannot be told apart from other
copies of the same value, is marked unknown, and coroutines through it are
walked by the real unwinder.

What `bt` prints is more than the physical frames: a stack slot whose code
was inlined shows one frame per inlined function, and a debugger may show
tail-call frames (synthesized from DWARF call-site info) between a frame
and its caller.  Both depend only on the addresses involved, so they are
learned too: the frames shown at a stack slot by its pc (and whether it is
the top of the stack, where debuggers look up the pc itself, not pc - 1),
the tail-call frames by the pair (pc, caller's pc).  An unseen pair sends
the coroutine to the real unwinder.  The result is exactly what the
debugger's own unwinder gives, at a cost of one read per coroutine.
"""
import collections
import struct

from .errors import MemoryReadError

_UNKNOWN = object()
STOP = "stop"   # frame size value: the walk ends at this pc

# One physical frame as learned from the debugger: PC and SP of the stack
# slot, INLINE the frames `bt` shows at it (innermost inlined function
# first, the function itself last) and TAIL the tail-call frames `bt`
# shows between it and its caller.  The walker never looks inside the
# shown frames (the adapter's Locations); UNTIL does.
Learned = collections.namedtuple("Learned", "pc sp inline tail")

# One physical frame as the walker returns it: SHOWN = inline + tail.
Frame = collections.namedtuple("Frame", "pc sp shown")


class FrameSizeUnwinder:
    """Walks parked coroutines' stacks.  Debugger-neutral.

    reader: the core's MemoryReader.  learn(co, depth): the real
    unwinder, returning a list of Learned for CO's physical frames from
    its top, at most DEPTH, ending where the debugger's `bt` ends (the
    start function, or the bottom of the stack).
    """

    def __init__(self, reader, learn, ptr_size=8, endian="<"):
        self.reader = reader
        self.learn = learn
        self.size = {}          # pc -> frame size, STOP, or None (unknown)
        self.ra = {}            # pc -> offset from sp of the return address
        self.checked = set()    # pcs confirmed on a second coroutine
        self.step = {}          # pc -> size or STOP, checked pcs only
        self.inline_top = {}    # pc -> frames shown at a stack's top slot
        self.inline = {}        # pc -> frames shown at any other slot
        self.tail = {}          # pc -> {caller pc or None: tail frames}
        self.window = 512       # bytes of stack read per coroutine
        self.ptr = struct.Struct(endian + ("Q" if ptr_size == 8 else "I"))
        self.slow = 0           # coroutines walked by the real unwinder
        self._first = {}        # id(shown tuple) -> FIRST's answer
        self._first_fn = None   # the FIRST those answers are from
        self._need = {}         # (top, pc) -> bytes the walk reads (_extent)
        self._via = {}          # (pc, wait pc, reason) -> answer or False

    def _ra_slots(self, frames):
        """For each frame but the last: the offset from its sp of the slot
        holding its caller's pc, or None when no single slot does."""
        if len(frames) < 2:
            return []
        base = frames[0].sp
        try:
            data = self.reader.read(base, max(0, frames[-1].sp - base))
        except MemoryReadError:
            return [None] * (len(frames) - 1)
        step, unpack = self.ptr.size, self.ptr.unpack_from
        out = []
        for k in range(len(frames) - 1):
            sp, nxt = frames[k].sp, frames[k + 1]
            hits = [off for off in range(0, nxt.sp - sp - step + 1, step)
                    if unpack(data, sp - base + off)[0] == nxt.pc]
            top = nxt.sp - sp - step    # where x86-64's call put it
            out.append(top if top in hits else
                       hits[0] if len(hits) == 1 else None)
        return out

    def _record(self, frames, depth):
        """Fold a real unwind into the tables; returns False when it
        contradicts a frame size or return slot learned before."""
        ok = True
        n = len(frames)
        slots = self._ra_slots(frames)
        self._first = {}    # its keys are ids of tuples replaced below
        self._need = {}     # (extents follow the plans)
        self._via = {}      # (checked against plans made afresh)
        for k, f in enumerate(frames):
            (self.inline if k else self.inline_top)[f.pc] = tuple(f.inline)
            if k + 1 < n:
                size = frames[k + 1].sp - f.sp
                self.tail.setdefault(f.pc, {})[frames[k + 1].pc] = \
                    tuple(f.tail)
                old = self.ra.get(f.pc, _UNKNOWN)
                if old is _UNKNOWN:
                    self.ra[f.pc] = slots[k]
                elif old != slots[k]:
                    self.ra[f.pc] = None
            elif n < depth:
                size = STOP     # the real unwinder ended here
                self.tail.setdefault(f.pc, {})[None] = tuple(f.tail)
            else:
                continue        # cut by DEPTH: nothing learned
            old = self.size.get(f.pc, _UNKNOWN)
            if old is _UNKNOWN:
                self.size[f.pc] = size
            elif old != size:
                self.size[f.pc] = None
                self.step.pop(f.pc, None)
                ok = False
            elif old is not None:
                self.checked.add(f.pc)
                self.step[f.pc] = size
        need = 0
        for k in range(n - 1):
            need = max(need, frames[k + 1].sp - frames[0].sp)
        self.window = max(self.window, min(need + 64, 1 << 16))
        return ok

    def frames(self, co, depth, until=None):
        """[Frame] of parked CO, at most DEPTH physical frames.

        UNTIL(shown): optional; the walk ends at the first physical frame
        whose shown frames (a tuple, or a part of it) it accepts (e.g.
        one holds a user frame, for -u), so frames below it are neither
        walked nor need to be learned.  The frames returned are a prefix of those without
        UNTIL (the last one may lack its tail-call frames when UNTIL
        accepted one of its inlined frames)."""
        pc, sp = co.pc, co.sp
        if not pc or not sp:
            return []
        out = None
        if pc in self.step:
            out = self._walk(co, pc, sp, depth, until)
        if out is None:
            got = self.learn(co, depth)
            self._record(got, depth)
            self.slow += 1
            if until is None:
                return shown(got)
            out = []
            for f in got:
                if until is not None and until(tuple(f.inline)):
                    out.append(Frame(f.pc, f.sp, tuple(f.inline)))
                    break
                out.append(Frame(f.pc, f.sp, tuple(f.inline) + tuple(f.tail)))
                if until is not None and until(tuple(f.tail)):
                    break
        return out

    def _walk(self, co, pc, sp, depth, until=None):
        # the hot loop of -u, -group user and leaks: one read, then per
        # frame a few dict lookups (checked pcs only, see _record)
        hi = co.stack_hi or (sp + self.window)
        size = max(0, min(self.window, hi - sp))
        try:
            data = self.reader.read(sp, size)
        except MemoryReadError:
            return None
        base = sp
        end = len(data) - 8
        out = []
        unpack = self.ptr.unpack_from
        steps, inline, tails, ras = self.step, self.inline, self.tail, self.ra
        inl = self.inline_top.get(pc)
        while True:
            if inl is None:
                return None
            if until is not None and until(inl):
                out.append(Frame(pc, sp, inl))
                return out
            d = steps.get(pc)
            by_caller = tails.get(pc)
            if d is STOP and by_caller is not None:
                tl = by_caller.get(None)
                if tl is None:
                    return None
                out.append(Frame(pc, sp, inl + tl if tl else inl))
                return out
            if len(out) + 1 >= depth:
                out.append(Frame(pc, sp, inl))    # cut: no caller, no tail
                return out
            if d is None or d is STOP or by_caller is None:
                return None
            slot = ras.get(pc)
            if slot is None:
                return None
            cpc, tl = _caller(data, sp + slot - base, end, by_caller, unpack)
            if tl is None:
                return None
            sp += d
            if tl:
                out.append(Frame(pc, sp - d, inl + tl))
                if until is not None and until(tl):
                    return out
            else:
                out.append(Frame(pc, sp - d, inl))
            pc = cpc
            inl = inline.get(pc)


    def user_frame(self, co, depth, first):
        """The user frame alone, the hot path of -u, -group user and
        leaks at 100,000 coroutines: what frames(co, depth, until) then
        picking the first user frame gives, with no Frame objects, one
        table lookup per stack slot (a per-pc plan, see _plan) and FIRST
        asked once per distinct tuple of shown frames.

        FIRST(shown): index of the first user frame in SHOWN, or -1.
        Returns (shown, index): the user frame is shown[index]; index -1
        means there is none and shown[0] is the innermost frame (SHOWN
        empty: no frames at all).  None when the walk needs the general
        path (an unchecked or unknown pc, an unreadable stack, an unseen
        caller): call frames()."""
        return self.user_frame_at(co.pc, co.sp, co.stack_hi, depth, first)

    def user_frame_at(self, pc, sp, hi, depth, first, data=None, via=None):
        """user_frame of a parked coroutine given by its saved PC, SP and
        stack top HI (0 or None: unknown), for a caller that has them;
        DATA: its stack window from SP, if already read (StackWindows).

        VIA: (wait pc, reason) of a blocked coroutine whose runtime
        recorded where its blocking call returns (runtime_rules.
        walk_hint), or None.  The runtime's contract (corodbg_block_at)
        is that only runtime frames lie between the park and that return
        address, so the user frame is the first one shown at it, found
        with no read.  The first coroutine at each (PC, VIA) is walked,
        and VIA is used for the others only when that walk gave the same
        answer (a user helper that tail-called the runtime shows a
        tail-call frame the return address skips, which makes it
        differ).  The others are taken on the runtime's word: a stack
        smashed above the wait site, or a runtime that calls user code
        before it parks on some coroutines only, is not seen.  So the
        caller passes VIA only where a read is a round trip (walk_hint's
        rule: never with DATA, a batch window, where the walk is as fast
        and exact)."""
        if self._first_fn is not first:
            self._first = {}
            self._need = {}
            self._via = {}
            self._first_fn = first
        p = self._plan_of(True, pc, first)
        if p is False:
            return None
        if p[1] >= 0:           # the top frame is the answer: no read
            return p[0], p[1]
        if via is None:
            return self._walk_user(p, sp, hi, depth, first, data, pc)
        key = (pc,) + tuple(via)
        known = self._via.get(key)
        if known:
            return known        # checked on another coroutine: no read
        got = self._walk_user(p, sp, hi, depth, first, data, pc)
        if known is None and got is not None:
            self._via[key] = got if got == self._shown_at(via[0], first) \
                else False
        return got

    def _plan_of(self, top, pc, first):
        """_plan's answer for (TOP, PC), memoized in self._first (the
        walk's inner loop inlines this lookup)."""
        p = self._first.get((top, pc))
        if p is None:
            p = self._first[(top, pc)] = self._plan(pc, top, first)
        return p

    def _shown_at(self, pc, first):
        """(shown, index of the user frame) at a caller's stack slot
        holding PC, or None (unlearned, or no user frame there)."""
        p = self._plan_of(False, pc, first)
        if p is False or p[1] < 0:
            return None
        return p[0], p[1]

    def _walk_user(self, p, sp, hi, depth, first, data, pc):
        """user_frame_at's walk from the top slot's plan P (of PC)."""
        plans = self._first
        if not sp:
            return None
        if data is None:
            # only the bytes this walk can read (a round trip to a debug
            # server costs by the byte: 16 bytes ~20% less than 200)
            need = self._extent((True, pc), first)   # memoized
            hi = hi or (sp + self.window)
            try:
                data = self.reader.read(sp, max(0, min(self.window,
                                                       hi - sp, need)))
            except MemoryReadError:
                return None
        end = len(data) - 8
        off = 0
        unpack = self.ptr.unpack_from
        inner = None        # the innermost shown tuple, for "no user"
        n = 0
        while True:
            inl, i, d, slot, by_caller = p
            if inner is None and inl:
                inner = inl
            n += 1
            if d is STOP:
                return self._tail_user(by_caller, inner, first)
            if n >= depth:
                return (inner or (), -1)
            if slot is None:
                return None
            cpc, tl = _caller(data, off + slot, end, by_caller, unpack)
            if tl is None:
                return None
            off += d
            if tl:
                got = self._tail_user(tl, inner, first)
                if got[1] >= 0:
                    return got
                inner = got[0] or None
            p = plans.get((False, cpc))
            if p is None:
                p = plans[(False, cpc)] = self._plan(cpc, False, first)
            if p is False:
                return None
            if p[1] >= 0:
                return p[0], p[1]

    def _plan(self, pc, top, first):
        """What user_frame needs at a stack slot holding PC (TOP: the
        stack's top slot): (shown, index of its first user frame, frame
        size, return-address slot, tail frames by caller pc); at a
        STOP the last item is the bottom's tail frames.  False when the
        walk there needs the general path."""
        inl = (self.inline_top if top else self.inline).get(pc)
        if inl is None:
            return False
        i = first(inl)
        d = self.step.get(pc)
        by_caller = self.tail.get(pc)
        if i >= 0:
            return (inl, i, d, None, by_caller)
        if d is None or by_caller is None:
            return False
        if d is STOP:
            by_caller = by_caller.get(None)
            if by_caller is None:
                return False
        return (inl, i, d, self.ra.get(pc), by_caller)

    def _extent(self, key, first):
        """How many bytes from the sp of the stack slot KEY = (top, pc)
        user_frame_at can read on any walk through learned callers: the
        return-address slots up to the first user frame (a walk past
        them meets an unseen caller and goes to the general path, which
        reads for itself).  self.window when a learned caller leads back
        to KEY (recursion: no bound).  Memoized in self._need."""
        need = self._need
        got = need.get(key)
        if got is not None:
            return got
        need[key] = self.window     # in progress: a cycle gets this
        p = self._plan_of(key[0], key[1], first)
        got = 0
        if p is not False and p[1] < 0 and p[2] is not STOP \
                and p[3] is not None:
            _, _, d, slot, by_caller = p
            got = slot + self.ptr.size
            for cpc, tl in by_caller.items():
                if cpc is None or tl is None or \
                        (tl and self._tail_user(tl, None, first)[1] >= 0):
                    continue    # no step there, or the walk ends there
                got = max(got, d + self._extent((False, cpc), first))
        got = min(got, self.window)
        need[key] = got
        return got

    def _tail_user(self, tl, inner, first):
        memo = self._first
        i = memo.get(id(tl))
        if i is None:
            i = memo[id(tl)] = first(tl)
        if i >= 0:
            return tl, i
        return (inner or tl, -1)


def _caller(data, at, end, by_caller, unpack):
    """One step of a walk: (caller pc, tail frames between) from the
    return address at offset AT of the stack bytes DATA (END: the last
    offset an address fits at); tail frames None when the slot is outside
    DATA or the caller is unseen (the general path learns it)."""
    if at < 0 or at > end:
        return None, None
    cpc = unpack(data, at)[0]
    return cpc, by_caller.get(cpc)


def shown(learned):
    """[Frame] of a real unwind (LEARNED: [Learned])."""
    return [Frame(f.pc, f.sp, tuple(f.inline) + tuple(f.tail))
            for f in learned]


def flatten(frames, depth=None, first_level=0):
    """[(level, shown frame)] of walker FRAMES as `bt` numbers them,
    at most DEPTH of them."""
    out = []
    level = first_level
    for f in frames:
        for loc in f.shown:
            if depth is not None and len(out) >= depth:
                return out
            out.append((level, loc))
            level += 1
    return out


class StackWindows:
    """The stack windows of parked coroutines read BATCH at a time
    (reader.read_many: one system call for a thousand), for a command
    asking for the user frame of coroutine after coroutine in table
    order (-u, -group user, leaks): on a coroutine not read yet, the
    windows of it and of the next BATCH coroutines of COROUTINES are
    read.  Only where the reader can (a live local process); elsewhere
    window() is None and the walker reads as before."""

    BATCH = 1024
    MAX_BYTES = 4 << 20

    def __init__(self, walker, coroutines):
        self.walker = walker
        self.cos = coroutines
        self.many = getattr(walker.reader, "read_many", None)
        self._row = None     # id(coroutine) -> row, made on first use
        self._got = {}       # id(coroutine) -> window, this batch
        self._size = 0       # the walker's window when it was read

    def window(self, co):
        """CO's stack window from its saved sp (a memoryview valid until
        the next call), or None: read it alone."""
        if self.many is None:
            return None
        w = self._got.get(id(co))
        if w is not None and self._size >= self.walker.window:
            return w    # (a window grown by learning: read again)
        if self._row is None:
            self._row = {id(c): i for i, c in enumerate(self.cos)}
        i = self._row.get(id(co))
        if i is None:
            return None
        keys, ranges = [], []
        size = self._size = self.walker.window
        room = self.MAX_BYTES    # (a learned window may be 64 KiB)
        for c in self.cos[i:i + self.BATCH]:
            sp = c.unreadable is None and c.pc and c.sp
            if sp:
                hi = c.stack_hi or (sp + size)
                n = max(0, min(size, hi - sp))
                room -= n
                if room < 0 and ranges:
                    break
                keys.append(id(c))
                ranges.append((sp, n))
        views = self.many(ranges)
        self._got = dict(zip(keys, views)) if views is not None else {}
        if views is None:
            self.many = None   # not readable so: one by one from now on
        return self._got.get(id(co))
