"""State-conditional catchpoints, coroutine-restricted breakpoints and
crash-in-coroutine reports.

`catch coroutine state|panic` arms the runtime's in-process event filter
(descriptor fields filter_state_mask, filter_flags, filter_id,
filter_name) with the union of the enabled catchpoints, and puts one GDB
breakpoint per catchpoint on the address in descriptor.event_hook.  A
transition that does not match the armed filter never stops the process;
one that does is re-checked precisely in Breakpoint.stop().
"""
import fnmatch
import mmap
import shlex

import gdb

from corodbg.core import crash, decode, errors, layout, query
from corodbg.core import filter as corefilter
from corodbg.core.model import state_name
from . import target, view
from .target import S, gdb_errors

FATAL = crash.FATAL


def _descriptor():
    """The descriptor only (fresh, uncached): layout + filter + event."""
    return decode.decode_descriptor(S.memory.raw, target.table_address())


def _write_filter(tbl, mask, flags, fid, glob):
    """Write the filter fields (located by the core through the
    descriptor's own field records)."""
    data = S.memory.raw.read(tbl.addr, tbl.prefix["desc_size"])
    for addr, raw in corefilter.encode(tbl, data, mask, flags, fid, glob):
        gdb.selected_inferior().write_memory(addr, raw)


def rearm(*_args):
    """Write the union of the enabled catchpoints into the filter."""
    if not target.is_live():
        return
    try:
        tbl = _descriptor()
    except errors.CorodbgError:
        return
    mask, flags, fid, glob = corefilter.union_values(
        ((), True, 0, "") if c.kind == "panic" else
        ((c.state,), False, c.cid, c.glob)
        for c in S.catchpoints if c.is_valid() and c.enabled)
    try:
        _write_filter(tbl, mask, flags, fid, glob)
    except (gdb.error, gdb.MemoryError, errors.CorodbgError) as e:
        target.warn("cannot arm the coroutine event filter: %s" % e)


def _hook_location():
    """Where the catchpoint's breakpoint goes: the symbol
    corodbg_event_hook, so GDB re-resolves it when the program is re-run
    at another address (ASLR) or loads libcorodbg later.  libcorodbg
    exports it, so it survives strip; only when it cannot be found, the
    address in descriptor.event_hook.  Not that address first: a process
    stopped at exec (gdbserver, qemu's gdbstub) has not been relocated
    yet, and the descriptor still holds the link-time address."""
    try:
        gdb.parse_and_eval("(unsigned long)&corodbg_event_hook")
        return "corodbg_event_hook"
    except gdb.error:
        pass
    if target.is_live():
        try:
            hook = _descriptor().get("event_hook")
        except errors.CorodbgError:
            hook = None
        if hook:
            return "*0x%x" % hook
    return "corodbg_event_hook"


class CoroutineCatchpoint(gdb.Breakpoint):
    """One `catch coroutine ...`: a breakpoint on the event hook."""

    def __init__(self, kind, state=None, cid=None, glob=None):
        self.kind = kind
        self.state = state
        self.cid = cid
        self.glob = glob
        super().__init__(_hook_location(), gdb.BP_BREAKPOINT,
                         internal=False)
        self.silent = True
        S.catchpoints.append(self)

    def describe(self):
        if self.kind == "panic":
            return "coroutine panic"
        what = "coroutine state %s" % state_name(self.state)
        if self.cid:
            what += " id %d" % self.cid
        if self.glob:
            what += " name %s" % self.glob
        return what

    def stop(self):
        try:
            tbl = _descriptor()
        except errors.CorodbgError:
            return False
        d = tbl.desc
        kind, cid, new = d.get("event_kind"), d.get("event_id"), \
            d.get("event_new_state")
        if self.kind == "panic":
            if kind != layout.EVENT_PANIC:
                return False
        else:
            if kind != layout.EVENT_STATE or new != self.state:
                return False
            if self.cid and cid != self.cid:
                return False
        if self.glob:
            # the armed filter may be wider than this catchpoint (several
            # catchpoints with different globs): check the name exactly
            S.invalidate()
            try:
                co = target.table().by_id.get(cid)
            except errors.CorodbgError:
                co = None
            if co is None or not fnmatch.fnmatchcase(co.name or "",
                                                     self.glob):
                return False
        S.pending_events.append((self, cid))
        return True


