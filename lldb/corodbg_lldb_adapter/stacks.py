"""Coroutine stacks as LLDB's `bt` shows them, and the core listing's view
of LLDB (listing.Frontend): locations, user frames and stack listings for
`coroutine list`, `coroutine leaks` and the thread names.

A parked coroutine's stack is walked by the core's frame-size unwinder
(stackwalk.py) with one memory read, learning frame sizes from LLDB's own
unwinder on one coroutine per new pc; LLDB's unwinder on the coroutine's
thread is the fallback.
"""
import os

import lldb

from corodbg.core import listing, runtime_rules
from corodbg.core.model import Location
from corodbg.core.runtime_rules import StackEnd
from corodbg.core.stackwalk import (FrameSizeUnwinder, Learned,
                                    StackWindows, flatten, shown)

from . import target as T


def _frame_location(sess, f, is_return, top):
    """Location of LLDB frame F as `bt` prints it: LLDB's function name
    (an inlined frame's is the inlined function's) and line entry.
    IS_RETURN: F's pc is a return address; TOP: F is its thread's first.  LLDB looks up the call's line
    for every frame but a thread's top one, which for a parked coroutine
    is a return address too: there the call's line is taken (where it
    waits, not the line after), unless LLDB shows inlined frames there."""
    pc = f.GetPC()
    name = T.function_name(f.GetFunctionName())
    if not name:
        return sess.symbolize(pc, is_return)
    if is_return and top and not f.IsInlined():
        loc = sess.symbolize(pc, True)
        if loc.function == name:
            return loc
    path, line = None, 0
    le = f.GetLineEntry()
    if le.IsValid() and le.GetLine():
        fs = le.GetFileSpec()
        path, line = fs.fullpath or fs.GetFilename(), le.GetLine()
    return Location(name, path, line, pc)


def _physical_start(sess, f):
    """Load address of the function physical frame F executes (LLDB names
    a stripped program's functions from its eh_frame), or None."""
    if f.IsInlined() or f.IsArtificial():
        return None
    sym = f.GetSymbol()
    if not sym.IsValid():
        return None
    return sym.GetStartAddress().GetLoadAddress(sess.target)


def _is_code(sess, f):
    """Is F's pc code: in a symbol, or mapped?  Not the zero or sentinel
    a runtime leaves at a stack's bottom."""
    if f.GetSymbol().IsValid():
        return True
    err = lldb.SBError()
    sess.process.ReadMemory(f.GetPC(), 1, err)
    return err.Success()


def _stack_end(co):
    """runtime_rules.StackEnd of parked coroutine CO."""
    return StackEnd(co.entry_fn, T.CONFIG.runtime.start)


def _real_frames(sess, th, depth, on_thread=False, end=None):
    """[stackwalk.Learned] of thread TH: at most DEPTH physical frames,
    holding every frame LLDB's `bt` shows.  LLDB lists an inlined call as
    a frame of its own at the same stack slot, innermost first, and gives
    the frames around it adjusted pcs: a slot's real pc is its innermost
    frame's.  Tail-call frames it synthesizes are "artificial" frames
    between a frame and its caller.  ON_THREAD: TH is the OS thread a
    coroutine executes on (its top frame's pc is not a return address).
    END (runtime_rules.StackEnd): a parked coroutine's stack ends there,
    as GDB's `bt` of it does (LLDB's own `bt` goes on: it has no frame
    filter a plugin could install)."""
    out = []
    shown, pc = [], None
    for i in range(th.GetNumFrames()):
        f = th.GetFrameAtIndex(i)
        cut = StackEnd.SHOW if end is None else end.check(
            f.GetPC(), lambda: _physical_start(sess, f),
            lambda: _is_code(sess, f), bool(out or shown))
        if cut == StackEnd.HIDE:
            break
        loc = _frame_location(sess, f, i > 0 or not on_thread, i == 0)
        if f.IsArtificial() and out and not shown:
            out[-1].tail.append(loc)
            continue
        if pc is None:
            pc = f.GetPC()
        shown.append(loc)
        if f.IsInlined() or f.IsArtificial():
            continue
        if len(out) >= depth:
            break
        out.append(Learned(pc, f.GetSP(), shown, []))
        shown, pc = [], None
        if cut == StackEnd.LAST:
            break
    return out


def _lldb_frames(sess, co, depth):
    """[stackwalk.Learned] of CO from LLDB's own unwinder (its thread)."""
    th = sess.thread_for(co)
    return _real_frames(sess, th, depth, end=_stack_end(co)) \
        if th is not None else []


