"""Coroutine views: the unwinder, the frame filter and selection.

Selecting a parked coroutine never writes registers (so it works on core
files): while a view is active, our unwinder claims the selected thread's
frame #0 and reports the coroutine's saved registers as that frame's
caller.  Frame #1 is then the coroutine's top frame, unwound from there
by GDB's normal CFI unwinders; the frame filter hides the real frame #0
and the junk frames below the coroutine's start function.

GDB's inline-frame unwinder runs before any Python unwinder: when the
thread stopped in an inlined function (a hung process attached in
futex_wait inlined into pthread_join), frames #0..#k-1 are inline frames
and ours can only claim #k, the real frame they sit in.  The view records
that k ("base") and checks, once set, that the frame after it has the
saved pc and sp; otherwise it refuses rather than show another stack.
"""
import gdb
from gdb.FrameDecorator import FrameDecorator
from gdb.unwinder import Unwinder, register_unwinder

from corodbg.core import (errors, layout, listing, registers,
                          regmap, regs, runtime_rules)
from corodbg.core.model import Location
from corodbg.core.runtime_rules import StackEnd
from corodbg.core.stackwalk import (FrameSizeUnwinder, Learned,
                                    StackWindows, flatten, shown)
from . import target
from .target import S

class View:
    """The selected coroutine's saved context, bound to one GDB thread."""

    def __init__(self, co, tbl, thread, base=0):
        names = registers.names(tbl.prefix["arch"]) or {}
        regmap.check(tbl, names, _target_arch())
        # The core knows where the registers are (table, runtime block or
        # pushed frame) and raises the one-line reason when they are not.
        saved = regs.saved_registers(tbl, co)
        if not co.pc or not co.sp:
            raise errors.CorodbgError("coroutine %d has no saved context"
                                      % co.id)
        self.co = co
        self.thread = thread
        self.base = base  # level our unwinder claims (after inline frames)
        self.regs = [(names[d], v) for d, v in saved if d in names]
        self.sp = co.sp
        # where its `bt` ends (the core's rule): the entry function, by
        # address (names differ between C and C++, `conn` vs
        # `conn(void*)`, and a stripped program has none), or above the
        # runtime's start function when that frame is gone (tail call,
        # inlined)
        self.end = runtime_rules.StackEnd(co.entry_fn, S.runtime.start)



# GDB architecture name -> ELF e_machine (for the register map check).
_GDB_ARCH = (("x86-64", layout.ARCH_X86_64), ("aarch64", layout.ARCH_AARCH64))


def _target_arch():
    """The program's e_machine as GDB sees it, or None when unknown."""
    try:
        name = gdb.selected_inferior().architecture().name()
    except (gdb.error, AttributeError, RuntimeError):
        return None
    for key, arch in _GDB_ARCH:
        if key in name:
            return arch
    return None


class _FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class CoroutineUnwinder(Unwinder):
    """Claims frame #0 of the viewed thread; its caller is the coroutine."""

    def __init__(self):
        super().__init__("corodbg")
        self._types = {}

    def __call__(self, pending):
        v = S.view
        if v is None or pending.level() != v.base:
            return None
        if gdb.selected_thread() != v.thread:
            return None
        first = v.regs[0][0]
        pc = pending.read_register(first)
        sp_name = v.regs[1][0]
        sp = pending.read_register(sp_name)
        # Frame #0's id must be "inner" to the coroutine's frame, wherever
        # the coroutine's stack lies relative to this thread's.
        fid_sp = min(int(sp), v.sp) - 16
        ui = pending.create_unwind_info(
            _FrameId(gdb.Value(fid_sp).cast(sp.type), pc))
        for name, value in v.regs:
            t = self._types.get(name)
            if t is None:
                t = self._types[name] = pending.read_register(name).type
            ui.add_saved_register(name, gdb.Value(value).cast(t))
        return ui


class _Named(FrameDecorator):
    """Print "??" for a function GDB cannot name, as plain bt does."""

    def function(self):
        fn = super().function()
        # GDB could not name it: GDB 13 gives the address, GDB 16 "???"
        if fn == "???":
            fn = self.inferior_frame().pc()
        if isinstance(fn, int):
            name, _ = target._function_at(fn)
            return name or "??"
        return fn if fn else "??"


