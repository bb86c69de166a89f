"""Coroutines as debugger threads: the rules both adapters share.

LLDB's OperatingSystem plugin (lldb-dap) and GDB's DAP hook show each
parked coroutine as a thread; both use these ids, names and this cap, so an
IDE shows the same list whichever debugger drives it.

Thread id: 2^32 + coroutine id (stable across stops, never a Linux tid or
a GDB thread number).  Name: `coro ID NAME [STATE: WAIT REASON]`.  At most
`max_threads` coroutine threads: the coroutines the stop is about always,
then the most recently active.
"""
import heapq

from . import crash, decode, layout

CORO_TID_BASE = 1 << 32
# Delve caps goroutine threads at 1024 for the same reason: an IDE handed
# a million threads freezes.
DEFAULT_MAX_THREADS = 2000

PARKED = frozenset((layout.STATE_RUNNABLE, layout.STATE_BLOCKED,
                    layout.STATE_DEAD, layout.STATE_PANICKED,
                    layout.STATE_CRASHED))


def coro_tid(cid):
    """The thread id of coroutine CID, or None when id + 2^32 does not fit
    a 64-bit thread id (a corrupt or huge id)."""
    tid = CORO_TID_BASE + cid
    return tid if tid < 1 << 64 else None


def coro_id_of_tid(tid):
    """The coroutine id of thread id TID, or None for a real thread."""
    return tid - CORO_TID_BASE if tid > CORO_TID_BASE else None


def describe_coroutine(reader, co):
    """'Coroutine 7 "panicker" panicked: bad request 7' style text; READER
    (core/reader.py) reads the panic message."""
    if co.state == layout.STATE_PANICKED:
        msg = decode.read_string(reader, co.panic_msg,
                                 co.panic_len or layout.PANIC_MAX)
        text = msg[0] if msg else "(message unreadable)"
        return 'Coroutine %d "%s" panicked: %s' % (co.id, co.name, text)
    if co.state == layout.STATE_CRASHED:
        return crash.recorded_crash_text(co)
    w = co.wait_name
    return 'Coroutine %d "%s" is %s%s' % (co.id, co.name, co.state_name,
                                          " (%s)" % w if w else "")


def thread_name(reader, co):
    """'coro 7 worker [blocked: chan receive]'."""
    if co.state == layout.STATE_BLOCKED:
        st = "%s: %s" % (co.state_name, co.wait_name)
    elif co.state in (layout.STATE_PANICKED, layout.STATE_CRASHED):
        text = describe_coroutine(reader, co)
        st = "%s: %s" % (co.state_name, text.split(": ", 1)[-1])
    else:
        st = co.state_name
    if co.unreadable:
        st += "; ? %s" % co.unreadable
    return "coro %d %s [%s]" % (co.id, co.name or "", st)


def running_name(reader, co, tid):
    """The name of OS thread TID while coroutine CO executes on it."""
    return "%s on thread %d" % (thread_name(reader, co), tid)


def stop_coroutine_ids(tbl):
    """Ids the stop is about: the last event's coroutine when the program
    stopped in the event hook, and the crashed coroutine."""
    out = set()
    cid = tbl.get("crashed_id", 0)
    if cid:
        out.add(cid)
    eid = tbl.get("event_id", 0)
    if eid and tbl.get("hook_calls", 0):
        out.add(eid)
    return out


def choose(coroutines, cap, must):
    """The coroutines to show as threads: all of MUST (ids) that exist, then
    the most recently active (largest since_ns, then newest id) up to CAP.
    Only parked coroutines with saved registers get a thread.
    Returns (chosen in id order, number left out)."""
    rows, parked = _pick([c.id for c in coroutines],
                         [c.state for c in coroutines],
                         [c.since_ns for c in coroutines], cap, must, ())
    chosen = _made([coroutines[r] for r in rows])
    return chosen, parked - len(chosen)


def choose_in(tbl, cap, must, skip=()):
    """choose() over table TBL's coroutines but those with ids in SKIP,
    from its columns (model.Table.column): at 100,000 coroutines only the
    chosen ones are made (a table decoded as columns stays so)."""
    rows, parked = _pick(tbl.column("id"), tbl.column("state"),
                         tbl.column("since_ns"), cap, must, skip)
    chosen = _made([tbl.coroutine_at(r) for r in rows])
    return chosen, parked - len(chosen)


def _made(chosen):
    """(Chosen with saved registers, in id order)."""
    return sorted((c for c in chosen if c.regs), key=lambda c: c.id)


def _pick(ids, states, since, cap, must, skip):
    """(rows chosen, number of parked rows), rows by position in
    the parallel lists IDS, STATES, SINCE; ids in SKIP or too large for a
    thread id (coro_tid) are not candidates."""
    limit = (1 << 64) - CORO_TID_BASE
    parked = [r for r, (i, st) in enumerate(zip(ids, states))
              if st in PARKED and i not in skip and i < limit]
    if len(parked) <= cap:
        return parked, len(parked)
    first = [r for r in parked if ids[r] in must]
    rest = [r for r in parked if ids[r] not in must] if first else parked
    n = max(0, cap - len(first))
    # plain tuples compare at C speed: (since_ns, id, row)
    top = heapq.nlargest(n, [(since[r] or 0, ids[r], r) for r in rest])
    return first + [r for _, _, r in top], len(parked)


# What the cut's texts tell the user to type: each debugger's own commands.
LLDB_COMMANDS = ("coroutine list", "coroutine select ID",
                 "max-threads")
GDB_COMMANDS = ("info coroutines", "coroutine ID", "set corodbg max-threads")


def cut_suffix(cut, commands=LLDB_COMMANDS):
    """Appended to the last listed thread's name when CUT were left out."""
    return " (+%d more: see %s)" % (cut, commands[0])


def cut_note(cut, cap, commands=LLDB_COMMANDS):
    """The one-line warning when CUT coroutine threads were left out."""
    return ("%d more coroutine threads not shown (%s %d): "
            "%s shows all; %s shows one"
            % (cut, commands[2], cap, commands[0], commands[1]))
