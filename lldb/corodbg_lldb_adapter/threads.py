"""corodbg's LLDB OperatingSystem plugin: parked coroutines as threads.

LLDB loads it through lldb/corodbg_os.py:
    settings set target.process.python-os-plugin-path /path/to/corodbg_os.py
(`command script import corodbg_lldb.py` does this for you).

Each parked coroutine (runnable, blocked, panicked, crashed, dead but not
yet freed) becomes a thread whose id is 2^32 + the coroutine id (stable
across stops, never a Linux tid) and whose name is
    coro ID NAME [STATE: WAIT REASON]
Its registers are the table entry's register block, read in place
(`register_data_addr`), so `thread list`, `bt`, `frame variable`, core
files and lldb-dap all work without writing a register.  A coroutine that
is running stays on its OS thread, which is renamed
    coro ID NAME [running] on thread TID
LLDB keeps the real threads first.

At most `coroutine config max-threads` coroutine threads are listed (default
2000; Delve caps at 1024 for the same reason: 1M threads freeze IDEs).  The
cut keeps the coroutine of the stop (the event or crash being reported) and
those the user selected, then the most recently active ones; the last
listed thread's name says how many were left out and `coroutine list`
shows them all.

The plugin never raises into LLDB: any failure yields the real threads only
and one warning per stop.
"""
import os
import struct
import sys

from corodbg.core import errors, layout, registers, regmap, regs
from corodbg.core import threads as corethreads

from . import target as T

# The file LLDB loads the plugin from (target.process.python-os-plugin-path).
OS_PLUGIN = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "corodbg_os.py")
# OperatingSystem plugin instances by SBProcess unique id.
PLUGINS = {}

def _warn(process, msg):
    try:
        sys.stderr.write("warning: corodbg: %s\n" % msg)
        sys.stderr.flush()
    except Exception:  # never let a warning fail a stop
        pass


def thread_name(sess, co):
    """'coro 7 worker [blocked: chan receive]' (core/threads.py)."""
    return corethreads.thread_name(sess.reader, co)


stop_coroutine_ids = corethreads.stop_coroutine_ids
choose = corethreads.choose


def real_thread_order(process):
    """OS thread ids in the order LLDB's own (non-plugin) thread list has
    them, which is what an OS plugin's "core" index refers to: the
    NT_PRSTATUS notes of a core file; lldb-server's order (creation order,
    i.e. ascending tids) for a live local process.  None when unknown."""
    try:
        core = process.GetCoreFile()
        path = core.fullpath if core is not None and core.IsValid() else None
        if path:
            return _core_thread_ids(path)
        pid = process.GetProcessID()
        task = "/proc/%d/task" % pid
        if pid and os.path.isdir(task):
            return sorted(int(t) for t in os.listdir(task) if t.isdigit())
    except (OSError, ValueError, struct.error):
        return None
    return None