class _AtStart(FrameDecorator):
    """The top frame of a coroutine that never ran: its pc is its start
    function's first instruction, not a return address, but GDB names a
    caller frame by pc - 1, the end of whatever function lies before it
    (`frame_dummy`, or the previous function with its last line).  Named
    and placed by the pc itself, as `info coroutines` does."""

    def __init__(self, base, loc):
        super().__init__(base)
        self._loc = loc

    def function(self):
        return self._loc.function or "??"

    def filename(self):
        return self._loc.file

    def line(self):
        return self._loc.line or None


class CoroutineFrameFilter:
    """Hides the real frame #0 and frames below the start function.

    Enabled only while a view is active: any enabled frame filter makes
    GDB print every backtrace through Python, which changes plain `bt`
    (a Python exception instead of `<error reading variable>`, unnamed
    frames as `in  ()` instead of `?? ()`)."""

    def __init__(self):
        self.name = "corodbg"
        self.priority = 100
        self.enabled = False
        gdb.frame_filters[self.name] = self

    def filter(self, frames):
        v = S.view
        if v is None or gdb.selected_thread() != v.thread:
            return frames
        return self._hide(frames, v)

    @staticmethod
    def _hide(frames, v):
        shown = False
        for dec in frames:
            f = dec.inferior_frame()
            if f.level() <= v.base:
                continue
            end = stack_end(f, v, shown)
            if end == StackEnd.HIDE:
                break
            first = not shown
            shown = True
            if first and at_function_start(f):
                yield _AtStart(dec, target.symbolize(f.pc(), False))
            else:
                yield _Named(dec)
            if end == StackEnd.LAST:
                break


def _is_code(f):
    """Is F's pc code: named, or mapped?  Not the zero return address, a
    sentinel (0xdeaddead...) or other junk at a stack's bottom."""
    if f.name() is not None:
        return True
    try:
        gdb.selected_inferior().read_memory(f.pc(), 1)
    except (gdb.error, gdb.MemoryError, RuntimeError):
        return False
    return True


def _function_start(f):
    """Entry address of the function physical frame F executes, or None."""
    if f.type() == gdb.INLINE_FRAME:
        return None
    sym = f.function()
    if sym is not None:
        try:
            return int(sym.value().address)
        except (gdb.error, RuntimeError, TypeError):
            pass
    pc = f.pc()
    _, start = target._function_at(pc)
    if start != pc:   # a return address: the call is at pc - 1
        _, start = target._function_at(pc - 1)
    if start is None:   # no symbol (stripped): by its unwind info
        start = target.cfi_function_start(pc)
    return start


def stack_end(f, v, after_shown):
    """StackEnd.SHOW, LAST or HIDE for frame F in view V's `bt`."""
    return v.end.check(f.pc(), lambda: _function_start(f),
                       lambda: _is_code(f), after_shown)


_unwinder = CoroutineUnwinder()
register_unwinder(None, _unwinder, replace=True)
_filter = CoroutineFrameFilter()


def _drop_view(*_args):
    if S.view is not None:
        S.view = None
        _filter.enabled = False
        gdb.invalidate_cached_frames()


gdb.events.cont.connect(_drop_view)
gdb.events.exited.connect(_drop_view)


def current_coroutine_id():
    """Id of the coroutine being looked at: the view's, else the one running
    on the selected thread, else 0."""
    if S.view is not None and gdb.selected_thread() == S.view.thread:
        return S.view.co.id
    if not target.has_target():
        return 0
    try:
        tbl = target.table()
    except errors.CorodbgError:
        return 0
    co = tbl.on_thread(target.current_lwp(), target.current_sp())
    return co.id if co else 0


def _set_view(view):
    S.view = view
    _filter.enabled = view is not None
    gdb.invalidate_cached_frames()


def _frame_at(level):
    f = gdb.newest_frame()
    while f is not None and f.level() < level:
        f = f.older()
    return f


def save_selection():
    th = gdb.selected_thread()
    try:
        level = gdb.selected_frame().level()
    except gdb.error:
        level = None
    return (S.view, th, level)


def restore_selection(saved):
    view, th, level = saved
    if th is not None and th.is_valid() and gdb.selected_thread() != th:
        th.switch()
    _set_view(view)
    if level is not None:
        try:
            f = _frame_at(level)
            if f is not None:
                f.select()
        except gdb.error:
            pass


