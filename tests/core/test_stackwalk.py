"""The frame-size unwinder against a fake 'real' unwinder."""
import struct

from corodbg.core.reader import BytesReader
from corodbg.core.stackwalk import FrameSizeUnwinder


class Co:
    def __init__(self, pc, sp, lo, hi):
        self.pc, self.sp, self.stack_lo, self.stack_hi = pc, sp, lo, hi


def make_stack(mem, lo, frames, ra_slot=None):
    """FRAMES: [(pc, size)] from the top; write return addresses, at
    caller_sp - 8 as an x86-64 call does, or at RA_SLOT bytes above the
    callee's sp as an aarch64 frame record at the frame's bottom does."""
    hi = lo + 0x1000
    sp = hi - 0x200
    out = []
    buf = bytearray(0x1000)
    cur = sp
    for k, (pc, size) in enumerate(frames):
        out.append((pc, cur))
        if size is None:
            break
        nxt = cur + size
        ret = frames[k + 1][0] if k + 1 < len(frames) else 0
        at = nxt - 8 if ra_slot is None else cur + ra_slot
        struct.pack_into("<Q", buf, at - lo, ret)
        cur = nxt
    mem.add(lo, bytes(buf))
    return Co(frames[0][0], sp, lo, hi), out


def same_path_stacks(mem, n, path, base=0x100000, ra_slot=None):
    """N coroutines whose stacks all follow PATH; ({id(co): frames},
    [co]), and a learner that hands out the true frames and records each
    coroutine it was asked about (learner.calls)."""
    cos, truth = [], {}
    for i in range(n):
        co, frames = make_stack(mem, base + i * 0x1000, path, ra_slot)
        cos.append(co)
        truth[id(co)] = frames

    def learner(co, depth):
        learner.calls.append(co)
        return truth[id(co)][:depth]
    learner.calls = []
    return cos, truth, learner


def test_learns_then_walks_fast():
    mem = BytesReader()
    cos, truth, learn = same_path_stacks(
        mem, 50, [(0x100, 32), (0x200, 48), (0x300, None)])
    u = FrameSizeUnwinder(mem, learn)
    for co in cos:
        assert u.frames(co, 10) == truth[id(co)]
    assert len(learn.calls) == 2    # learned once, confirmed once
    assert u.frames(cos[7], 2) == truth[id(cos[7])][:2]


def test_return_address_in_a_frame_record_at_the_bottom():
    # aarch64: stp x29, x30, [sp, #-N]! leaves the caller's pc at sp + 8
    # and a zero (or anything) at caller_sp - 8.  Reading the x86 slot
    # would end every walk at the first frame.
    mem = BytesReader()
    cos, truth, learn = same_path_stacks(
        mem, 20, [(0x100, 32), (0x200, 48), (0x300, None)], ra_slot=8)
    u = FrameSizeUnwinder(mem, learn)
    for co in cos:
        assert u.frames(co, 10) == truth[id(co)]
    assert len(learn.calls) == 2
    assert u.ra[0x100] == 8 and u.ra[0x200] == 8


def test_disagreeing_sizes_fall_back():
    mem = BytesReader()
    a, fa = make_stack(mem, 0x100000, [(0x100, 32), (0x300, None)])
    b, fb = make_stack(mem, 0x200000, [(0x100, 64), (0x300, None)])
    c, fc = make_stack(mem, 0x300000, [(0x100, 32), (0x300, None)])
    truth = {id(a): fa, id(b): fb, id(c): fc}
    calls = []

    def learn(co, depth):
        calls.append(co)
        return truth[id(co)]
    u = FrameSizeUnwinder(mem, learn)
    assert [u.frames(x, 10) for x in (a, b, c)] == [fa, fb, fc]
    assert len(calls) == 3          # pc 0x100 is never trusted
    assert u.size[0x100] is None


def test_unreadable_stack_falls_back():
    mem = BytesReader()
    a, fa = make_stack(mem, 0x100000, [(0x100, 32), (0x300, None)])
    b, fb = make_stack(mem, 0x200000, [(0x100, 32), (0x300, None)])
    ghost = Co(0x100, 0x900000, 0x8ff000, 0x901000)   # unmapped stack
    truth = {id(a): fa, id(b): fb, id(ghost): [(0x100, 0x900000)]}
    u = FrameSizeUnwinder(mem, lambda co, d: truth[id(co)])
    u.frames(a, 10)
    u.frames(b, 10)
    assert u.frames(ghost, 10) == [(0x100, 0x900000)]
    assert u.slow == 3


# frames(co, depth, until): the walk -u and leaks use ends at the first
# frame UNTIL accepts, and gives a prefix of the full walk.

def test_until_stops_at_first_accepted_frame():
    mem = BytesReader()
    cos, truth, learn = same_path_stacks(
        mem, 20, [(0x100, 32), (0x200, 48), (0x300, 16), (0x400, None)])
    u = FrameSizeUnwinder(mem, learn)
    user = {0x300}.__contains__
    for co in cos:
        assert u.frames(co, 32, user) == truth[id(co)][:3]
    # learned twice (size checked on a second coroutine), then fast
    assert len(learn.calls) == 2 and u.slow == 2
    # no accepted frame: the whole walk, as without UNTIL
    assert u.frames(cos[5], 32, lambda pc: False) == truth[id(cos[5])]
    assert u.frames(cos[5], 2, user) == truth[id(cos[5])][:2]
    assert u.frames(cos[5], 32, {0x100}.__contains__) == \
        truth[id(cos[5])][:1]


def test_until_needs_only_frames_above_it_checked():
    # a frame below the user frame that disagrees between coroutines
    # (alloca) does not send -u back to the real unwinder
    mem = BytesReader()
    cos, truth = [], {}
    for i in range(10):
        co, frames = make_stack(mem, 0x200000 + i * 0x1000,
                                [(0x100, 32), (0x200, 48 + 16 * i),
                                 (0x300, None)])
        cos.append(co)
        truth[id(co)] = frames
    u = FrameSizeUnwinder(mem, lambda co, d: truth[id(co)][:d])
    for co in cos:
        assert u.frames(co, 32, {0x200}.__contains__) == truth[id(co)][:2]
    assert u.slow == 2
    for co in cos:
        assert u.frames(co, 32) == truth[id(co)]
