"""The frame-size unwinder against a fake 'real' unwinder."""
import struct

from corodbg.core.reader import BytesReader
from corodbg.core.stackwalk import FrameSizeUnwinder, Learned, flatten


class Co:
    wait_hint = None    # no corodbg_block_at
    unreadable = None

    def __init__(self, pc, sp, lo, hi):
        self.pc, self.sp, self.stack_lo, self.stack_hi = pc, sp, lo, hi


def make_stack(mem, lo, frames, shown=None, tails=None, ra_slot=None):
    """FRAMES: [(pc, size)] from the top; write return addresses, at
    caller_sp - 8 as an x86-64 call does, or at RA_SLOT bytes above the
    callee's sp as an aarch64 frame record at the frame's bottom does.
    Each frame shows itself (its pc) unless SHOWN[pc] says otherwise (its
    inlined frames); TAILS[(pc, caller pc)]: its tail-call frames."""
    hi = lo + 0x1000
    sp = hi - 0x200
    out = []
    buf = bytearray(0x1000)
    cur = sp
    shown, tails = shown or {}, tails or {}
    for k, (pc, size) in enumerate(frames):
        ret = frames[k + 1][0] if k + 1 < len(frames) else 0
        out.append(Learned(pc, cur, shown.get(pc, (pc,)),
                           tails.get((pc, ret or None), ())))
        if size is None:
            break
        nxt = cur + size
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
        co, frames = make_stack(mem, base + i * 0x1000, path,
                                ra_slot=ra_slot)
        cos.append(co)
        truth[id(co)] = frames

    def learner(co, depth):
        learner.calls.append(co)
        return truth[id(co)][:depth]
    learner.calls = []
    return cos, truth, learner


def pcs_sps(frames):
    return [(f.pc, f.sp) for f in frames]


def walk(u, co, depth, until=None):
    """The walk's (pc, sp)s; UNTIL here judges one shown frame."""
    return pcs_sps(u.frames(co, depth, until and (
        lambda shown: any(until(x) for x in shown))))


def test_learns_then_walks_fast():
    mem = BytesReader()
    cos, truth, learn = same_path_stacks(
        mem, 50, [(0x100, 32), (0x200, 48), (0x300, None)])
    u = FrameSizeUnwinder(mem, learn)
    for co in cos:
        assert walk(u, co, 10) == pcs_sps(truth[id(co)])
    assert len(learn.calls) == 2    # learned once, confirmed once
    assert walk(u, cos[7], 2) == pcs_sps(truth[id(cos[7])][:2])


def test_return_address_in_a_frame_record_at_the_bottom():
    # aarch64: stp x29, x30, [sp, #-N]! leaves the caller's pc at sp + 8
    # and a zero (or anything) at caller_sp - 8.  Reading the x86 slot
    # sends every coroutine to the slow unwinder.
    mem = BytesReader()
    cos, truth, learn = same_path_stacks(
        mem, 20, [(0x100, 32), (0x200, 48), (0x300, None)], ra_slot=8)
    u = FrameSizeUnwinder(mem, learn)
    for co in cos:
        assert walk(u, co, 10) == pcs_sps(truth[id(co)])
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
    assert [walk(u, x, 10) for x in (a, b, c)] == \
        [pcs_sps(fa), pcs_sps(fb), pcs_sps(fc)]
    assert len(calls) == 3          # pc 0x100 is never trusted
    assert u.size[0x100] is None