def enter(co, tbl, quiet=False, saved=False):
    """Make CO the selected context.  Returns a one-line description.
    SAVED: show its saved registers even though it is on a thread (an
    event reported from the scheduler's stack: they are complete)."""
    th = None if saved else _thread_running(co)
    if th is not None:
        # On an OS thread right now (running, or stopped in a crash, a
        # panic or an event before switching away): its stack is the
        # thread's, and the saved registers are stale.
        _set_view(None)
        if th != gdb.selected_thread():
            th.switch()
        gdb.invalidate_cached_frames()
        if not quiet:
            select_user_frame()
        return ("[Switching to thread %d (LWP %d): coroutine %d \"%s\" "
                "(%s) is on it]" % (th.num, th.ptid[1], co.id, co.name,
                                    co.state_name))
    th = gdb.selected_thread()
    if th is None:
        raise errors.CorodbgError("no thread to view coroutine %d from"
                                  % co.id)
    _set_view(None)
    _set_view(View(co, tbl, th, _inline_depth()))
    f = _frame_at(S.view.base + 1)
    _check_view(co, f)
    f.select()
    return "[Switching to coroutine %d \"%s\" (%s%s)]" % (
        co.id, co.name, co.state_name,
        ", " + co.wait_name if co.wait_name else "")


def _inline_depth():
    """How many inline frames the selected thread's real stack starts with
    (no view active): the level our unwinder will be asked for."""
    n = 0
    f = gdb.newest_frame()
    while f is not None and f.type() == gdb.INLINE_FRAME:
        n += 1
        f = f.older()
    return n


def _check_view(co, f):
    """Refuse the view unless F, the coroutine's top frame, has its saved
    pc and sp: another unwinder may have claimed the frame ours needed."""
    pc = sp = None
    if f is not None:
        try:
            pc, sp = f.pc(), int(f.read_register(_SP_NAME))
        except (gdb.error, RuntimeError):
            pass
    if pc == co.pc and sp == co.sp:
        return
    _set_view(None)
    got = ("pc 0x%x sp 0x%x" % (pc, sp)) if sp is not None else \
        "no readable frame"
    raise errors.CorodbgError(
        "coroutine %d: GDB unwound %s instead of the saved pc 0x%x sp 0x%x:"
        " refusing to show another stack" % (co.id, got, co.pc, co.sp))


def _thread_running(co):
    """The GDB thread CO is on now, or None: its tid, else the selected
    thread when that thread's sp lies inside CO's stack."""
    if co.tid:
        th = target.thread_for_tid(co.tid)
        if th is None:
            raise errors.CorodbgError(
                "coroutine %d runs on thread %d, which GDB does not know"
                % (co.id, co.tid))
        return th
    th = gdb.selected_thread()
    if th is None or not co.stack_lo or not co.stack_hi:
        return None
    sp = _thread_sp(th)
    if sp is not None and co.stack_lo <= sp < co.stack_hi:
        return th
    return None


def _thread_sp(th):
    """Thread TH's sp, read once per stop (a listing asks per coroutine)."""
    if th.num in S.thread_sps:
        return S.thread_sps[th.num]
    try:
        sp = int(gdb.newest_frame().read_register(_SP_NAME))
    except (gdb.error, RuntimeError):
        sp = None
    S.thread_sps[th.num] = sp
    return sp


_SP_NAME = "sp"


def select_user_frame():
    """Select the newest frame of the thread outside the runtime, past a
    signal handler's frames if there are any."""
    newest = gdb.newest_frame()
    f = newest
    # after a signal: start below the handler
    while f is not None:
        if f.type() == gdb.SIGTRAMP_FRAME:
            newest = f.older()
            break
        f = f.older()
    fallback = None
    f = newest
    while f is not None:
        name = f.name()
        if name and f.type() == gdb.NORMAL_FRAME:
            sal = f.find_sal()
            path = sal.symtab.filename if sal.symtab else None
            if not S.runtime.is_runtime(name, path):
                f.select()
                return f
            if fallback is None and not name.startswith("corodbg"):
                fallback = f
        f = f.older()
    if fallback is not None:
        fallback.select()
    return fallback


def leave():
    _set_view(None)
    try:
        gdb.newest_frame().select()
    except gdb.error:
        pass


