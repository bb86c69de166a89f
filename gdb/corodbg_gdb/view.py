"""Coroutine views: the unwinder, the frame filter and selection.

Selecting a parked coroutine never writes registers (so it works on core
files): while a view is active, our unwinder claims the selected thread's
frame #0 and reports the coroutine's saved registers as that frame's
caller.  Frame #1 is then the coroutine's top frame, unwound from there
by GDB's normal CFI unwinders; the frame filter hides the real frame #0
and the junk frames below the coroutine's start function.
"""
import gdb
from gdb.FrameDecorator import FrameDecorator
from gdb.unwinder import Unwinder, register_unwinder

from corodbg.core import errors, layout, listing, regs
from . import target
from .target import S

# DWARF register number -> GDB register name.
DWARF_NAMES = {
    layout.ARCH_X86_64: {16: "rip", 7: "rsp", 6: "rbp", 3: "rbx",
                         12: "r12", 13: "r13", 14: "r14", 15: "r15"},
    layout.ARCH_AARCH64: dict([(32, "pc"), (31, "sp")] +
                              [(n, "x%d" % n) for n in range(19, 31)] +
                              [(72 + k, "d%d" % (8 + k)) for k in range(8)]),
}


class View:
    """The selected coroutine's saved context, bound to one GDB thread."""

    def __init__(self, co, tbl, thread):
        names = DWARF_NAMES.get(tbl.prefix["arch"])
        if names is None:
            raise errors.CorodbgError("unsupported architecture %d"
                                      % tbl.prefix["arch"])
        # The core knows where the registers are (table, runtime block or
        # pushed frame) and raises the one-line reason when they are not.
        saved = regs.saved_registers(tbl, co)
        self.co = co
        self.thread = thread
        self.regs = [(names[d], v) for d, v in saved if d in names]
        self.sp = co.sp
        self.entry_name = target.symbolize(co.entry_fn, False).function \
            if co.entry_fn else None
        # The runtime's start function (trampoline): the stack ends there
        # even when the entry function's frame is gone (tail call, inlined).
        start = S.runtime.start
        self.start_name = target.symbolize(start, False).function \
            if start else None


VIEW = None


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
        v = VIEW
        if v is None or pending.level() != 0:
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
        if isinstance(fn, int):  # GDB could not name it: an address
            name, _ = target._function_at(fn)
            return name or "??"
        return fn if fn else "??"


class CoroutineFrameFilter:
    """Hides the real frame #0 and frames below the start function."""

    def __init__(self):
        self.name = "corodbg"
        self.priority = 100
        self.enabled = True
        gdb.frame_filters[self.name] = self

    def filter(self, frames):
        v = VIEW
        if v is None or gdb.selected_thread() != v.thread:
            return frames
        return self._hide(frames, v)

    @staticmethod
    def _hide(frames, v):
        for dec in frames:
            f = dec.inferior_frame()
            if f.level() == 0:
                continue
            if f.pc() == 0:  # the zero return address ending the stack
                break
            if v.start_name and f.name() == v.start_name:
                break
            yield _Named(dec)
            if v.entry_name and f.name() == v.entry_name:
                break


_unwinder = CoroutineUnwinder()
register_unwinder(None, _unwinder, replace=True)
CoroutineFrameFilter()


def _drop_view(*_args):
    global VIEW
    if VIEW is not None:
        VIEW = None
        gdb.invalidate_cached_frames()


gdb.events.cont.connect(_drop_view)
gdb.events.exited.connect(_drop_view)


def current_coroutine_id():
    """Id of the coroutine being looked at: the view's, else the one running
    on the selected thread, else 0."""
    if VIEW is not None and gdb.selected_thread() == VIEW.thread:
        return VIEW.co.id
    if not target.has_target():
        return 0
    try:
        tbl = target.table()
    except errors.CorodbgError:
        return 0
    co = tbl.on_thread(target.current_lwp(), target.current_sp())
    return co.id if co else 0