def test_unreadable_stack_falls_back():
    mem = BytesReader()
    a, fa = make_stack(mem, 0x100000, [(0x100, 32), (0x300, None)])
    b, fb = make_stack(mem, 0x200000, [(0x100, 32), (0x300, None)])
    ghost = Co(0x100, 0x900000, 0x8ff000, 0x901000)   # unmapped stack
    truth = {id(a): fa, id(b): fb,
             id(ghost): [Learned(0x100, 0x900000, (0x100,), ())]}
    u = FrameSizeUnwinder(mem, lambda co, d: truth[id(co)])
    u.frames(a, 10)
    u.frames(b, 10)
    assert walk(u, ghost, 10) == [(0x100, 0x900000)]
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
        assert walk(u, co, 32, user) == pcs_sps(truth[id(co)][:3])
    # learned twice (size checked on a second coroutine), then fast
    assert len(learn.calls) == 2 and u.slow == 2
    # no accepted frame: the whole walk, as without UNTIL
    assert walk(u, cos[5], 32, lambda pc: False) == \
        pcs_sps(truth[id(cos[5])])
    assert walk(u, cos[5], 2, user) == pcs_sps(truth[id(cos[5])][:2])
    assert walk(u, cos[5], 32, {0x100}.__contains__) == \
        pcs_sps(truth[id(cos[5])][:1])


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
        assert walk(u, co, 32, {0x200}.__contains__) == \
            pcs_sps(truth[id(co)][:2])
    assert u.slow == 2
    for co in cos:
        assert walk(u, co, 32) == pcs_sps(truth[id(co)])


# What `bt` shows beyond physical frames: inlined frames at a stack slot
# and tail-call frames between a frame and its caller.

def test_inline_and_tail_call_frames_as_bt_shows_them():
    mem = BytesReader()
    path = [(0x100, 32), (0x200, 48), (0x300, None)]
    shown = {0x200: ("park(inlined)", 0x200)}    # park inlined at 0x200
    tails = {(0x100, 0x200): ("await_token",)}    # 0x200 tail-called
    cos, truth = [], {}
    for i in range(6):
        co, frames = make_stack(mem, 0x100000 + i * 0x1000, path, shown,
                                tails)
        cos.append(co)
        truth[id(co)] = frames
    calls = []

    def learn(co, depth):
        calls.append(co)
        return truth[id(co)][:depth]
    u = FrameSizeUnwinder(mem, learn)
    want = [0x100, "await_token", "park(inlined)", 0x200, 0x300]
    for co in cos:
        got = u.frames(co, 10)
        assert [loc for _, loc in flatten(got)] == want
    assert len(calls) == 2 and u.slow == 2
    # the walk for -u ends at the first accepted frame, tail-call frames
    # and inlined frames included
    assert [loc for _, loc in flatten(
        u.frames(cos[4], 10, lambda s: "await_token" in s))] == want[:2]
    assert [loc for _, loc in flatten(
        u.frames(cos[4], 10, lambda s: "park(inlined)" in s))] == want[:4]
    assert u.slow == 2


def test_unseen_caller_goes_to_the_real_unwinder():
    # the same pc called from a new place may have tail-call frames the
    # walker has never seen: that pair is learned, not guessed
    mem = BytesReader()
    a, fa = make_stack(mem, 0x100000, [(0x100, 32), (0x200, None)])
    b, fb = make_stack(mem, 0x200000, [(0x100, 32), (0x200, None)])
    c, fc = make_stack(mem, 0x300000, [(0x100, 32), (0x400, None)],
                       tails={(0x100, 0x400): ("helper",)})
    truth = {id(a): fa, id(b): fb, id(c): fc}
    u = FrameSizeUnwinder(mem, lambda co, d: truth[id(co)][:d])
    u.frames(a, 10)
    u.frames(b, 10)
    assert u.slow == 2
    assert [loc for _, loc in flatten(u.frames(c, 10))] == \
        [0x100, "helper", 0x400]
    assert u.slow == 3


def test_flatten_numbers_and_cuts_like_bt():
    mem = BytesReader()
    co, frames = make_stack(mem, 0x100000, [(0x100, 32), (0x200, None)],
                            {0x100: ("a", "b")})
    u = FrameSizeUnwinder(mem, lambda c, d: frames[:d])
    assert flatten(u.frames(co, 10), first_level=1) == \
        [(1, "a"), (2, "b"), (3, 0x200)]
    assert flatten(u.frames(co, 10), depth=2) == [(0, "a"), (1, "b")]


