"""Drive a program under gdb -batch with the ucontext interposer preloaded
and print what the corodbg table says at each stop, one JSON line each
("UCX-JSON {...}").  Run by test_interpose.py:

    UCX_LIB=.../libcorodbg-ucontext.so UCX_CHECKPOINT=pcl_checkpoint \
    gdb -nx -batch -x gdb_driver.py --args PROGRAM

Stops: every call of the checkpoint function (phase = its argument), and
every corodbg_event_hook call; the driver arms the table's in-process
filter for the DEAD state, so each exiting coroutine stops once, while its
entry still reads DEAD.  At checkpoints, every parked coroutine is
unwound from its register block by GDB, through corodbg's coroutine view
(`coroutine ID`): no register is written.

UCX_UCONTEXTS=name,name also reports those ucontext_t variables' saved
registers (REG_RIP, REG_RSP, ...) to compare with the register blocks.
UCX_FILTER_FLAGS adds filter flags (4: also stop on crashes); gdb passes
fatal signals to the program silently, so its handler runs.
UCX_TEXT=1 prints a human-readable listing instead of JSON.
"""
import json
import os
import sys

import gdb

# The table is decoded, and the filter encoded, by corodbg's own core
# (python/corodbg/core), through its self-description.
ROOT = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from corodbg.core import decode, layout, reader  # noqa: E402
from corodbg.core import filter as corefilter  # noqa: E402

REGS = ["rip", "rsp", "rbp", "rbx", "r12", "r13", "r14", "r15"]
GREG_INDEX = {"rip": 16, "rsp": 15, "rbp": 10, "rbx": 11, "r12": 4,
              "r13": 5, "r14": 6, "r15": 7}


STOP_TEXT = {"checkpoint": "checkpoint %(phase)s", "event": "event"}


def text(record):
    """The listing a person reads (UCX_TEXT=1)."""
    if record["stop"] not in STOP_TEXT:
        return "-- %s %s" % (record["stop"], record.get("error", ""))
    d = record["desc"]
    lines = ["-- %s: runtime %s, %d live" % (
        STOP_TEXT[record["stop"]] % record, d["runtime_name"],
        d["live_count"])]
    for e in record["entries"]:
        where = " <- ".join(f["function"] for f in e.get("frames", [])[:3])
        lines.append(("  %3d %-24s %-8s sw=%-2d created %-16s %s" % (
            e["id"], e["name"], e["state"], e["switches"],
            e["create_line"] or e["create_sym"],
            ("at " + where) if where else "")).rstrip())
    return "\n".join(lines)


def emit(record):
    if os.environ.get("UCX_TEXT") == "1":
        sys.stdout.write(text(record) + "\n")
    else:
        sys.stdout.write("UCX-JSON " + json.dumps(record) + "\n")
    sys.stdout.flush()


def read(addr, size):
    return bytes(gdb.selected_inferior().read_memory(addr, size))


RAW = reader.FunctionReader(read)


def table_addr():
    return int(gdb.parse_and_eval("(unsigned long)&corodbg_table"))


def table():
    return decode.decode_table(RAW, table_addr())


def symbol(pc):
    """'func + off' for PC, or '' (gdb's own minimal-symbol lookup)."""
    try:
        out = gdb.execute("info symbol 0x%x" % pc, to_string=True).strip()
    except gdb.error:
        return ""
    return "" if out.startswith("No symbol") else out.split(" in section")[0]


def source_line(pc):
    """file:line of the call a return address PC returns from."""
    if not pc:
        return ""
    sal = gdb.find_pc_line(pc - 1)
    if sal.symtab is None:
        return ""
    return "%s:%d" % (os.path.basename(sal.symtab.filename), sal.line)


def unwind(cid, depth=6):
    """Frame function names of parked coroutine CID, unwound by GDB from
    its register block through corodbg's coroutine view (no register is
    written).  GDB's own frames, not `bt`'s: the frame filter that ends a
    coroutine's bt at its start function does not apply, so the walk goes
    on to where unwinding stops."""
    from corodbg_gdb import target   # the extension main() sourced
    gdb.execute("coroutine %d" % cid, to_string=True)
    try:
        frames, frame = [], gdb.newest_frame().older()  # #0: the thread's
        while frame is not None and len(frames) < depth:
            pc = int(frame.pc())
            # The top frame's pc is where the coroutine resumes (a never-run
            # one's is its function's first instruction), not a return
            # address: named at pc itself (the extension's symbolizer),
            # where GDB looks up pc - 1.
            name = target.symbolize(pc, False).function if not frames \
                else frame.name()
            frames.append({"pc": pc,
                           "function": name or symbol(pc) or "??"})
            try:
                frame = frame.older()
            except gdb.error:
                break
        return frames
    finally:
        gdb.execute("coroutine off", to_string=True)


