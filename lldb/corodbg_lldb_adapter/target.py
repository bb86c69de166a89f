"""The LLDB adapter's side of the core API: memory reads, the table's
address, symbolization, thread ids and the clock, cached per stop.

Shared by the commands and the OperatingSystem plugin (threads.py): both
run in LLDB's one Python interpreter, so they share one Session per
process, which owns that process's state and its one memory reader, and
decode the table once per stop.

Nothing here writes target memory except `write_filter` (the in-process
event filter, on the user's explicit `coroutine catch`).
"""
import os

import lldb

from corodbg.core import (decode, discovery, errors, layout,
                          reader, runtime_rules, symbols)
from corodbg.core import filter as corefilter
from corodbg.core import threads as corethreads
from corodbg.core.discovery import TABLE_SYMBOL, TABLE_SECTION
from corodbg.core.model import EVENT_NAMES, Location

# Thread ids, names and the cap of coroutine threads: core/threads.py.
CORO_TID_BASE = corethreads.CORO_TID_BASE
DEFAULT_MAX_THREADS = corethreads.DEFAULT_MAX_THREADS
coro_tid = corethreads.coro_tid
coro_id_of_tid = corethreads.coro_id_of_tid


class Config:
    """User settings (`coroutine config`), shared by commands and plugin."""

    def __init__(self):
        env = os.environ.get("CORODBG_LLDB_MAX_THREADS", "")
        self.max_threads = int(env) if env.isdigit() else DEFAULT_MAX_THREADS
        self.threads = True          # the OS plugin lists coroutines
        self.debug = False           # print tracebacks of internal errors
        self.describe_stops = True   # report events as described stops
        self.runtime = runtime_rules.RuntimeFrames()  # which frames are runtime


CONFIG = Config()


class _ProcessReader(reader.MemoryReader):
    """SBProcess.ReadMemory, falling back to the executable's sections for
    read-only file-backed pages that core files do not contain."""

    def __init__(self, process):
        self.process = process
        self.target = process.GetTarget()

    def read(self, addr, size):
        err = lldb.SBError()
        data = self.process.ReadMemory(addr, size, err)
        if err.Success() and data is not None and len(data) == size:
            return bytes(data)
        data = self._from_file(addr, size)
        if data is not None:
            return data
        raise errors.MemoryReadError(addr, size,
                                     err.GetCString() or "unreadable")

    def _from_file(self, addr, size):
        sbaddr = self.target.ResolveLoadAddress(addr)
        sec = sbaddr.GetSection()
        if not sec.IsValid():
            return None
        off = sbaddr.GetOffset()
        if off + size > sec.GetFileByteSize():
            return None
        data = sec.GetSectionData(off, size)
        err = lldb.SBError()
        raw = data.ReadRawData(err, 0, size) if data.GetByteSize() else None
        if not err.Success() or raw is None or len(raw) != size:
            return None
        return bytes(raw)