def test_proc_mem_reader_only_for_the_same_process():
    # the stack reader of a live local process is /proc/PID/mem, used only
    # when it shows what the debugger's reader shows
    import ctypes
    import os
    from corodbg.core import reader
    buf = ctypes.create_string_buffer(b"corodbg-stack" * 8)
    addr = ctypes.addressof(buf)
    same = reader.FunctionReader(lambda a, n: ctypes.string_at(a, n))
    r = reader.open_proc_mem(os.getpid(), same, addr)
    assert isinstance(r, reader.ProcMemReader)
    assert r.read(addr, 13) == b"corodbg-stack"
    r.close()
    other = reader.FunctionReader(lambda a, n: b"\0" * n)
    assert reader.open_proc_mem(os.getpid(), other, addr) is None
    assert reader.open_proc_mem(0, same, addr) is None


# The user frame alone (runtime_rules.UserRule.walked over
# FrameSizeUnwinder.user_frame, the hot path of -u, -group user and
# leaks) must equal the general walk's answer for every coroutine:
# runtime tops, user tops, inlined user frames, user and runtime
# tail-call frames, stacks with no user frame, and depth cuts.

def test_user_frame_fast_path_equals_the_general_walk():
    import random

    from corodbg.core import runtime_rules
    from corodbg.core.model import Location

    def loc(name, pc):
        return Location(name, "f.c", pc & 0xff, pc)
    names = {0x100: "rt_park", 0x200: "rt_wait", 0x300: "conn",
             0x400: "rt_sched", 0x500: "worker", 0x600: "rt_entry"}
    shown = {pc: (loc(n, pc),) for pc, n in names.items()}
    shown[0x200] = (loc("rt_inner", 0x200), loc("helper", 0x200))
    tails = {(0x100, 0x200): (loc("rt_tail", 0x1f0),),
             (0x100, 0x400): (loc("await_x", 0x3f0),),
             (0x600, None): (loc("rt_start", 0x6f0),)}
    sizes = {0x100: 32, 0x200: 48, 0x300: 64, 0x400: 16, 0x500: 80}
    rng = random.Random(10)
    mem = BytesReader()
    cos, truth = [], {}
    for i in range(400):
        path = [rng.choice(list(sizes)) for _ in range(rng.randint(1, 5))]
        frames = [(pc, sizes[pc]) for pc in path] + [(0x600, None)]
        co, fr = make_stack(mem, 0x100000 + i * 0x1000, frames, shown,
                            tails)
        cos.append(co)
        truth[id(co)] = fr
    u = FrameSizeUnwinder(mem, lambda co, d: truth[id(co)][:d])
    rule = runtime_rules.UserRule(runtime_rules.RuntimeFrames(["rt_*"], []))
    for co in cos * 2:      # learn and check every pc and caller pair
        u.frames(co, 32)
    fast = 0
    kinds = set()
    for depth in (1, 2, 3, 32):
        for co in cos:
            want = rule.user(u.frames(co, depth, rule.accepts))
            got = rule.walked(u, co, depth)
            if got is False:
                continue
            fast += 1
            assert got == want, (depth, truth[id(co)])
            kinds.add((got.function, got.note))
    assert fast == 4 * len(cos)
    # every kind of answer was met: a top user frame, an inlined one,
    # a tail-call one, a deeper one, and none at all
    assert {("conn", None), ("helper", None), ("await_x", None),
            ("worker", None)} <= kinds
    assert any(note == runtime_rules.NO_USER_FRAME for _, note in kinds)


