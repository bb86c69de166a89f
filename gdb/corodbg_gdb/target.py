"""The adapter's side of the core API: memory, the table's address,
symbolization, thread ids and the clock, with per-stop caches.

Everything cached here is dropped on resume (gdb.events.cont), when the
user writes memory (gdb.events.memory_changed) and when an objfile
appears or the program goes away.
"""
import functools
import re
import traceback

import gdb

from corodbg.core import (decode, discovery, ehframe, errors, reader,
                          render, runtime_rules, symbols)
from corodbg.core.discovery import TABLE_SYMBOL, TABLE_SECTION
from corodbg.core.model import Location

BATCH_CHARS = 32768    # see write_lines


class Memory(reader.MemoryReader):
    """The adapter's one memory reader, three ways:

    - read/read_view: GDB's reads, cached until the target resumes or its
      memory is written (the table, entries, strings);
    - raw: GDB's reads, uncached (the descriptor a catchpoint re-reads at
      every event, the filter before writing it);
    - stacks(): the coroutines' stacks, through /proc/PID/mem for a live
      native process (a pread instead of a GDB call per coroutine), else
      raw.  (Reading the table's chunks that way was measured slower for
      the first listing: 0.57 s against 0.50 s at 100,000.)"""

    def __init__(self):
        self.raw = reader.FunctionReader(_read, _view)
        self._cached = reader.CachingReader(self.raw)
        self._stacks = None     # ((inferior, pid), reader)

    def read(self, addr, size):
        return self._cached.read(addr, size)

    def read_view(self, addr, size):
        return self._cached.read_view(addr, size)

    def invalidate(self):
        self._cached.invalidate()

    def stacks(self):
        inf = gdb.selected_inferior()
        key = (inf.num, inf.pid)
        if self._stacks is not None and self._stacks[0] == key:
            return self._stacks[1]
        r = None
        conn = getattr(inf, "connection", None)
        if inf.pid and conn is not None and conn.type == "native":
            try:
                r = reader.open_proc_mem(inf.pid, self.raw, table_address())
            except errors.CorodbgError:
                r = None
        self._stacks = (key, r or self.raw)
        return r or self.raw


def _read(addr, size):
    return gdb.selected_inferior().read_memory(addr, size).tobytes()


def _view(addr, size):
    """GDB's buffer itself (reader.read_view): a plain listing takes the
    table's columns from it and keeps no copy of the chunks."""
    return gdb.selected_inferior().read_memory(addr, size).cast("B")


class Session:
    """Everything the GDB adapter keeps, in one place (one instance, `S`).

    Per stop (dropped on resume and memory writes, `invalidate`): the
    table, cached reads, each thread's sp and inline depth, the active
    coroutine view.  Per program (also dropped when objfiles change or the
    program exits, `invalidate_all`): the table's address, symbols, module
    ranges and the learned frame sizes.  Settings and catch state live as
    long as GDB."""

    def __init__(self):
        self.memory = Memory()
        self.table = None
        self.table_addr = None
        self.stop_serial = 0
        self.thread_sps = {}       # GDB thread number -> sp of frame #0
        self.view_bases = {}       # gdb.InferiorThread -> inline depth
        self.map_checked = (None, None)  # (table, regmap problem or None)
        self.view = None           # view.View being looked at, or None
        self.symbols = symbols.SymbolCache(      # (defined further down)
            lambda pc: _function_start(pc),
            lambda pc, look: _describe(pc, look))
        self.module_ranges = None  # [(start, end, path, bias)]
        self.eh_frame_hdr_sections = {}  # path -> (start, end) loaded
        self.eh_frame_hdrs = {}    # path -> ehframe.EhFrameHdr or None
        self.fast_unwinder = None  # stackwalk.FrameSizeUnwinder
        self.runtime = runtime_rules.RuntimeFrames()  # which frames are runtime
        self.debug = False         # `set corodbg debug`
        # catch.py: live catchpoints; (catchpoint, coroutine id) events to
        # report at the stop; cores already reported; lwp -> the entry
        # last seen running there
        self.catchpoints = []
        self.pending_events = []
        self.reported_cores = set()
        self.tid_slot = {}

    def invalidate(self, *_args):
        """Forget what was read from the target (resume, memory write)."""
        self.memory.invalidate()
        self.table = None
        self.thread_sps.clear()
        self.view_bases.clear()
        self.stop_serial += 1

    def invalidate_all(self, *_args):
        """Also forget the table address and symbols (new objfile/exit)."""
        self.invalidate()
        self.table_addr = None
        self.symbols.clear()
        self.module_ranges = None
        self.eh_frame_hdr_sections = {}
        self.eh_frame_hdrs = {}
        self.fast_unwinder = None


