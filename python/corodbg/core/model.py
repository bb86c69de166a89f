"""The data model: a decoded table and its coroutines.

A Coroutine keeps every entry field under its C name (id, state, tid, ...,
name, regs).  A field the table does not describe is None.  `unreadable`
is None for a good entry, else one of UNREADABLE_REASONS: the entry is
still listed, with what could be read.
"""
import collections
import time
from itertools import compress, count
from operator import attrgetter

from . import layout

STATE_NAMES = {v: t for _, v, t in layout.STATES}
STATE_BY_NAME = {t: v for _, v, t in layout.STATES}


def state_name(value):
    """A state's name ("blocked"), or "state-N" for a value the ABI does
    not define (a corrupt entry, a newer runtime)."""
    return STATE_NAMES.get(value, "state-%s" % value)
WAIT_NAMES = {v: t for _, v, t in layout.WAITS}
WAIT_BY_NAME = {t: v for _, v, t in layout.WAITS}
EVENT_NAMES = {v: t for _, v, t in layout.EVENTS}

# Why an entry is marked unreadable (documented, short, stable).
UNREADABLE_REASONS = {
    "bad-state": "state value out of range",
    "mid-update": "entry was being updated when the program stopped",
    "bad-stack": "saved stack pointer outside the coroutine's stack",
    "duplicate-id": "another entry has the same id",
    "bad-name": "name not NUL-terminated",
    "unknown-thread": "on an OS thread the debugger does not know",
    "bad-regs": "saved registers not where the runtime's layout says",
}

ENTRY_FIELD_NAMES = tuple(t for _, _, t in layout.ENTRY_FIELDS)
# The fields a table given as columns has a list of (Table.columns).
COLUMNS = ("id", "state", "tid", "since_ns", "wait_reason", "name", "pc")

Location = collections.namedtuple("Location",
                                  "function file line pc module note",
                                  defaults=(None, None))
Location.__doc__ = ("A symbolized address.  FUNCTION/FILE may be None and "
                    "LINE 0 when unknown.  MODULE, when the adapter knows "
                    "it, is 'file+0xVADDR' for offline symbolization of an "
                    "address without symbols.  NOTE, when set, is printed "
                    "before it in parentheses: why this frame stands in "
                    "for the one asked for (e.g. 'no user frame').")


class Coroutine:
    """One live coroutine as read from the table.

    Entry fields are read-only attributes under their C names (id, state,
    tid, ..., name, regs); a field the table does not describe reads as
    None.  `slot` and `addr` locate the entry; `unreadable` and `note` say
    what is wrong with it.  Instances come from a per-layout subclass made
    by the decoder, which keeps the raw unpacked tuple and decodes fields
    on access (a 1M-entry table costs one small object per entry).
    """

    # _c: (chunk bytes, chunk address, first slot, entry size) shared by
    # the chunk's entries; _k: index in the chunk; _t: the whole entry
    # unpacked, on first access to a field that is not hot.
    __slots__ = ("_c", "_k", "_t", "unreadable", "note")

    @property
    def slot(self):
        return self._c[2] + self._k

    @property
    def addr(self):
        c = self._c
        return c[1] + self._k * c[3]

    @property
    def state_name(self):
        return state_name(self.state)

    @property
    def wait_name(self):
        if self.state != layout.STATE_BLOCKED:
            return ""
        return WAIT_NAMES.get(self.wait_reason, "wait-%s" % self.wait_reason)

    @property
    def wait_hint(self):
        """(wait pc, reason) of a BLOCKED coroutine whose runtime recorded
        where its blocking call returns (corodbg_block_at; the stack
        walker's VIA), else None."""
        if self.state != layout.STATE_BLOCKED:
            return None
        w = self.wait_pc
        return (w, self.wait_reason) if w else None

    def reg(self, index):
        regs = self.regs
        if regs is None or index >= len(regs):
            return None
        return regs[index]

    @property
    def pc(self):
        return self.reg(layout.REG_PC)

    @property
    def sp(self):
        return self.reg(layout.REG_SP)

    @property
    def fp(self):
        return self.reg(layout.REG_FP)

    def event_context(self, tid, sp):
        """Which stack a stop at this coroutine's event should show:
        "thread" when the stopped thread (TID, its SP) is executing the
        coroutine's own code, "saved" when it is elsewhere (a scheduler
        that reports the switch from its own stack: corort's switch-in
        before the registers are loaded, its block after they are saved),
        "none" when the coroutine has no context yet (created, never given
        one: pc 0, valid per abi.md).  The stack bounds decide when known;
        else the tid does."""
        if not self.pc or not self.sp:
            return "none"
        if self.stack_lo and self.stack_hi and sp:
            here = self.stack_lo <= sp < self.stack_hi
        else:
            here = bool(self.tid) and self.tid == tid
        return "thread" if here else "saved"

    def age_ns(self, now_ns):
        """Time since the last block/wake/exit, or None when unknown."""
        if self.since_ns is None or now_ns is None or not self.since_ns:
            return None
        return max(0, now_ns - self.since_ns)

    def __repr__(self):
        return "<Coroutine %s %s %r>" % (self.id, self.state_name, self.name)


