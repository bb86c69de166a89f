"""Drive a program under gdb -batch with the ucontext interposer preloaded
and print what the corodbg table says at each stop, one JSON line each
("UCX-JSON {...}").  Run by test_interpose.py:

    UCX_LIB=.../libcorodbg-ucontext.so UCX_CHECKPOINT=pcl_checkpoint \
    gdb -nx -batch -x gdb_driver.py --args PROGRAM

Stops: every call of the checkpoint function (phase = its argument), and
every corodbg_event_hook call; the driver arms the table's in-process
filter for the DEAD state, so each exiting coroutine stops once, while its
entry still reads DEAD.  At checkpoints, every parked coroutine is
unwound from its register block (live process: the driver writes the
registers, walks the frames, then puts them back).

UCX_UCONTEXTS=name,name also reports those ucontext_t variables' saved
registers (REG_RIP, REG_RSP, ...) to compare with the register blocks.
UCX_FILTER_FLAGS adds filter flags (4: also stop on crashes); gdb passes
fatal signals to the program silently, so its handler runs.
UCX_TEXT=1 prints a human-readable listing instead of JSON.
"""
import json
import os
import struct
import sys

import gdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corotable  # noqa: E402

REGS = ["rip", "rsp", "rbp", "rbx", "r12", "r13", "r14", "r15"]
GREG_INDEX = {"rip": 16, "rsp": 15, "rbp": 10, "rbx": 11, "r12": 4,
              "r13": 5, "r14": 6, "r15": 7}
DEAD = 4
FILTER_ARMED = 1


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


def table_addr():
    return int(gdb.parse_and_eval("(unsigned long)&corodbg_table"))


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


def unwind(regs, depth=6):
    """Frame function names seen from a register block (live only)."""
    saved = [int(gdb.parse_and_eval("$" + r)) for r in REGS]
    try:
        for name, value in zip(REGS, regs):
            gdb.execute("set $%s = %d" % (name, value))
        frames, frame = [], gdb.newest_frame()
        while frame is not None and len(frames) < depth:
            frames.append({"pc": int(frame.pc()), "function": frame.name() or
                           symbol(int(frame.pc())) or "??"})
            try:
                frame = frame.older()
            except gdb.error:
                break
        return frames
    finally:
        for name, value in zip(REGS, saved):
            gdb.execute("set $%s = %d" % (name, value))


def snapshot():
    desc, entries, _ = corotable.decode(read, table_addr())
    out = []
    for e in entries:
        out.append({
            "id": e["id"], "name": e["name"], "state": e["state_name"],
            "switches": e["switches"], "tid": e["tid"],
            "last_tid": e["last_tid"], "parent_id": e["parent_id"],
            "entry_fn": e["entry_fn"], "entry_sym": symbol(e["entry_fn"]),
            "create_pc": e["create_pc"], "create_sym": symbol(e["create_pc"]),
            "create_line": source_line(e["create_pc"]),
            "stack_lo": e["stack_lo"], "stack_hi": e["stack_hi"],
            "regs": e["regs"], "pc_sym": symbol(e["regs"][0]),
            "signal": e["signal"], "fault_addr": e["fault_addr"],
        })
    keep = ("generation", "live_count", "next_id", "runtime_name",
            "event_seq", "event_kind", "event_id", "event_old_state",
            "event_new_state", "hook_calls", "reg_dwarf", "abi_major")
    return {k: desc[k] for k in keep}, out


def arm_dead_filter():
    addr = table_addr()
    _, _, layout = corotable.decode(read, addr)
    inf = gdb.selected_inferior()
    off = layout.desc["filter_state_mask"][0]
    inf.write_memory(addr + off, struct.pack("<I", 1 << DEAD))
    off = layout.desc["filter_flags"][0]
    flags = FILTER_ARMED | int(os.environ.get("UCX_FILTER_FLAGS", "0"))
    inf.write_memory(addr + off, struct.pack("<I", flags))


def ucontexts():
    names = [n for n in os.environ.get("UCX_UCONTEXTS", "").split(",") if n]
    out = {}
    for n in names:
        g = gdb.parse_and_eval(n + ".uc_mcontext.gregs")
        out[n] = [int(g[GREG_INDEX[r]]) & (2 ** 64 - 1) for r in REGS]
    return out


def main():
    lib, checkpoint = os.environ["UCX_LIB"], os.environ["UCX_CHECKPOINT"]
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
                    e["frames"] = unwind(e["regs"])
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