S = Session()


def _on_cont(_ev):
    S.invalidate()
    S.symbols.clear()


gdb.events.cont.connect(_on_cont)
gdb.events.memory_changed.connect(S.invalidate)
gdb.events.new_objfile.connect(S.invalidate_all)
gdb.events.exited.connect(S.invalidate_all)
if hasattr(gdb.events, "clear_objfiles"):
    gdb.events.clear_objfiles.connect(S.invalidate_all)


# ---- errors at the edge ---------------------------------------------------

def gdb_errors(fn):
    """Run a command body; turn core errors into gdb.GdbError (one line, no
    traceback) and our own bugs into one line too (traceback only with
    `set corodbg debug on`)."""
    @functools.wraps(fn)
    def wrapper(*args, **kw):
        try:
            return fn(*args, **kw)
        except errors.CorodbgError as e:
            raise gdb.GdbError(str(e))
        except (gdb.GdbError, KeyboardInterrupt):
            raise
        except gdb.MemoryError as e:
            raise gdb.GdbError("corodbg: %s" % e)
        except gdb.error as e:
            raise gdb.GdbError(str(e))
        except Exception as e:  # a bug of ours: say so, briefly
            if S.debug:
                gdb.write(traceback.format_exc(), gdb.STDERR)
            raise gdb.GdbError("corodbg: internal error: %s: %s "
                               "(set corodbg debug on for details)"
                               % (type(e).__name__, e))
    return wrapper


def write_lines(lines):
    """Write LINES (strings of one or more lines, a list or an iterator
    that makes them as it goes) through GDB's pager, about BATCH_CHARS
    at a time; stop quietly when the user quits the pager.  Small writes
    matter: every write is copied (GDB formats it into a new string of
    its own, and capturing output grows another), and blocks above
    glibc's mmap threshold (128 KiB) come as fresh pages, ~17 us of
    page faults per 4 KiB on this VM; blocks under it reuse the heap."""
    buf, size = [], 0
    append, join, write = buf.append, "".join, gdb.write
    try:
        for s in lines:
            append(s)
            size += len(s)
            if size >= BATCH_CHARS:
                write(join(buf))
                buf.clear()
                size = 0
        if buf:
            write(join(buf))
    except KeyboardInterrupt:
        pass


def warn(msg):
    gdb.write("warning: corodbg: %s\n" % msg, gdb.STDERR)


# ---- the target --------------------------------------------------------------

def has_target():
    inf = gdb.selected_inferior()
    return inf is not None and inf.pid != 0


def target_kind():
    """'native', 'core', 'remote', 'extended-remote', ... or None."""
    inf = gdb.selected_inferior()
    conn = getattr(inf, "connection", None)
    if conn is not None:
        return conn.type
    return None


def is_live():
    return has_target() and target_kind() != "core"


def require_target():
    if not has_target():
        raise errors.NoTableError(
            "The program is not being run (use run, attach, target remote "
            "or core-file first).")