def _report_event(bp, cid):
    # Most events come from the coroutine running on this thread: find it
    # with one entry read (a 1M-entry table is decoded only when needed).
    co = running_here()
    if co is None or co.id != cid:
        co = target.table().by_id.get(cid)
    if co is None:
        gdb.write("Catchpoint %d (%s): coroutine %s (gone)\n"
                  % (bp.number, bp.describe(), cid))
        return
    if bp.kind == "panic":
        msg = decode.read_string(S.memory, co.panic_msg, co.panic_len or
                                 layout.PANIC_MAX)
        gdb.write("Catchpoint %d (coroutine panic): coroutine %d \"%s\" "
                  "panicked: %s\n" % (bp.number, co.id, co.name,
                                      msg[0] if msg else "(no message)"))
    else:
        gdb.write("Catchpoint %d (%s): coroutine %d \"%s\" %s -> %s\n"
                  % (bp.number, bp.describe(), co.id, co.name,
                     state_name(_descriptor().get("event_old_state")),
                     co.state_name))
    lwp = target.current_lwp()
    where = co.event_context(lwp, target.current_sp())
    if where == "none":
        gdb.write("[coroutine %d has no context yet: this is where it is "
                  "being created]\n" % co.id)
        f = view.select_user_frame()
    elif where == "thread" and co.tid and co.tid == lwp:
        f = view.select_user_frame()
    else:
        gdb.write(view.enter(co, target.table(), saved=where == "saved")
                  + "\n")
        f = gdb.selected_frame()
    if f is not None:
        view.print_selected_frame(False)


def _on_stop(ev):
    try:
        while S.pending_events:
            bp, cid = S.pending_events.pop(0)
            if isinstance(ev, gdb.BreakpointEvent) and bp in ev.breakpoints:
                _report_event(bp, cid)
        if isinstance(ev, gdb.SignalEvent) and ev.stop_signal in FATAL:
            _report_signal(ev.stop_signal)
    except errors.NoTableError:
        pass  # a program without coroutines: its stops are not ours
    except (gdb.error, errors.CorodbgError) as e:
        target.warn(str(e).splitlines()[0] if str(e) else repr(e))


def _stop_siginfo():
    """(si_signo, si_code, si_addr) of the stop, each None if unreadable;
    crash.fault_address decides whether si_addr is an address."""
    def field(expr):
        try:
            return int(gdb.parse_and_eval("$_siginfo." + expr))
        except gdb.error:
            return None
    return (field("si_signo"), field("si_code"),
            field("_sifields._sigfault.si_addr"))


def _stop_crash_text(co):
    """Crash text for CO from the stop's siginfo, or None when the stop
    is not a fatal signal."""
    signo, code, addr = _stop_siginfo()
    if signo is None or crash.signal_name(signo) not in FATAL:
        return None
    return crash.crash_text(co.id, co.name, signo,
                            crash.fault_address(signo, code, addr))


def _report_signal(signame):
    S.invalidate()
    tbl = target.table()
    co = tbl.on_thread(target.current_lwp(), target.current_sp())
    if co is None:
        return
    text = _stop_crash_text(co)
    if text is None:  # no $_siginfo (remote, old kernel): the name only
        text = crash.crash_text(co.id, co.name, signame, None)
    gdb.write("[corodbg] %s.  `coroutine crashed` selects it.\n" % text)


def crashed_coroutine(tbl):
    """(coroutine, description) of the crash to show, or (None, None)."""
    cid = tbl.get("crashed_id", 0)
    co = tbl.by_id.get(cid) if cid else None
    if co is None:
        for c in tbl.coroutines:
            if c.state == layout.STATE_CRASHED:
                co = c
                break
    if co is not None:
        return co, crash.recorded_crash_text(co)
    # Live stop on a fatal signal, before the program's handler ran.
    co = tbl.on_thread(target.current_lwp(), target.current_sp())
    if co is not None:
        text = _stop_crash_text(co)
        if text is not None:
            return co, text
    for c in tbl.coroutines:
        if c.state == layout.STATE_PANICKED:
            msg = decode.read_string(S.memory, c.panic_msg, c.panic_len or
                                     layout.PANIC_MAX)
            return c, "Coroutine %d \"%s\" panicked: %s" % (
                c.id, c.name, msg[0] if msg else "(no message)")
    return None, None