def at_function_start(f):
    """Does physical frame F sit at a function's first instruction (a
    coroutine that never ran: its saved pc is its start routine)?"""
    pc = f.pc()
    return f.type() == gdb.NORMAL_FRAME and target._function_at(pc)[1] == pc


def print_selected_frame(from_tty):
    """`frame`, as GDB prints it, but for a coroutine that never ran: GDB
    names that frame by pc - 1 (see _AtStart), so its line is printed
    here from the pc itself, in GDB's layout."""
    f = gdb.selected_frame()
    if S.view is None or not at_function_start(f):
        gdb.execute("frame", from_tty)
        return
    loc = target.symbolize(f.pc(), False)
    where = " at %s:%d" % (loc.file, loc.line) if loc.file and loc.line \
        else ""
    gdb.write("#%-2d 0x%016x in %s ()%s\n"
              % (f.level(), f.pc(), loc.function or "??", where))
    if where:
        try:
            gdb.execute("list %s:%d,%d" % (loc.file, loc.line, loc.line),
                        from_tty)
        except gdb.error:
            pass    # no source here: GDB's frame line says as much


def _frame_location(f):
    """Location of frame F as `bt` prints it: named by the decorator the
    frame filter prints with (the symbol's print name, C++ parameters
    included; an inlined or tail-call frame's line is its call's)."""
    pc = f.pc()
    if at_function_start(f):
        # a coroutine that never ran sits at its start routine: GDB looks
        # up pc - 1 there, the end of whatever function lies before it
        return target.symbolize(pc, True)
    dec = _Named(FrameDecorator(f))
    name = dec.function()
    if name == "??":
        return target.symbolize(pc, f.level() > 0)
    try:
        path, line = dec.filename(), dec.line() or 0
    except (gdb.error, RuntimeError):
        path, line = None, 0
    return Location(name, path, line, pc)


def real_frames(co, tbl, depth):
    """(frames, level of the first) of CO's stack by GDB's own unwinder:
    frames is a list of stackwalk.Learned, one per physical frame, at most
    DEPTH, holding every frame `bt` shows (inlined, tail-call), ending
    where the coroutine's `bt` ends.  Restores the selection."""
    saved = save_selection()
    out = []
    first = 0
    try:
        enter(co, tbl, quiet=True)
        v = S.view
        f = gdb.selected_frame() if v is not None else gdb.newest_frame()
        first = f.level() if f is not None else 0
        shown = []
        while f is not None:
            end = stack_end(f, v, out or shown) if v is not None else \
                StackEnd.SHOW
            if f.pc() == 0 or end == StackEnd.HIDE:
                break
            t = f.type()
            if t == gdb.TAILCALL_FRAME and out and not shown:
                out[-1].tail.append(_frame_location(f))
            elif t == gdb.INLINE_FRAME or t == gdb.TAILCALL_FRAME:
                shown.append(_frame_location(f))
            else:
                if len(out) >= depth:
                    break
                shown.append(_frame_location(f))
                out.append(Learned(f.pc(), int(f.read_register(_SP_NAME)),
                                   shown, []))
                shown = []
                if end == StackEnd.LAST:
                    break
            f = f.older()
    except (gdb.error, errors.CorodbgError):
        pass   # no stack to walk (no saved context): no frames, no error
    finally:
        restore_selection(saved)
    return out, first


def _fast():
    """The stack walker by learned frame sizes (per program: dropped with
    the objfiles), reading stacks the fastest way this stop allows."""
    u = S.fast_unwinder
    if u is None:
        def learn(co, depth):
            return real_frames(co, target.table(), depth)[0]
        u = S.fast_unwinder = FrameSizeUnwinder(S.memory.raw, learn)
    u.reader = S.memory.stacks()
    return u


def _walk(co, tbl, depth, until=None, on_thread=None):
    """([stackwalk.Frame], level of the first) of CO's stack as `bt`
    shows it, at most DEPTH physical frames.  A parked coroutine's stack
    is walked by learned frame sizes (stackwalk.py), down to the first
    frame UNTIL accepts if given; one on a thread by GDB.  ON_THREAD: is
    CO on an OS thread now (computed here when None)."""
    if on_thread is None:
        on_thread = bool(co.tid) or _thread_running(co) is not None
    if on_thread or co.unreadable in regs.NO_CONTEXT or not co.sp:
        frames, first = real_frames(co, tbl, depth)
        return shown(frames), first
    return _fast().frames(co, depth, until), 1 + _view_base()