def test_read_many_reads_ranges_of_a_live_process():
    """ProcMemReader.read_many (one process_vm_readv for many ranges) on
    this very process: the bytes of each range, or None when one range
    is unreadable (the caller then reads them one by one)."""
    import ctypes
    import os

    from corodbg.core.reader import ProcMemReader, _process_vm_readv
    if _process_vm_readv() is None:
        return   # no ctypes / no such call here: read_many is never used
    bufs = [bytearray(os.urandom(n)) for n in (16, 512, 3, 4096) * 300]
    keep = [(ctypes.c_char * len(b)).from_buffer(b) for b in bufs]
    ranges = [(ctypes.addressof(c), len(b)) for c, b in zip(keep, bufs)]
    r = ProcMemReader(os.open("/proc/self/mem", os.O_RDONLY),
                      BytesReader(), os.getpid())
    try:
        views = r.read_many(ranges)      # 1,200 ranges: two calls
        assert [bytes(v) for v in views] == [bytes(b) for b in bufs]
        assert r.read_many(ranges[:5] + [(8, 8)]) is None
    finally:
        r.close()
    no_pid = ProcMemReader(os.open("/proc/self/mem", os.O_RDONLY),
                           BytesReader())
    assert no_pid.read_many(ranges) is None
    no_pid.close()


def test_stack_windows_read_a_batch_at_a_time_with_the_same_answers():
    """StackWindows hands the walker each coroutine's window from one
    read_many per BATCH coroutines in table order; the user frames are
    those of a read per coroutine.  A reader without read_many, or one
    whose read_many fails, reads one by one."""
    from corodbg.core import runtime_rules
    from corodbg.core.model import Location
    from corodbg.core.stackwalk import StackWindows

    class Many(BytesReader):
        calls = 0
        fail = False

        def read_many(self, ranges):
            Many.calls += 1
            if self.fail:
                return None
            return [memoryview(self.read(a, n)) for a, n in ranges]
    names = {0x100: "rt_park", 0x200: "conn", 0x300: "rt_wait",
             0x600: "rt_entry"}
    shown = {pc: (Location(n, "f.c", 1, pc),) for pc, n in names.items()}
    mem = Many()
    cos, truth = [], {}
    for i in range(300):
        path = [(0x100, 32), (0x300, 48)][:1 + i % 2] + [(0x200, 64),
                                                          (0x600, None)]
        co, fr = make_stack(mem, 0x100000 + i * 0x1000, path, shown)
        co.unreadable = None
        cos.append(co)
        truth[id(co)] = fr
    u = FrameSizeUnwinder(mem, lambda co, d: truth[id(co)][:d])
    rule = runtime_rules.UserRule(runtime_rules.RuntimeFrames(["rt_*"], []))
    for co in cos[:4]:
        u.frames(co, 32)        # learn
    want = [rule.walked(u, co, 32) for co in cos]
    assert all(w and w.function == "conn" for w in want)
    w = StackWindows(u, cos)
    w.BATCH = 64
    got = [rule.walked_at(u, co.pc, co.sp, co.stack_hi, 32, w.window(co))
           for co in cos]
    assert got == want and Many.calls == 5     # ceil(300 / 64)
    w = StackWindows(u, cos)       # a batch holds at most MAX_BYTES
    w.MAX_BYTES = 8 * u.window
    got = [rule.walked_at(u, co.pc, co.sp, co.stack_hi, 32, w.window(co))
           for co in cos]
    assert got == want and Many.calls == 5 + 38   # ceil(300 / 8)
    mem.fail = True
    w = StackWindows(u, cos)
    assert w.window(cos[0]) is None and w.many is None
    assert w.window(cos[1]) is None and Many.calls == 5 + 38 + 1