def snapshot():
    tbl = table()
    if tbl.warnings:
        raise RuntimeError("table warnings: %s" % "; ".join(tbl.warnings))
    out = []
    for co in tbl.coroutines:
        if co.unreadable:
            raise RuntimeError("coroutine %s unreadable: %s"
                               % (co.id, co.unreadable))
        regs = list(co.regs)
        out.append({
            "id": co.id, "name": co.name, "state": co.state_name,
            "switches": co.switches, "tid": co.tid,
            "last_tid": co.last_tid, "parent_id": co.parent_id,
            "entry_fn": co.entry_fn, "entry_sym": symbol(co.entry_fn),
            "create_pc": co.create_pc, "create_sym": symbol(co.create_pc),
            "create_line": source_line(co.create_pc),
            "stack_lo": co.stack_lo, "stack_hi": co.stack_hi,
            "regs": regs, "pc_sym": symbol(regs[0]),
            "signal": co.signal, "fault_addr": co.fault_addr,
        })
    keep = ("generation", "live_count", "next_id", "runtime_name",
            "event_seq", "event_kind", "event_id", "event_old_state",
            "event_new_state", "hook_calls")
    desc = {k: tbl.get(k) for k in keep}
    desc["reg_dwarf"] = list(tbl.reg_dwarf)
    desc["abi_major"] = tbl.prefix["abi_major"]
    return desc, out


def arm_dead_filter():
    """Stop at every DEAD transition (and, with UCX_FILTER_FLAGS, at
    panics or crashes): the core computes the writes, as for `catch
    coroutine state dead`."""
    tbl = table()
    extra = int(os.environ.get("UCX_FILTER_FLAGS", "0"))
    values = corefilter.filter_values(
        (layout.STATE_DEAD,), panic=bool(extra & layout.FILTER_PANIC),
        crash=bool(extra & layout.FILTER_CRASH))
    data = RAW.read(tbl.addr, tbl.prefix["desc_size"])
    inf = gdb.selected_inferior()
    for addr, raw in corefilter.encode(tbl, data, *values):
        inf.write_memory(addr, raw)


def ucontexts():
    names = [n for n in os.environ.get("UCX_UCONTEXTS", "").split(",") if n]
    out = {}
    for n in names:
        g = gdb.parse_and_eval(n + ".uc_mcontext.gregs")
        out[n] = [int(g[GREG_INDEX[r]]) & (2 ** 64 - 1) for r in REGS]
    return out


def main():
    lib, checkpoint = os.environ["UCX_LIB"], os.environ["UCX_CHECKPOINT"]
    gdb.execute("source " + os.path.join(ROOT, "gdb", "corodbg-gdb.py"))
    for cmd in ("set pagination off", "set confirm off",
                "set breakpoint pending on", "set startup-with-shell off",
                "handle SIGSEGV nostop noprint pass",
                "set environment LD_PRELOAD " + lib):
        gdb.execute(cmd)
    gdb.Breakpoint("main", internal=True)
    gdb.execute("run", to_string=True)
    arm_dead_filter()
    gdb.Breakpoint("*" + checkpoint, internal=True)
    gdb.Breakpoint("corodbg_event_hook", internal=True)
    while True:
        gdb.execute("continue", to_string=True)
        if gdb.selected_inferior().pid == 0:
            break
        where = gdb.newest_frame().name()
        desc, entries = snapshot()
        if where == checkpoint:
            record = {"stop": "checkpoint",
                      "phase": int(gdb.parse_and_eval("$rdi")) & 0xffffffff,
                      "thread_tid": gdb.selected_thread().ptid[1]}
            for e in entries:
                if e["state"] != "running":
                    e["frames"] = unwind(e["id"])
            record["ucontexts"] = ucontexts()
        else:
            record = {"stop": "event"}
        record["desc"], record["entries"] = desc, entries
        emit(record)
    emit({"stop": "exited"})


try:
    main()
except Exception as exc:  # one clear line for the test, not a traceback
    emit({"stop": "error", "error": "%s: %s" % (type(exc).__name__, exc)})
