"""The adapter's side of the core API: memory, the table's address,
symbolization, thread ids and the clock, with per-stop caches.

Everything cached here is dropped on resume (gdb.events.cont), when the
user writes memory (gdb.events.memory_changed) and when an objfile
appears or the program goes away.
"""
import functools
import re
import time
import traceback

import gdb

from corodbg.core import errors, reader, decode, render, runtime_rules
from corodbg.core.model import Location

TABLE_SYMBOL = "corodbg_table"
TABLE_SECTION = ".corodbg"
BATCH_CHARS = 32768    # see write_lines


class Session:
    """Per-GDB state of the extension (one instance, `S`)."""

    def __init__(self):
        self.reader = reader.CachingReader(reader.FunctionReader(_read,
                                                                 _view))
        self.table = None
        self.table_addr = None
        self.locations = {}
        self.runtime = runtime_rules.RuntimeFrames()  # which frames are runtime
        self.debug = False
        self.stop_serial = 0

    def invalidate(self, *_args):
        """Forget what was read from the target (resume, memory write)."""
        self.reader.invalidate()
        self.table = None
        self.stop_serial += 1

    def invalidate_all(self, *_args):
        """Also forget the table address and symbols (new objfile/exit)."""
        self.invalidate()
        self.table_addr = None
        self.locations.clear()
        self.__dict__.pop("module_ranges", None)


def _read(addr, size):
    return gdb.selected_inferior().read_memory(addr, size).tobytes()


def _view(addr, size):
    """GDB's buffer itself (reader.read_view): a plain listing takes the
    table's columns from it and keeps no copy of the chunks."""
    return gdb.selected_inferior().read_memory(addr, size).cast("B")


RAW = reader.FunctionReader(_read)     # GDB's reads, uncached


def proc_reader():
    """The reader of the coroutines' stacks: /proc/PID/mem for a live
    native process (a pread instead of a GDB call per coroutine), else
    GDB's (RAW).  (Reading the table's chunks through it too was measured
    slower for the first listing: 0.57 s against 0.50 s at 100,000.)"""
    inf = gdb.selected_inferior()
    key = (inf.num, inf.pid)
    got = S.__dict__.get("stack_reader")
    if got is not None and got[0] == key:
        return got[1]
    r = None
    conn = getattr(inf, "connection", None)
    if inf.pid and conn is not None and conn.type == "native":
        try:
            r = reader.open_proc_mem(inf.pid, RAW, table_address())
        except errors.CorodbgError:
            r = None
    S.stack_reader = (key, r or RAW)
    return r or RAW


S = Session()


def _on_cont(_ev):
    S.invalidate()
    S.locations.clear()


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


NO_EXECUTABLE = ("no executable loaded: use `file PROGRAM` (the table is "
                 "found through the program's symbols or its .corodbg "
                 "section)")


def table_address():
    if S.table_addr is None:
        addr = _symbol_addr()
        if addr is None:
            addr = _section_addr()
        if addr is None:
            if not gdb.current_progspace().filename:
                raise errors.NoTableError(NO_EXECUTABLE)
            raise errors.NoTableError(
                "No coroutine table in this program (symbol %s and section "
                "%s not found: is it linked with libcorodbg?)"
                % (TABLE_SYMBOL, TABLE_SECTION))
        S.table_addr = addr
    return S.table_addr


def table(columns=False):
    """The decoded table of this stop (cached).  Prints its warnings once.
    COLUMNS: the first use at this stop is a plain listing (a clean table
    then comes as columns, decode.decode_table)."""
    require_target()
    if S.table is None:
        t = decode.decode_table(S.reader, table_address(),
                                columns=columns)
        t.mark_unknown_threads(known_tids())
        S.table = t
        S.runtime.adopt(t)   # the runtime's own description of its code
        for line in render.warning_lines(t.warnings):
            gdb.write(line, gdb.STDERR)
    return S.table


def now_ns(t):
    """'Now' for ages: the host clock for a live native process (same
    CLOCK_MONOTONIC), else the last clock the runtime read (cores)."""
    if target_kind() == "native":
        return time.monotonic_ns()
    return t.get("clock_ns")


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
    try:
        block = gdb.block_for_pc(pc)
    except RuntimeError:
        block = None
    while block is not None and block.function is None:
        block = block.superblock
    if block is not None:
        return block.function.print_name, block.start
    try:
        text = gdb.execute("info symbol 0x%x" % pc, to_string=True)
    except gdb.error:
        return None, None
    m = re.match(r"(\S+)(?: \+ (\d+))? in section", text)
    if not m:
        return None, None
    return m.group(1), pc - int(m.group(2) or 0)


def symbolize(pc, is_return=True):
    """pc -> Location(function, file, line, pc); cached per stop.

    IS_RETURN: PC is a return address, so its line is that of the call
    (look up pc - 1), unless PC starts a function (a coroutine that never
    ran sits at its start routine)."""
    if not pc:
        return Location(None, None, 0, pc)
    key = (pc, is_return)
    loc = S.locations.get(key)
    if loc is None:
        fn, start = _function_at(pc)
        look = pc - 1 if is_return and start != pc else pc
        if look != pc:
            fn2, _ = _function_at(look)
            fn = fn2 or fn
        path, line = None, 0
        try:
            sal = gdb.find_pc_line(look)
            if sal.symtab is not None:
                path, line = sal.symtab.filename, sal.line
        except RuntimeError:
            pass
        module = None if fn else module_of(pc)
        loc = S.locations[key] = Location(fn, path, line, pc, module)
    return loc


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
    ranges = S.__dict__.get("module_ranges")
    if ranges is None:
        ranges = []
        try:
            text = gdb.execute("info files", to_string=True)
            exe = gdb.current_progspace().filename
        except gdb.error:
            text, exe = "", None
        bias = {}
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
            ranges.append((start, end, path))
        S.module_ranges = [(a, b, p, bias.get(p)) for a, b, p in ranges]
        ranges = S.module_ranges
    return ranges


def module_of(pc):
    """'file+0xVADDR' for PC (the ELF virtual address, what addr2line and
    corosym take), or None."""
    import os
    for start, end, path, bias in _module_ranges():
        if start <= pc < end and bias is not None:
            return "%s+0x%x" % (os.path.basename(path), pc - bias)
    return None