def test_user_frame_reads_only_the_return_slots_it_needs():
    """Without a batch window (a remote target: a round trip per read,
    costing by the byte) the walk to the user frame reads from the sp
    only up to the last return-address slot a learned walk can reach:
    here 80 bytes for a user frame one or two runtime frames down, not
    the 512-byte window.  A learned recursion has no bound: the window.
    The answers are those of whole windows."""
    from corodbg.core import runtime_rules
    from corodbg.core.model import Location

    class Counting(BytesReader):
        sizes = []

        def read(self, addr, size):
            self.sizes.append(size)
            return BytesReader.read(self, addr, size)
    names = {0x100: "rt_park", 0x200: "conn", 0x300: "rt_wait",
             0x400: "rt_loop", 0x500: "rt_other", 0x600: "rt_entry"}
    shown = {pc: (Location(n, "f.c", 1, pc),) for pc, n in names.items()}
    mem = Counting()
    cos, truth = [], {}
    paths = ([(0x100, 32), (0x200, 64)],
             [(0x100, 32), (0x300, 48), (0x200, 64)],
             [(0x400, 16), (0x400, 16), (0x400, 16), (0x200, 64)])
    for i in range(60):
        co, fr = make_stack(mem, 0x100000 + i * 0x1000,
                            paths[i % 3] + [(0x600, None)], shown)
        cos.append(co)
        truth[id(co)] = fr
    u = FrameSizeUnwinder(mem, lambda co, d: truth[id(co)][:d])
    rule = runtime_rules.UserRule(runtime_rules.RuntimeFrames(["rt_*"], []))
    for co in cos[:6]:
        u.frames(co, 32)        # learn and check
    want = [rule.user(u.frames(co, 32, rule.accepts)) for co in cos]
    assert all(w.function == "conn" for w in want)
    del Counting.sizes[:]
    got = [rule.walked(u, co, 32) for co in cos]
    assert got == want
    assert u.window == 512
    # rt_park's return slot (24 + 8), rt_wait's (32 + 40 + 8); the
    # recursive rt_loop: the window (capped by the stack top)
    assert Counting.sizes == [80, 80, 0x200] * 20


def test_wait_hint_is_checked_once_then_saves_every_read():
    """A blocked coroutine's wait pc (corodbg_block_at) stands for the
    walk down to the user frame.  The first coroutine at each (park pc,
    wait pc, reason) is walked and the hint kept only if the walk agrees;
    the others then cost no read.  A hint the walk contradicts (a user
    helper tail-called the runtime, so `bt` shows it as a tail-call frame
    the return address skips; a pc not on the stack; a runtime pc) is
    never used, and those coroutines get the walk's answer."""
    from corodbg.core import runtime_rules
    from corodbg.core.model import Location

    class Counting(BytesReader):
        reads = 0

        def read(self, addr, size):
            Counting.reads += 1
            return BytesReader.read(self, addr, size)
    names = {0x100: "rt_park", 0x200: "rt_recv", 0x210: "rt_wait",
             0x300: "conn", 0x500: "rt_trampoline", 0x600: "rt_entry"}
    shown = {pc: (Location(n, "f.c", 1, pc),) for pc, n in names.items()}
    helper = (Location("await_io", "f.c", 9, 0x2f0),)
    tails = {(0x210, 0x300): helper}
    # (path, hint, reason, the user frame bt shows)
    kinds = [
        ([(0x100, 32), (0x200, 48), (0x300, 64)], 0x300, 2, "conn"),
        ([(0x100, 32), (0x210, 48), (0x300, 64)], 0x300, 6, "await_io"),
        ([(0x100, 32), (0x200, 48), (0x300, 64)], 0xdead, 3, "conn"),
        ([(0x100, 32), (0x200, 48), (0x500, 64)], 0x500, 7, None),
    ]
    mem = Counting()
    cos, truth, hints = [], {}, {}
    for i in range(200):
        path, hint, reason, _ = kinds[i % 4]
        co, fr = make_stack(mem, 0x100000 + i * 0x1000,
                            path + [(0x600, None)], shown, tails)
        cos.append(co)
        truth[id(co)] = fr
        hints[id(co)] = (hint, reason)
    u = FrameSizeUnwinder(mem, lambda co, d: truth[id(co)][:d])
    rule = runtime_rules.UserRule(runtime_rules.RuntimeFrames(["rt_*"], []))
    for co in cos[:8] * 2:
        u.frames(co, 32)        # learn and check every pc
    want = [rule.user(u.frames(co, 32, rule.accepts)) for co in cos]
    assert [w.function if w.note is None else None for w in want[:4]] == \
        [k[3] for k in kinds]
    Counting.reads = 0
    got = [rule.walked_at(u, co.pc, co.sp, co.stack_hi, 32,
                          via=hints[id(co)]) for co in cos]
    assert got == want
    # kind 0: one read to check its hint, then none; kinds 1-3: read
    # every time (hint contradicted)
    assert Counting.reads == 1 + 3 * 50
    Counting.reads = 0
    assert [rule.walked_at(u, co.pc, co.sp, co.stack_hi, 32,
                           via=hints[id(co)]) for co in cos] == want
    assert Counting.reads == 3 * 50