def _walker(sess):
    """The core's FrameSizeUnwinder for this process, or None.  It walks
    most parked coroutines with one memory read each (a pread of
    /proc/PID/mem for a live local process: sess.stack_reader()), learning
    frame sizes from LLDB's unwinder on one coroutine per new pc (and
    checking them on a second), so -u, -t and leaks stay fast at 100,000
    coroutines."""
    w = sess.walker
    if w is None and not os.environ.get("CORODBG_SLOW_STACKS"):
        try:
            p = sess.table().prefix
            w = FrameSizeUnwinder(
                sess.stack_reader(),
                lambda co, depth: _lldb_frames(sess, co, depth),
                ptr_size=p["ptr_size"], endian=p["endian"])
        except Exception:
            w = False
        sess.walker = w
    return w or None


def _walk(sess, co, depth, until=None, on_ids=None):
    """[stackwalk.Frame] of CO's stack as `bt` shows it, at most DEPTH
    physical frames; with UNTIL(shown frames), a parked stack ends at the
    first frame it accepts.  ON_IDS: the ids of the coroutines on OS
    threads, when the caller has them."""
    if on_ids is None:
        on_ids = {c.id for c in sess.on_threads().values()}
    w = None if co.id in on_ids else _walker(sess)
    if w is not None:
        try:
            return w.frames(co, depth, until)
        except Exception:   # the fast path is an optimisation only
            pass
    th = sess.thread_for(co)
    if th is None:
        return []
    on = co.id in on_ids
    return shown(_real_frames(sess, th, depth, on,
                              None if on else _stack_end(co)))


def frames_of(sess, co, depth):
    """[(level, Location)] of CO's stack (its coroutine thread, or its OS
    thread while it runs), at most DEPTH frames."""
    return flatten(_walk(sess, co, depth), depth)


class Frontend(listing.Frontend):
    """The core listing's view of LLDB (corodbg.core.listing)."""

    def __init__(self, sess):
        self.sess = sess
        self.runtime = T.CONFIG.runtime
        self._on_ids = None     # ids of coroutines on OS threads (this stop)
        self._rule = None
        self._windows = None    # stackwalk.StackWindows, this command
        super().__init__(sess.table())

    def symbolize(self, pc, is_return=True):
        return self.sess.symbolize(pc, is_return)

    def frames_of(self, co, depth):
        return frames_of(self.sess, co, depth)

    def user_location(self, co, depth=listing.DEFAULT_USER_DEPTH):
        """The core's rule (runtime_rules.UserRule), a parked stack walked only
        down to the user frame."""
        if self._on_ids is None:
            self._on_ids = {c.id for c in self.sess.on_threads().values()}
            self._rule = runtime_rules.UserRule(self.runtime)
            w = _walker(self.sess)
            # stack windows a thousand at a time, as GDB's frontend
            self._windows = w and StackWindows(w, self.table.coroutines)
            self._live = not self.sess.is_core()
        w = None if co.id in self._on_ids else _walker(self.sess)
        if w is not None:
            try:
                pc, sp = co.pc, co.sp
                data = None
                if self._windows and co.unreadable is None and pc and sp:
                    data = self._windows.window(co)
                loc = self._rule.walked_at(
                    w, pc, sp, co.stack_hi, depth, data,
                    runtime_rules.walk_hint(co, self._live, data))
            except Exception:   # the fast path is an optimisation only
                loc = False
            if loc is not False:
                return loc or self.symbolize(co.pc)
        frames = _walk(self.sess, co, depth, self._rule.accepts,
                       self._on_ids)
        return self._rule.user(frames) or self.symbolize(co.pc)

    def executing(self):
        return self.sess.on_threads()

    def thread_location(self, co, tid):
        # Executing on an OS thread: where that thread is, not the stale
        # saved context.
        th = self.sess.process.GetThreadByID(tid)
        f = th.GetFrameAtIndex(0) if th.IsValid() else None
        if f is not None and f.IsValid():
            return self.sess.symbolize(f.GetPC(), False)
        return None


def list_lines(sess, q, marker):
    """The listing for query Q as lines (shared by `coroutine list`)."""
    tbl = sess.table()
    return listing.list_lines(Frontend(sess), q, sess.now_ns(tbl), marker,
                              warnings=True, notes=(sess.cut_note,))