class Table:
    """A decoded coroutine table.

    addr: the descriptor's address.  prefix: fixed-prefix fields (dict).
    desc: descriptor body fields by C name (dict; missing = absent).
    coroutines: live coroutines, in slot order.  warnings: one-line
    problems found while decoding (the listing is still usable).
    mid_update: the generation counter was odd.
    reg_dwarf: DWARF register number of each register-block slot.

    A clean table may come from the decoder as columns (set_columns): the
    listing's fields of every live entry as one list per field, and no
    Coroutine object until one is asked for (coroutine_at, by_tid, ...).
    The first use of `coroutines` makes them all (the objects made alone
    before are kept: same identity).  A plain `info coroutines` of a
    million entries never does.
    """

    def __init__(self, addr, prefix, desc, reg_dwarf):
        self.addr = addr
        self.prefix = prefix
        self.desc = desc
        self.reg_dwarf = reg_dwarf
        self._cos = []
        self._lazy = None   # (columns, make_one(row), make_all()) or None
        self._made = {}     # row -> the Coroutine coroutine_at made
        self.warnings = []
        self.mid_update = False
        self.entry_layout = None
        self._by_id = None
        self._by_tid = None
        self._on_tid = None
        self._stacks = None

    def get(self, name, default=None):
        v = self.desc.get(name)
        return default if v is None else v

    def now_ns(self, live_local):
        """'Now' for ages, in CLOCK_MONOTONIC ns.  LIVE_LOCAL: the debugger
        runs beside the live process, whose runtime reads the same clock as
        ours.  Otherwise (a core file, a remote target: another time's or
        another machine's clock) the last clock the runtime read."""
        if live_local:
            return time.monotonic_ns()
        return self.get("clock_ns")

    @property
    def coroutines(self):
        """The live coroutines, in slot order (made now if the table came
        as columns)."""
        if self._lazy is not None:
            cos = self._lazy[2]()
            for i, c in self._made.items():
                cos[i] = c
            self._cos, self._lazy, self._made = cos, None, {}
        return self._cos

    @coroutines.setter
    def coroutines(self, cos):
        self._cos, self._lazy, self._made = cos, None, {}

    def set_columns(self, columns, make_one, make_all):
        """COLUMNS: {field: [value of each live entry]} for the fields of
        model.COLUMNS; MAKE_ONE(row) makes that row's Coroutine, MAKE_ALL()
        the list of all of them (as the decoder would have)."""
        self._cos = None
        self._lazy = (columns, make_one, make_all)
        self._made = {}

    @property
    def columns(self):
        """{field: list} while the table has made no Coroutine list, else
        None (then use `coroutines`)."""
        return self._lazy[0] if self._lazy is not None else None

    def size(self):
        """How many live coroutines (without making them)."""
        if self._lazy is not None:
            return len(self._lazy[0]["id"])
        return len(self._cos)

    def column(self, name):
        """The values of field NAME (one of COLUMNS) of every coroutine."""
        if self._lazy is not None:
            return self._lazy[0][name]
        return list(map(attrgetter(name), self._cos))

    def coroutine_at(self, row):
        """The coroutine in row ROW of `coroutines`, made alone if need be."""
        if self._lazy is None:
            return self._cos[row]
        co = self._made.get(row)
        if co is None:
            co = self._made[row] = self._lazy[1](row)
        return co

    def row_of(self, co):
        """The row of CO in `coroutines`; ValueError if it is not there."""
        if self._lazy is None:
            return self._cos.index(co)
        i = self._lazy[0]["id"].index(co.id)  # ids are unique here
        if self.coroutine_at(i) is not co:
            raise ValueError("not in this table")
        return i

    def bad_rows(self):
        """Rows of the coroutines marked unreadable ('?')."""
        if self._lazy is None:
            return list(compress(count(), map(attrgetter("unreadable"),
                                              self._cos)))
        # a table given as columns had none: only ones marked since
        return sorted(i for i, c in self._made.items() if c.unreadable)

    @property
    def by_id(self):
        if self._by_id is None:
            by_id = {}
            for c in self.coroutines:
                by_id.setdefault(c.id, c)  # a duplicate id: first slot wins
            self._by_id = by_id
        return self._by_id

    @property
    def by_tid(self):
        """Coroutines on an OS thread now (tid set: running, or crashed or
        panicked there), by thread id; a RUNNING one wins a tie."""
        if self._by_tid is None:
            out = {}
            # few entries have a tid: filter them at C speed first
            at = self.coroutine_at
            for c in map(at, compress(count(), self.column("tid"))):
                if c.tid not in out or c.state == layout.STATE_RUNNING:
                    out[c.tid] = c
            self._by_tid = out
        return self._by_tid

    def executing(self):
        """{OS thread id: coroutine executing on it} by the tid rule of
        on_thread (no stack pointers)."""
        self.on_thread(0)
        return self._on_tid

    def on_thread(self, tid, sp=None):
        """The coroutine executing on OS thread TID, or None.

        The one rule every front end uses (list marker, `coroutine` with no
        argument, crash and event reports, LLDB's thread list): the entry
        naming TID (a RUNNING one wins; it may also have panicked or
        crashed there, still on the thread's stack); a dead entry's tid
        proves nothing.  When none names TID and SP (the thread's stack
        pointer) is given, the coroutine whose [stack_lo, stack_hi) holds
        SP: runtimes that do not set tid, a coroutine that panicked or
        crashed after its tid was cleared, and a dead one: an entry is DEAD
        only inside corodbg_exit(), so one whose stack holds SP is
        executing its exit there (a DEAD catchpoint stops just so)."""
        if self._on_tid is None:
            out = {}
            dead = layout.STATE_DEAD
            running = layout.STATE_RUNNING
            for c in self.by_tid.values():
                if c.state != dead:
                    out[c.tid] = c
            if len(out) != len(self.by_tid):
                # by_tid let a dead entry win: look for a live one
                for c in self.coroutines:
                    if c.tid and c.state != dead and (
                            c.tid not in out or c.state == running):
                        out[c.tid] = c
            self._on_tid = out
        co = self._on_tid.get(tid) if tid else None
        if co is not None or not sp:
            return co
        return self._stack_owner(sp)

    def mark_unknown_threads(self, known_tids):
        """Entries executing on a thread the debugger does not know (it
        exited, as docs/interpose.md allows, or the tid is corrupt) are
        marked 'unknown-thread' and no longer count as executing: the
        listing shows them with '?' instead of failing on them.  Adds one
        warning line per such entry."""
        for tid, c in sorted(self.executing().items()):
            if tid in known_tids:
                continue
            del self._on_tid[tid]
            if self.by_tid.get(tid) is c:
                del self._by_tid[tid]
            if c.unreadable:
                continue  # already marked and counted: no second warning
            c.unreadable = "unknown-thread"
            c.note = "on thread %d, which the debugger does not know" % tid
            self.warnings.append(
                "coroutine %d is %s on thread %d, which the debugger does "
                "not know (exited?): marked '?'" % (c.id, c.state_name, tid))

    def _stack_owner(self, sp):
        if self._stacks is None:
            # Only a coroutine that is not parked can be on a thread's
            # stack: running (a runtime that does not set tid), stopped
            # there by a panic or a crash, or in its exit (dead, whatever
            # tid it still names).  One pass, no sort: a few candidates
            # even in a 1M-entry table.
            live = (layout.STATE_RUNNING, layout.STATE_PANICKED,
                    layout.STATE_CRASHED, layout.STATE_DEAD)
            dead = layout.STATE_DEAD
            rows = compress(count(), map(live.__contains__,
                                         self.column("state")))
            self._stacks = [c for c in map(self.coroutine_at, rows)
                            if (not c.tid or c.state == dead) and c.stack_lo]
        found = None
        for c in self._stacks:
            if c.stack_lo <= sp < (c.stack_hi or 0):
                if c.state != layout.STATE_DEAD:
                    return c
                found = found or c   # a live owner of the stack wins
        return found

    def find(self, cid):
        from .errors import UnknownCoroutineError
        co = self.by_id.get(cid)
        if co is None:
            raise UnknownCoroutineError(cid)
        return co