def _core_thread_ids(path):
    """pr_pid of each NT_PRSTATUS note of an x86-64 ELF core, in order."""
    out = []
    with open(path, "rb") as f:
        eh = f.read(64)
        if eh[:4] != b"\x7fELF" or eh[4] != 2 or eh[5] != 1:
            return None
        phoff, = struct.unpack_from("<Q", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        f.seek(phoff)
        phs = f.read(phentsize * phnum)
        for i in range(min(phnum, 4096)):
            ptype, = struct.unpack_from("<I", phs, i * phentsize)
            if ptype != 4:  # PT_NOTE
                continue
            off, = struct.unpack_from("<Q", phs, i * phentsize + 8)
            size, = struct.unpack_from("<Q", phs, i * phentsize + 32)
            f.seek(off)
            data = f.read(min(size, 64 << 20))
            pos = 0
            while pos + 12 <= len(data):
                nsz, dsz, ntype = struct.unpack_from("<III", data, pos)
                desc = pos + 12 + ((nsz + 3) & ~3)
                if ntype == 1 and desc + 36 <= len(data):  # NT_PRSTATUS
                    out.append(struct.unpack_from("<i", data, desc + 32)[0])
                pos = desc + ((dsz + 3) & ~3)
    return out


class OperatingSystemPlugIn:
    """The OperatingSystem plugin class LLDB instantiates per process."""

    def __init__(self, process):
        self.process = process
        self._reg_info = None
        self._dwarf = ()
        self._warned_stop = None
        self.ok_stop = None   # stop id of the last list made from a table
        PLUGINS[process.GetUniqueID()] = self

    # ---- the register layout -------------------------------------------
    def map_problem(self, tbl):
        """Why TBL's register map cannot give parked coroutines threads
        (core/regmap.py), or None."""
        arch = registers.arch_of_triple(self.process.GetTarget().GetTriple())
        known = registers.names(tbl.prefix.get("arch")) or {}
        return regmap.problem(tbl, known, arch)

    def get_register_info(self):
        if self._reg_info is None:
            # The table's own register list; without a table, the block
            # corodbg.h defines for the target's architecture.
            arch = registers.arch_of_triple(
                self.process.GetTarget().GetTriple()) or layout.ARCH_X86_64
            dwarf = registers.DEFAULT_DWARF[arch]
            try:
                tbl = T.session(self.process).table()
                if self.map_problem(tbl) is None:
                    arch, dwarf = tbl.prefix["arch"], tuple(tbl.reg_dwarf)
            except Exception:
                pass
            reg_list = []
            for i, (name, generic, d) in enumerate(
                    registers.describe(arch, dwarf)):
                r = {"name": name, "bitsize": 64, "offset": 8 * i,
                     "encoding": "uint", "format": "hex", "set": 0,
                     "gcc": d, "dwarf": d}
                if generic:
                    r["generic"] = generic
                    r["alt-name"] = generic
                reg_list.append(r)
            self._dwarf = dwarf
            self._reg_info = {"sets": ["General Purpose Registers"],
                              "registers": reg_list}
        return self._reg_info

    # ---- threads ------------------------------------------------------------
    def _info(self, sess, tbl, co, name=None):
        info = {"tid": T.coro_tid(co.id), "name": name or thread_name(sess, co),
                "queue": "", "state": "stopped", "stop_reason": "none"}
        # Registers kept as one array in the entry are read in place; any
        # others come from get_register_data (the core's saved_registers).
        addr = regs.in_place_addr(tbl, co)
        if addr is not None:
            info["register_data_addr"] = addr
        return info

    def get_thread_info(self):
        try:
            return self._thread_info()
        except Exception as e:  # never fail a stop
            sid = self.process.GetStopID()
            if self._warned_stop != sid:
                self._warned_stop = sid
                if isinstance(e, errors.NoTableError):
                    return []
                _warn(self.process, "coroutine threads unavailable: %s" % e)
            return []

    def _thread_info(self):
        if not T.CONFIG.threads:
            return []
        sess = T.session(self.process)
        tbl = sess.table()
        self.ok_stop = self.process.GetStopID()
        out = []
        # Coroutines executing on an OS thread: name that thread (backed by
        # the real thread, "core" = its index, so registers and stepping
        # are the real ones) and do not list them again.
        tbl_on = tbl.executing()   # the core's rule (model.Table.on_thread)
        order = real_thread_order(self.process)
        if order is None:  # fall back on the previous stop's list
            order = [self.process.GetThreadAtIndex(i).GetThreadID()
                     for i in range(self.process.GetNumThreads())]
            order = [t for t in order if t < T.CORO_TID_BASE]
        for idx, tid in enumerate(order):
            co = tbl_on.get(tid)
            if co is not None:
                out.append({"tid": tid, "core": idx, "queue": "",
                            "state": "stopped", "stop_reason": "none",
                            "name": corethreads.running_name(
                                sess.reader, co, tid)})
        # A coroutine on an OS thread is never shown with its (stale) saved
        # registers, even when that thread could not be found.
        skip = set(c.id for c in tbl_on.values())
        why = self.map_problem(tbl)
        if why is not None:
            # their saved registers would land in the wrong registers
            sid = self.process.GetStopID()
            if self._warned_stop != sid:
                self._warned_stop = sid
                _warn(self.process, "register map unusable: %s: parked "
                      "coroutines get no threads" % why)
            return out
        must = stop_coroutine_ids(tbl) | sess.pinned
        chosen, cut = corethreads.choose_in(tbl, T.CONFIG.max_threads,
                                            must, skip)
        for co in chosen:
            out.append(self._info(sess, tbl, co))
        sess.cut_note = None
        if cut:
            note = corethreads.cut_note(cut, T.CONFIG.max_threads)
            sess.cut_note = note
            last = out[-1]
            last["name"] += corethreads.cut_suffix(cut)
            sid = self.process.GetStopID()
            if self._warned_stop != sid:
                self._warned_stop = sid
                _warn(self.process, note)
        return out

    def create_thread(self, tid, context):
        """A coroutine thread on demand (SBProcess.CreateOSPluginThread),
        e.g. `coroutine select` past the cap."""
        try:
            cid = T.coro_id_of_tid(tid)
            if cid is None:
                return None
            sess = T.session(self.process)
            tbl = sess.table()
            co = tbl.by_id.get(cid)
            if co is None or not co.regs or self.map_problem(tbl):
                return None
            return self._info(sess, tbl, co)
        except Exception:
            return None

    def get_register_data(self, tid):
        """Register bytes for TID (used when no register_data_addr)."""
        try:
            cid = T.coro_id_of_tid(tid)
            sess = T.session(self.process)
            tbl = sess.table()
            co = tbl.by_id.get(cid)
            saved = dict(regs.saved_registers(tbl, co)) if co else {}
        except Exception:   # no context: zeros, LLDB shows no frames
            saved = {}
        self.get_register_info()    # sets self._dwarf
        vals = [saved.get(d, 0) for d in self._dwarf]
        return struct.pack("<%dQ" % len(vals), *vals)