def _symbol_addr():
    try:
        sym = gdb.lookup_global_symbol(TABLE_SYMBOL)
        if sym is not None and sym.is_variable:
            return int(sym.value().address)
    except (gdb.error, RuntimeError):
        pass
    try:
        v = gdb.parse_and_eval("(unsigned long)&%s" % TABLE_SYMBOL)
        return int(v)
    except gdb.error:
        return None


_SECTION_RE = re.compile(r"^\s*(0x[0-9a-f]+) - (0x[0-9a-f]+) is %s\b"
                         % re.escape(TABLE_SECTION), re.M)


def _section_addr():
    """The .corodbg section from `info files` (works stripped and in cores)."""
    try:
        text = gdb.execute("info files", to_string=True)
    except gdb.error:
        return None
    m = _SECTION_RE.search(text)
    return int(m.group(1), 16) if m else None


def table_address():
    if S.table_addr is None:
        addr = _symbol_addr()
        if addr is None:
            addr = _section_addr()
        if addr is None:
            if not gdb.current_progspace().filename:
                raise discovery.no_executable()
            raise discovery.not_found()
        S.table_addr = addr
    return S.table_addr


def table(columns=False):
    """The decoded table of this stop (cached).  Prints its warnings once.
    COLUMNS: the first use at this stop is a plain listing (a clean table
    then comes as columns, decode.decode_table)."""
    require_target()
    if S.table is None:
        t = decode.decode_table(S.memory, table_address(),
                                columns=columns)
        t.mark_unknown_threads(known_tids())
        S.table = t
        S.runtime.adopt(t)   # the runtime's own description of its code
        for line in render.warning_lines(t.warnings):
            gdb.write(line, gdb.STDERR)
    return S.table


def now_ns(t):
    """'Now' for ages (the core's clock rule, model.Table.now_ns): the host
    clock only beside a live native process."""
    return t.now_ns(target_kind() == "native")


def current_lwp():
    th = gdb.selected_thread()
    if th is None or not th.is_valid():
        return None
    return th.ptid[1] or th.ptid[0]


def current_sp():
    """The selected thread's stack pointer (frame #0), or None."""
    try:
        return int(gdb.newest_frame().read_register("sp"))
    except (gdb.error, RuntimeError, ValueError):
        return None


def known_tids():
    """The OS thread ids GDB knows in the selected inferior."""
    return {th.ptid[1] or th.ptid[0]
            for th in gdb.selected_inferior().threads()}


def thread_for_tid(tid):
    for th in gdb.selected_inferior().threads():
        if th.ptid[1] == tid or (th.ptid[1] == 0 and th.ptid[0] == tid):
            return th
    return None


# ---- symbolization -------------------------------------------------------------

def _function_at(pc):
    """(name, start) of the function whose code PC is in: the physical
    one, not a function inlined into it.  An inlined call's block can
    start at a return address (the instruction after a call can be the
    first of the next inlined call): taken for the function, it made a
    caller frame look like one sitting at its function's start (a
    coroutine that never ran) and named it after the inlined callee.
    (A GNU C nested function is named after the function around it.)"""
    try:
        block = gdb.block_for_pc(pc)
    except RuntimeError:
        block = None
    outer = None
    while block is not None and not (block.is_static or block.is_global):
        if block.function is not None:
            outer = block
        block = block.superblock
    if outer is not None:
        try:    # the entry: a function with a cold part starts above it
            start = int(outer.function.value().address)
        except (gdb.error, RuntimeError, TypeError, ValueError):
            start = outer.start
        return outer.function.print_name, start
    try:
        text = gdb.execute("info symbol 0x%x" % pc, to_string=True)
    except gdb.error:
        return None, None
    # "NAME [+ OFF] in section S [of FILE]"; a C++ NAME has spaces
    m = re.match(r"(.+?)(?: \+ (\d+))? in section ", text)
    if not m:
        return None, None
    return m.group(1), pc - int(m.group(2) or 0)


def _function_start(pc):
    return _function_at(pc)[1]