def _maybe_report_core(*_args):
    """On core load: say which coroutine crashed (once per core).  Runs in
    the new_objfile handler itself (gdb.post_event from there crashes GDB
    13 at exit); until the objfile holding the table is loaded, it tries
    again on the next one."""
    if target.target_kind() != "core":
        return
    key = gdb.selected_inferior().pid
    if key in S.reported_cores:
        return
    try:
        S.invalidate_all()
        tbl = target.table()
    except (gdb.error, errors.CorodbgError):
        return
    S.reported_cores.add(key)
    try:
        co, line = crashed_coroutine(tbl)
    except (gdb.error, errors.CorodbgError):
        return
    if co is not None:
        gdb.write("[corodbg] %s.  `coroutine crashed` selects it.\n" % line)


def _on_new_objfile(ev):
    _maybe_report_core()
    if S.catchpoints and target.is_live():
        S.invalidate_all()
        rearm()


def _on_bp_change(bp):
    if bp in S.catchpoints:
        if not bp.is_valid():
            S.catchpoints.remove(bp)
        rearm()


def _on_bp_deleted(bp):
    for c in list(S.catchpoints):
        if c is bp or not c.is_valid():
            S.catchpoints.remove(c)
    rearm()


gdb.events.stop.connect(_on_stop)
gdb.events.new_objfile.connect(_on_new_objfile)
gdb.events.breakpoint_modified.connect(_on_bp_change)
gdb.events.breakpoint_deleted.connect(_on_bp_deleted)


class CatchCoroutine(gdb.Command):
    """Catch coroutine events.

Usage: catch coroutine panic
       catch coroutine state STATE [ID|NAME-GLOB]"""

    def __init__(self):
        super().__init__("catch coroutine", gdb.COMMAND_BREAKPOINTS,
                         prefix=True)

    @gdb_errors
    def invoke(self, arg, from_tty):
        # GDB calls this with no argument or an unknown event word
        word = arg.split()[0] if arg.split() else ""
        if word:
            raise errors.UsageError("unknown coroutine event %r (panic or "
                                    "state). %s" % (word, CATCH_USAGE))
        raise errors.UsageError(CATCH_USAGE)


CATCH_USAGE = ("Usage: catch coroutine panic | catch coroutine state STATE "
               "[ID|NAME-GLOB]")


class CatchCoroutinePanic(gdb.Command):
    """Stop when any coroutine panics.

Usage: catch coroutine panic

Arms the runtime's panic event; the stop prints the coroutine's id, name
and message and selects its frame that called the panic."""

    def __init__(self):
        super().__init__("catch coroutine panic", gdb.COMMAND_BREAKPOINTS)

    @gdb_errors
    def invoke(self, arg, from_tty):
        if arg.strip():
            raise errors.UsageError("Usage: catch coroutine panic")
        if target.has_target():
            target.table_address()  # a clear error now if there is none
        bp = CoroutineCatchpoint("panic")
        rearm()
        gdb.write("Catchpoint %d (coroutine panic)\n" % bp.number)


class CatchCoroutineState(gdb.Command):
    """Stop when a matching coroutine enters STATE.

Usage: catch coroutine state STATE [ID|NAME-GLOB]

STATE is runnable, running, blocked, dead, panicked or crashed.  With ID
only that coroutine, with NAME-GLOB only coroutines whose name matches.
The filter is armed inside the process: a transition that does not match
costs the program nanoseconds and never stops it.  The catchpoint shows in
`info breakpoints` (as a breakpoint on corodbg_event_hook); `delete`,
`disable` and `enable` work on it."""

    def __init__(self):
        super().__init__("catch coroutine state", gdb.COMMAND_BREAKPOINTS)

    @gdb_errors
    def invoke(self, arg, from_tty):
        usage = "Usage: catch coroutine state STATE [ID|NAME-GLOB]"
        cq = query.parse_catch_state(shlex.split(arg), usage)
        if len(cq.states) != 1:
            raise errors.UsageError("catch coroutine state takes one STATE "
                                    "(one catchpoint per state)")
        state, = cq.states
        cid, glob = cq.cid or None, cq.glob or None
        if target.has_target():
            target.table_address()
        bp = CoroutineCatchpoint("state", state, cid, glob)
        rearm()
        gdb.write("Catchpoint %d (%s)\n" % (bp.number, bp.describe()))