class Session:
    """What we know about one process; the per-stop parts are dropped when
    the stop id changes."""

    def __init__(self, process):
        self.process = process
        self.target = process.GetTarget()
        self.reader = reader.CachingReader(
            reader.FunctionReader(_ProcessReader(process).read))
        self.table_addr = None
        self.stop_id = None
        self._table = None
        self._table_error = None
        self.symbols = symbols.SymbolCache(
            lambda pc: _function_start(self.target, pc),
            lambda pc, look: _describe(self.target, pc, look))
        self.pinned = set()         # coroutine ids the user selected
        self.cut_note = None        # what the plugin left out this stop
        self._on_threads = None
        self.last_event = None      # text of the last catch event
        self._stack_reader = None
        # The core's FrameSizeUnwinder over stack_reader() (stacks.walker):
        # None until tried, False when it cannot be made.
        self.walker = None

    # ---- per-stop cache -------------------------------------------------
    def _fresh(self):
        sid = self.process.GetStopID()
        if sid != self.stop_id:
            self.stop_id = sid
            self.reader.invalidate()
            self._table = None
            self._table_error = None
            self._on_threads = None

    def forget_table(self):
        """Read the table again at the next use (we wrote to it)."""
        self.reader.invalidate()
        self._table = None

    def is_core(self):
        plugin = self.process.GetPluginName() or ""
        return "elf-core" in plugin or "core" in plugin.lower()

    def table_address(self):
        if self.table_addr is None:
            self.table_addr = find_table(self.target, self.reader)
        return self.table_addr

    def table(self):
        """The decoded table of this stop (cached), or raises
        CorodbgError."""
        self._fresh()
        if self._table is not None:
            return self._table
        if self._table_error is not None:
            raise self._table_error
        try:
            self._table = decode.decode_table(self.reader,
                                              self.table_address())
            CONFIG.runtime.adopt(self._table)   # the runtime's own rule
        except errors.NoTableError:
            raise   # not cached: the modules may not be loaded yet (attach)
        except errors.CorodbgError as e:
            self._table_error = e
            raise
        return self._table

    def is_local_live(self):
        return not self.is_core() and \
            self.target.GetPlatform().IsConnected() and \
            self.target.GetPlatform().GetName() == "host"

    def stack_reader(self):
        """The reader for coroutine stacks: /proc/PID/mem for a live local
        process when it shows the same table bytes as LLDB does (so it is
        the same process), else the session's reader."""
        r = self._stack_reader
        if r is None:
            r = None
            try:
                if self.is_local_live() and \
                        not os.environ.get("CORODBG_LLDB_NO_PROC_MEM"):
                    tbl = self.table()
                    r = reader.open_proc_mem(
                        self.process.GetProcessID(), self.reader, tbl.addr,
                        max(64, min(tbl.prefix["desc_size"], 4096)))
            except (errors.CorodbgError, KeyError, TypeError):
                pass
            self._stack_reader = r = r or self.reader
        return r

    def now_ns(self, tbl):
        """'Now' for ages (the core's clock rule, model.Table.now_ns)."""
        return tbl.now_ns(self.is_local_live())

    # ---- symbolization --------------------------------------------------
    def symbolize(self, pc, is_return=True):
        """pc -> Location(function, file, line, pc), by the core's rule
        (symbols.call_site), cached for the process."""
        return self.symbols.symbolize(pc, is_return)

    # ---- threads ----------------------------------------------------------
    def on_threads(self):
        """{OS thread id: coroutine executing on it} for this stop.

        A coroutine is on a thread when its entry names that thread (tid is
        kept while it runs, also once it panicked or crashed there), or,
        for runtimes that do not set tid, when the thread's stack pointer
        lies inside the coroutine's stack."""
        self._fresh()
        if self._on_threads is not None:
            return self._on_threads
        tbl = self.table()
        out = {}
        for i in range(self.process.GetNumThreads()):
            th = self.process.GetThreadAtIndex(i)
            tid = th.GetThreadID()
            if tid >= CORO_TID_BASE:
                continue
            co = tbl.on_thread(tid)
            if co is None:
                co = tbl.on_thread(tid, _thread_sp(th))
            if co is not None:
                out[tid] = co
        self._on_threads = out
        return out

    def thread_for(self, co, create=True):
        """The SBThread showing CO: the OS thread it executes on, else the
        plugin's coroutine thread (created on demand past the cap)."""
        for tid, c in self.on_threads().items():
            if c is co or c.id == co.id:
                th = self.process.GetThreadByID(tid)
                return th if th.IsValid() else None
        tid = coro_tid(co.id)
        if tid is None:
            return None
        th = self.process.GetThreadByID(tid)
        if th.IsValid():
            return th
        if not create:
            return None
        self.pinned.add(co.id)
        th = self.process.CreateOSPluginThread(tid, co.addr or 0)
        if th.IsValid():
            return th
        return None


def _thread_sp(th):
    f = th.GetFrameAtIndex(0)
    return f.GetSP() if f.IsValid() else 0


_SESSIONS = {}


def session(process):
    """The Session of PROCESS (an SBProcess), created on first use."""
    if process is None or not process.IsValid():
        raise errors.NoTableError(
            "No process (use run, attach or target create --core first).")
    key = (process.GetUniqueID(), process.GetProcessID())
    s = _SESSIONS.get(key)
    if s is None:
        if len(_SESSIONS) > 16:
            _SESSIONS.clear()
        s = _SESSIONS[key] = Session(process)
    else:
        s.process = process
    return s