def test_wait_hint_only_where_a_read_costs_a_round_trip():
    """The hint stands in for the walk only on a live target without a
    batch window (gdbserver): a core may lack the stack pages `bt` needs,
    and a local batch makes the walk as cheap and exact.  An entry the
    table's checks flagged, or whose saved sp is 0 or outside its stack,
    gets no hint."""
    from corodbg.core import runtime_rules
    from corodbg.core.model import Location
    names = {0x100: "rt_park", 0x200: "rt_recv", 0x300: "conn",
             0x390: "user_cb", 0x600: "rt_entry"}
    shown = {pc: (Location(n, "f.c", 1, pc),) for pc, n in names.items()}
    mem = BytesReader()
    good, gf = make_stack(mem, 0x100000, [(0x100, 32), (0x200, 48),
                                          (0x300, 64), (0x600, None)], shown)
    # the contract broken on a later coroutine: user code between the
    # park and the call (only a read can tell)
    odd, of = make_stack(mem, 0x200000, [(0x100, 32), (0x390, 48),
                                         (0x300, 64), (0x600, None)], shown)
    truth = {id(good): gf, id(odd): of}
    u = FrameSizeUnwinder(mem, lambda co, d: truth[id(co)][:d])
    rule = runtime_rules.UserRule(runtime_rules.RuntimeFrames(["rt_*"], []))
    for co in (good, odd) * 2:
        u.frames(co, 32)
    via = (0x300, 2)
    assert rule.walked_at(u, good.pc, good.sp, good.stack_hi, 32,
                          via=via).function == "conn"     # checked, kept
    window = mem.read(odd.sp, 512)
    assert rule.walked_at(u, odd.pc, odd.sp, odd.stack_hi, 32, window,
                          runtime_rules.walk_hint(odd, True, window)
                          ).function == "user_cb"         # read: exact
    assert rule.walked_at(u, odd.pc, odd.sp, odd.stack_hi, 32,
                          via=via).function == "conn"     # the word taken

    class Entry:
        unreadable = None
        wait_hint = via

        def __init__(self, sp, lo=0x1000, hi=0x2000):
            self.sp, self.stack_lo, self.stack_hi = sp, lo, hi
    assert runtime_rules.walk_hint(Entry(0x1800), True) == via
    assert runtime_rules.walk_hint(Entry(0x1800, 0, 0), True) == via
    assert runtime_rules.walk_hint(Entry(0x1800, None, None), True) == via
    assert runtime_rules.walk_hint(Entry(0x1800), False) is None   # core
    assert runtime_rules.walk_hint(Entry(0x1800), True, b"window") is None
    assert runtime_rules.walk_hint(Entry(0), True) is None
    assert runtime_rules.walk_hint(Entry(0x2000), True) is None
    assert runtime_rules.walk_hint(Entry(0x0800), True) is None
    bad = Entry(0x1800)
    bad.unreadable = "bad-stack"
    assert runtime_rules.walk_hint(bad, True) is None