CatchCoroutine()
CatchCoroutinePanic()
CatchCoroutineState()


# ---- breakpoints restricted to coroutines ---------------------------------

def running_here():
    """The coroutine running on the selected thread, read cheaply: re-read
    the entry last seen on this thread, else decode the table."""
    lwp = target.current_lwp()
    try:
        tbl = S.table or _descriptor()
    except errors.CorodbgError:
        return None
    hint = S.tid_slot.get(lwp)
    if hint is not None:
        try:
            co = decode.read_entry(S.memory.raw, tbl, hint)
        except errors.CorodbgError:
            co = None
        if co is not None and co.tid == lwp and \
                co.state == layout.STATE_RUNNING:
            return co
    S.invalidate()
    try:
        full = target.table()
    except errors.CorodbgError:
        return None
    S.tid_slot.clear()
    S.tid_slot.update(full.by_tid)
    return full.on_thread(lwp)


class CoroutineBreakpoint(gdb.Breakpoint):
    """A location breakpoint that stops only in matching coroutines."""

    def __init__(self, spec, cid=None, glob=None, states=None):
        self.cid = cid
        self.glob = glob
        self.states = states
        super().__init__(spec, gdb.BP_BREAKPOINT, internal=False)

    def stop(self):
        co = running_here()
        if co is None:
            return False
        if self.cid and co.id != self.cid:
            return False
        if self.glob and not fnmatch.fnmatchcase(co.name or "", self.glob):
            return False
        if self.states and co.state not in self.states:
            return False
        return True


class CoroutineBreak(gdb.Command):
    """Set a breakpoint that stops only inside matching coroutines.

Usage: coroutine break LOCATION [if-id N] [if-name GLOB] [if-state S[,S]]

LOCATION is any GDB location (function, file:line, *address).  The
breakpoint stops only when the coroutine running on the stopping thread
matches every given condition; code outside coroutines never stops.  It
is an ordinary breakpoint otherwise: info breakpoints, delete, disable,
condition and commands work on it.

Examples:
  coroutine break handle_request if-name 'worker*'
  coroutine break server.c:42 if-id 7"""

    def __init__(self):
        super().__init__("coroutine break", gdb.COMMAND_BREAKPOINTS)

    @gdb_errors
    def invoke(self, arg, from_tty):
        words = arg.split()
        if not words or words[0] in _BREAK_CONDS:
            raise errors.UsageError(BREAK_USAGE)
        spec, rest = words[0], words[1:]
        cid = glob = states = None
        while rest:
            if len(rest) < 2:
                raise errors.UsageError("%s needs a value" % rest[0])
            key, val = rest[0], rest[1]
            if key == "if-id":
                cid = query.parse_id(val)
            elif key == "if-name":
                glob = val
            elif key == "if-state":
                states = query.parse_states(val)
            else:
                raise errors.UsageError(
                    "unknown condition %s (if-id, if-name or if-state)"
                    % key)
            rest = rest[2:]
        has_table = _may_have_table()
        bp = CoroutineBreakpoint(spec, cid, glob, states)
        conds = []
        if cid:
            conds.append("id %d" % cid)
        if glob:
            conds.append("name %s" % glob)
        if states:
            conds.append("state %s" % ",".join(state_name(s)
                                               for s in sorted(states)))
        gdb.write("Breakpoint %d only in coroutines%s\n"
                  % (bp.number, (" with " + ", ".join(conds))
                     if conds else ""))
        if not has_table:
            target.warn("this program has no coroutine table: breakpoint %d "
                        "will never stop" % bp.number)


def _may_have_table():
    """False only when the table is surely absent: not found, and the
    executable does not even name libcorodbg (a program linked with
    libcorodbg.so has its table only once the library is loaded)."""
    try:
        target.table_address()
        return True
    except errors.NoTableError:
        pass
    path = gdb.current_progspace().filename
    if not path:
        return True  # nothing to judge: GDB says so itself
    try:
        with open(path, "rb") as f, \
                mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return m.find(b"libcorodbg") >= 0
    except (OSError, ValueError):
        return True


BREAK_USAGE = ("Usage: coroutine break LOCATION [if-id N] [if-name GLOB] "
               "[if-state S[,S]]")
_BREAK_CONDS = ("if-id", "if-name", "if-state")


CoroutineBreak()