def _describe(pc, look):
    """Location of the code at LOOK, reported for PC: named by LOOK's
    function (else PC's), by module + offset when neither has a name."""
    fn, _ = _function_at(look)
    if fn is None and look != pc:
        fn, _ = _function_at(pc)
    path, line = None, 0
    try:
        sal = gdb.find_pc_line(look)
        if sal.symtab is not None:
            path, line = sal.symtab.filename, sal.line
    except RuntimeError:
        pass
    module = None if fn else module_of(pc)
    return Location(fn, path, line, pc, module)


def symbolize(pc, is_return=True):
    """pc -> Location(function, file, line, pc), by the core's rule
    (symbols.call_site: a return address names its call), cached per
    stop."""
    return S.symbols.symbolize(pc, is_return)


# ---- module + offset of addresses without symbols --------------------------

_FILES_RE = re.compile(r"^\s*(0x[0-9a-f]+) - (0x[0-9a-f]+) is (\S+)"
                       r"(?: in (.+))?$", re.M)


def _elf_section_addr(path, name):
    """sh_addr of section NAME in the ELF file PATH, or None."""
    import struct
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:
                return None
            end = "<" if head[5] == 1 else ">"
            shoff, = struct.unpack_from(end + "Q", head, 0x28)
            shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH",
                                                            head, 0x3a)
            if shnum == 0 or shnum > 4096 or shentsize < 64:
                return None
            f.seek(shoff)
            table = f.read(shentsize * shnum)
            def sh(i):
                return struct.unpack_from(end + "IIQQQQ", table,
                                          i * shentsize)
            _, _, _, _, stroff, strsize = sh(shstrndx)
            f.seek(stroff)
            strtab = f.read(min(strsize, 1 << 20))
            for i in range(shnum):
                nameoff, _, _, addr, _, _ = sh(i)
                z = strtab.find(b"\0", nameoff)
                if strtab[nameoff:z].decode("latin-1") == name:
                    return addr
    except (OSError, struct.error, ValueError, IndexError):
        return None
    return None


def _module_ranges():
    ranges = S.module_ranges
    if ranges is None:
        ranges = []
        try:
            text = gdb.execute("info files", to_string=True)
            exe = gdb.current_progspace().filename
        except gdb.error:
            text, exe = "", None
        bias, hdrs = {}, {}
        for m in _FILES_RE.finditer(text):
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            sect, path = m.group(3), (m.group(4) or exe)
            if not path or path.startswith("system-supplied"):
                continue
            if path not in bias:
                bias[path] = None
            if sect == ".text" and bias[path] is None:
                addr = _elf_section_addr(path, ".text")
                if addr is not None:
                    bias[path] = start - addr
            if sect == ".eh_frame_hdr":
                hdrs[path] = (start, end)
            ranges.append((start, end, path))
        S.module_ranges = [(a, b, p, bias.get(p)) for a, b, p in ranges]
        S.eh_frame_hdr_sections = hdrs
        ranges = S.module_ranges
    return ranges


def cfi_function_start(pc):
    """Start of the function holding PC by its module's .eh_frame_hdr
    (core/ehframe.py), for code without symbols (a stripped program's
    static functions), taking PC as a return address; or None."""
    path = None
    for start, end, p, _ in _module_ranges():
        if start <= pc < end:
            path = p
            break
    if path is None:
        return None
    if path not in S.eh_frame_hdrs:
        sect = S.eh_frame_hdr_sections.get(path)
        S.eh_frame_hdrs[path] = sect and ehframe.read_eh_frame_hdr(
            S.memory, sect[0], sect[1] - sect[0])
    hdr = S.eh_frame_hdrs[path]
    return ehframe.function_start(hdr, pc) if hdr else None


def module_of(pc):
    """'file+0xVADDR' for PC (the ELF virtual address, what addr2line and
    corosym take), or None."""
    import os
    for start, end, path, bias in _module_ranges():
        if start <= pc < end and bias is not None:
            return "%s+0x%x" % (os.path.basename(path), pc - bias)
    return None