def frames_of(co, tbl, depth):
    """[(level, Location)] of CO's stack, at most DEPTH frames, numbered
    and named as `bt` numbers and names them."""
    on_thread = bool(co.tid) or _thread_running(co) is not None
    if _stackless(co, tbl, on_thread):
        return []
    frames, first = _walk(co, tbl, depth, on_thread=on_thread)
    return flatten(frames, depth, first)


def _stackless(co, tbl, on_thread):
    """Does CO get no stack in a listing?  Its thread is gone (listed with
    '?'); or, parked, it has no context yet (pc 0, abi.md), a saved sp
    outside its stack or registers not where its runtime's layout says
    (listed with '?'), or an unusable register map
    (warned once).  Never an error that stops the whole listing."""
    if co.unreadable == "unknown-thread":
        return True
    return not on_thread and bool(_map_problem(tbl) or not (co.pc and co.sp)
                                  or co.unreadable in regs.NO_CONTEXT)


def _view_base():
    """The level a view on the selected thread claims (its inline frame
    count), once per stop and thread: -t numbers frames as bt does."""
    th = gdb.selected_thread()
    base = S.view_bases.get(th)
    if base is None:
        base = S.view_bases[th] = _inline_depth()
    return base



def _map_problem(tbl):
    """Why TBL's register map cannot give parked coroutines stacks
    (core/regmap.py), or None.  Warns once per table."""
    checked, why = S.map_checked
    if checked is not tbl:
        why = regmap.problem(tbl, registers.names(tbl.prefix["arch"]) or {},
                             _target_arch())
        S.map_checked = (tbl, why)
        if why:
            target.warn("register map unusable: %s: no stacks for parked "
                        "coroutines" % why)
    return why


class Frontend(listing.Frontend):
    """The core listing's view of GDB (corodbg.core.listing)."""

    def __init__(self, tbl):
        self.runtime = S.runtime
        self._on = None         # ids of coroutines on OS threads (command)
        self._rule = None
        super().__init__(tbl)

    def symbolize(self, pc, is_return=True):
        return target.symbolize(pc, is_return)

    def frames_of(self, co, depth):
        return frames_of(co, self.table, depth)

    def thread_location(self, co, tid):
        frames = frames_of(co, self.table, 1)
        return frames[0][1] if frames else None

    def user_location(self, co, depth=listing.DEFAULT_USER_DEPTH):
        """The core's rule (runtime_rules.UserRule), a parked stack walked only
        down to the user frame."""
        if self._on is None:
            # which coroutines execute on an OS thread: once per command
            self._rule = runtime_rules.UserRule(self.runtime)
            self._on = {id(c) for c in self.executing().values()}
            th = gdb.selected_thread()
            sp = _thread_sp(th) if th is not None else None
            if sp is not None:
                c = self.table.on_thread(-1, sp)
                if c is not None:
                    self._on.add(id(c))
            self._walker = _fast()
            self._windows = StackWindows(self._walker,
                                         self.table.coroutines)
            self._map_ok = not _map_problem(self.table)
            self._live = target.is_live()
        on = id(co) in self._on
        if co.unreadable is None and not on and self._map_ok:
            # the common case, 100,000 times for -u: parked, readable
            # (what _stackless checks, each field read once)
            pc = co.pc
            sp = pc and co.sp
            if sp:
                data = self._windows.window(co)
                loc = self._rule.walked_at(
                    self._walker, pc, sp, co.stack_hi, depth, data,
                    runtime_rules.walk_hint(co, self._live, data))
                if loc is not False:
                    return loc or self.symbolize(pc)
        if _stackless(co, self.table, on):
            return self.symbolize(co.pc) if co.pc else None
        if not on:
            loc = self._rule.walked(self._walker, co, depth)
            if loc is not False:
                return loc or self.symbolize(co.pc)
        frames, _ = _walk(co, self.table, depth, self._rule.accepts, on)
        return self._rule.user(frames) or self.symbolize(co.pc)


def user_location(co, tbl, max_depth=listing.DEFAULT_USER_DEPTH):
    """The first frame of CO outside the runtime (Location), or its pc."""
    return Frontend(tbl).user_location(co, max_depth)