def _set_view(view):
    global VIEW
    VIEW = view
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
    return (VIEW, th, level)


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


def enter(co, tbl, quiet=False):
    """Make CO the selected context.  Returns a one-line description."""
    th = _thread_running(co)
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
    _set_view(View(co, tbl, th))
    f = _frame_at(1)
    if f is not None:
        f.select()
    return "[Switching to coroutine %d \"%s\" (%s%s)]" % (
        co.id, co.name, co.state_name,
        ", " + co.wait_name if co.wait_name else "")


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
    try:
        sp = int(gdb.newest_frame().read_register(_SP_NAME))
    except (gdb.error, RuntimeError):
        return None
    if co.stack_lo <= sp < co.stack_hi:
        return th
    return None


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


def real_frames(co, tbl, depth):
    """[(pc, sp, level)] of CO's stack by GDB's own unwinder, at most DEPTH
    frames, ending at its start function.  Restores the selection."""
    saved = save_selection()
    out = []
    try:
        enter(co, tbl, quiet=True)
        v = VIEW
        f = gdb.selected_frame() if v is not None else gdb.newest_frame()
        while f is not None and len(out) < depth:
            pc = f.pc()
            if pc == 0:
                break
            if f.type() == gdb.INLINE_FRAME:
                f = f.older()
                continue
            if v is not None and v.start_name and f.name() == v.start_name:
                break
            sp = int(f.read_register(_SP_NAME))
            out.append((pc, sp, f.level()))
            if v is not None and v.entry_name and f.name() == v.entry_name:
                break
            f = f.older()
    except (gdb.error, errors.CorodbgError):
        pass   # no stack to walk (no saved context): no frames, no error
    finally:
        restore_selection(saved)
    return out


def _fast():
    u = S.__dict__.get("fast_unwinder")
    if u is None:
        from corodbg.core.stackwalk import FrameSizeUnwinder
        from corodbg.core import reader as _reader
        raw = _reader.FunctionReader(lambda a, n: gdb.selected_inferior()
                                     .read_memory(a, n).tobytes())

        def learn(co, depth):
            return [(pc, sp) for pc, sp, _ in real_frames(co, target.table(),
                                                          depth)]
        u = S.fast_unwinder = FrameSizeUnwinder(raw, learn)
    return u


def _drop_fast(*_args):
    S.__dict__.pop("fast_unwinder", None)


gdb.events.new_objfile.connect(_drop_fast)


def frames_of(co, tbl, depth):
    """[(level, Location)] of CO's stack, at most DEPTH frames, numbered as
    `bt` numbers them.  A parked coroutine's stack is walked by learned
    frame sizes (stackwalk.py); one on a thread by GDB."""
    if co.tid or co.unreadable in regs.NO_CONTEXT or not co.sp:
        return [(lvl, target.symbolize(pc, lvl > 0))
                for pc, _, lvl in real_frames(co, tbl, depth)]
    if _thread_running(co) is not None:
        return [(lvl, target.symbolize(pc, lvl > 0))
                for pc, _, lvl in real_frames(co, tbl, depth)]
    return [(k + 1, target.symbolize(pc, True))
            for k, (pc, _) in enumerate(_fast().frames(co, depth))]


class Frontend(listing.Frontend):
    """The core listing's view of GDB (corodbg.core.listing)."""

    def __init__(self, tbl):
        self.runtime = S.runtime
        super().__init__(tbl)

    def symbolize(self, pc, is_return=True):
        return target.symbolize(pc, is_return)

    def frames_of(self, co, depth):
        return frames_of(co, self.table, depth)

    def thread_location(self, co, tid):
        frames = frames_of(co, self.table, 1)
        return frames[0][1] if frames else None


def user_location(co, tbl, max_depth=listing.DEFAULT_USER_DEPTH):
    """The first frame of CO outside the runtime (Location), or its pc."""
    return Frontend(tbl).user_location(co, max_depth)