def find_table(target, rd):
    """Address of corodbg_table: the dynamic/static symbol, else the
    .corodbg section (works stripped and in core files)."""
    cands = []
    syms = target.FindSymbols(TABLE_SYMBOL)
    for i in range(syms.GetSize()):
        sym = syms.GetContextAtIndex(i).GetSymbol()
        if sym.IsValid():
            a = sym.GetStartAddress().GetLoadAddress(target)
            if a != lldb.LLDB_INVALID_ADDRESS and a not in cands:
                cands.append(a)
    for m in target.module_iter():
        sec = m.FindSection(TABLE_SECTION)
        if sec.IsValid():
            a = sec.GetLoadAddress(target)
            if a != lldb.LLDB_INVALID_ADDRESS and a not in cands:
                cands.append(a)
    for a in cands:
        try:
            if rd.read(a, 8) == layout.MAGIC:
                return a
        except errors.MemoryReadError:
            continue
    if cands:
        return cands[0]   # let the decoder say what is wrong with it
    raise discovery.not_found()


def function_name(name):
    """LLDB's name of a function as the listings show it (as GDB and
    LLDB's own `bt` do): None for LLDB's placeholder for an eh_frame range
    of a stripped binary; no leading '::', which LLDB puts before a C++
    function of internal linkage ('::lock_table(int)')."""
    if not name or name.startswith("___lldb_unnamed_symbol"):
        return None
    return name[2:] if name.startswith("::") else name


def _function_start(target, pc):
    """Load address of the symbol holding PC, or None."""
    sym = target.ResolveLoadAddress(pc).GetSymbol()
    if not sym.IsValid():
        return None
    return sym.GetStartAddress().GetLoadAddress(target)


def _describe(target, pc, look):
    """Location of the code at LOOK (an inlined function by its own name),
    reported for PC."""
    a = target.ResolveLoadAddress(look)
    sc = target.ResolveSymbolContextForAddress(
        a, lldb.eSymbolContextFunction | lldb.eSymbolContextSymbol |
        lldb.eSymbolContextLineEntry | lldb.eSymbolContextBlock)
    fn = None
    block = sc.GetBlock()
    inl = block.GetContainingInlinedBlock() if block.IsValid() else None
    if inl is not None and inl.IsValid() and inl.GetInlinedName():
        fn = inl.GetInlinedName()
    elif sc.GetFunction().IsValid():
        fn = sc.GetFunction().GetName()
    elif sc.GetSymbol().IsValid():
        fn = sc.GetSymbol().GetName()
    fn = function_name(fn)
    path, line = None, 0
    le = sc.GetLineEntry()
    if le.IsValid() and le.GetLine():
        fs = le.GetFileSpec()
        path = fs.fullpath or fs.GetFilename()
        line = le.GetLine()
    return Location(fn, path, line, pc)


# ---- the in-process event filter -----------------------------------------

def write_filter(sess, mask, flags, fid, glob):
    """Arm the in-process event filter (the core computes the writes from
    the descriptor's own field records)."""
    if sess.is_core():
        raise errors.CorodbgError("cannot arm a catchpoint in a core file")
    tbl = sess.table()
    data = sess.reader.read(tbl.addr, tbl.prefix["desc_size"])
    for addr, raw in corefilter.encode(tbl, data, mask, flags, fid, glob):
        err = lldb.SBError()
        n = sess.process.WriteMemory(addr, raw, err)
        if not err.Success() or n != len(raw):
            raise errors.CorodbgError("cannot write the event filter at "
                                      "0x%x: %s" % (addr, err.GetCString()))
    sess.forget_table()


def event_record(sess):
    """The last event: (kind name, coroutine id, old state, new state,
    seq) read fresh from the descriptor."""
    tbl = sess.table()
    d = tbl.desc
    return (EVENT_NAMES.get(d.get("event_kind"), "event-%s"
                            % d.get("event_kind")),
            d.get("event_id"), d.get("event_old_state"),
            d.get("event_new_state"), d.get("event_seq"))


def describe_coroutine(sess, co):
    """'Coroutine 7 "panicker" panicked: bad request 7' style text."""
    return corethreads.describe_coroutine(sess.reader, co)