"""`corodbg dump` shows a coroutine's stack as GDB's `bt` in that
coroutine shows it (gdb/corodbg_gdb/view.py, CoroutineFrameFilter): it
ends at the coroutine's start function (the table's entry_fn), never
shows the runtime's trampoline (its runtime_start) below a frame already
shown, and never a junk frame past the bottom (a zero or sentinel return
address, or anything else that is not code).

On the same core, every coroutine's frames must be GDB's, frame for
frame, GDB's tail-call frames included (the functions a sibling call
took off the stack, which GDB infers from DWARF call sites and corodbg
adds to libdwfl's unwind the same way, docs/capture.md)."""
import json
import re
import subprocess
import sys

import pytest

from capture_util import (EXAMPLES, LOADER, ROOT, corodbg,
                          gdb_leaks_and_core, held, need)

sys.path.insert(0, str(ROOT / "tests" / "stacks"))
import stackmatrix  # noqa: E402

FCLIB = ROOT / "build" / "interpose" / "libcorodbg-fcontext.so"


def _strip(name, pairs="()<>{}"):
    """NAME without bracketed parts: arguments, template arguments,
    GDB's {lambda(...)#1}."""
    out, depth = [], 0
    for ch in name:
        if ch in pairs[0::2]:
            depth += 1
        elif ch in pairs[1::2]:
            depth = max(0, depth - 1)
        elif not depth:
            out.append(ch)
    return "".join(out)


def key(name):
    """A function name as both sides spell it: C++ signatures, return
    types, lambdas and ref-qualifiers differ between GDB's printing and
    the symbolizer's demangling; the innermost name does not."""
    words = [w for w in _strip(name or "??").split()
             if re.search(r"\w", w) and w not in ("const", "volatile")]
    return words[-1].split("::")[-1] if words else "??"


def _gdb_function(rest):
    """'f<void (&)(int)>::g(x&&) (this=0x1, c=...) at f.hpp:3' -> the
    function: the text before its argument list, the last balanced
    parenthesized group."""
    rest = re.sub(r" (?:at|from) \S+$", "", rest.strip())
    if not rest.endswith(")"):
        return rest
    depth = 0
    for i in range(len(rest) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(rest[i], 0)
        if not depth:
            return rest[:i].rstrip()
    return rest


def gdb_stacks(text):
    """{coroutine id: [keys of its bt's functions]} from `coroutine apply
    all bt`."""
    return stackmatrix.gdb_bts(text, lambda r: key(_gdb_function(r)))


def our_stacks(core, exe):
    dump = json.loads(corodbg("dump", core, "--exe", exe, "--format",
                              "json").stdout)
    return {c["id"]: [key(f["function"]) for f in c["frames"]]
            for c in dump["coroutines"]}


def unnamed_start(got, want):
    """GDB finds the start function by its symbol: in a library without
    symbols for it (libboost_fiber's fiber entry) it cannot, and shows the
    trampoline below (make_fcontext).  corodbg finds it by its CFI (the
    FDE's start, as for a stripped program), as GDB would with the
    library's debug file."""
    return got and got[-1] == "??" and got == want[:len(got)] and \
        want[len(got):] == ["make_fcontext"]


def check(gdb, ours, skip=()):
    assert gdb, "GDB showed no coroutine stacks"
    bad = {}
    for cid, want in gdb.items():
        got = ours.get(cid)
        if cid in skip or unnamed_start(got, want):
            continue
        if got != want:
            bad[cid] = (got, want)
    assert not bad, "coroutine: (corodbg, gdb bt)\n" + "\n".join(
        "%s: %s\n   %s" % (cid, g, w) for cid, (g, w) in bad.items())


@pytest.mark.parametrize("variant,bottom", [
    ("c-gcc-O2", "sentinel"), ("c-gcc-O0", "sentinel"),
    ("cxx-clang-O0", "sentinel"), ("c-gcc-O2", "zero"),
    ("cxx-gcc-O2", "sentinel"), ("c-gcc-O3", "sentinel"),
    ("cxx-clang-O3", "sentinel"), ("c-gcc-O2", "stub"),
    ("cxx-clang-O0", "stub")])
def test_stackprog_ends_where_gdb_bt_ends(variant, bottom, tmp_path):
    """A sentinel (0xdeaddead...), zero or finish stub (code, with a
    name) below the program's trampoline; the start function's frame
    gone (sibling call) in `conn` at -O2: with a stub, the stack ends at
    the trampoline, which the program then describes as its start."""
    if variant not in stackmatrix.variants():
        pytest.skip("no compiler for %s" % variant)
    stackmatrix.OUT.mkdir(parents=True, exist_ok=True)
    exe = stackmatrix._build(variant)
    core = tmp_path / "core"
    text = gdb_leaks_and_core([exe, stackmatrix.ROUNDS, bottom],
                              "stack_ready", core,
                              command="coroutine apply all bt")
    gdb = gdb_stacks(text)
    fresh = max(gdb)   # never ran: GDB looks its pc up at pc - 1
    check(gdb, our_stacks(core, exe), skip={fresh})


def test_corort_ends_at_the_start_function(tmp_path):
    """corort: the entry function, not corort__start and the runtime's
    trampoline below it."""
    exe = need(EXAMPLES / "leak")
    core = tmp_path / "core"
    text = gdb_leaks_and_core([exe], "example_checkpoint", core,
                              command="coroutine apply all bt")
    check(gdb_stacks(text), our_stacks(core, exe))


def test_on_its_thread_the_whole_thread_stack(tmp_path):
    """A coroutine on its thread (running; crashed there) is the thread:
    `coroutine N bt` selects it and shows the thread's whole stack,
    corort__start and the trampoline included."""
    exe = need(EXAMPLES / "server")
    core = tmp_path / "core"
    text = gdb_leaks_and_core([exe, 3], "example_checkpoint", core,
                              command="coroutine apply all bt")
    gdb, ours = gdb_stacks(text), our_stacks(core, exe)
    assert gdb[1][-2:] == ["corort__start", "corort__trampoline"], gdb[1]
    check(gdb, ours)


def test_crashed_coroutine_is_its_thread(tmp_path):
    """A coroutine that crashed is still on its thread: its stack is the
    thread's, through the signal handler (GDB's `<signal handler
    called>`, an unnamed frame here) into the faulting function, not the
    stale registers it last parked with."""
    exe = need(EXAMPLES / "segv")
    core = tmp_path / "core"
    # stop where the runtime has recorded the crash: its crash event
    # (CORODBG_FILTER_CRASH, 0x4, armed by hand) calls the event hook
    r = subprocess.run(
        ["gdb", "-nx", "-q", "-batch", "-iex", "set auto-load safe-path /",
         "-ex", "source %s" % LOADER, "-ex", "break main", "-ex", "run",
         "-ex", "set var corodbg_table.filter_flags |= 4",
         "-ex", "handle SIGSEGV nostop noprint pass",
         "-ex", "break corodbg_event_hook", "-ex", "continue",
         "-ex", "echo <<<bt>>>\\n", "-ex", "coroutine apply all bt",
         "-ex", "echo <<<end>>>\\n", "-ex", "generate-core-file %s" % core,
         "-ex", "kill", str(exe)], capture_output=True, text=True,
        timeout=180, stdin=subprocess.DEVNULL)
    assert "<<<end>>>" in r.stdout and core.exists(), r.stdout
    text = r.stdout.split("<<<bt>>>\n", 1)[1].split("<<<end>>>", 1)[0]
    gdb, ours = gdb_stacks(text), our_stacks(core, exe)
    assert "read_field" in gdb[3] and "read_field" in ours[3], (gdb, ours)
    check(gdb, ours)
    d = json.loads(corodbg("dump", core, "--format", "json").stdout)
    crashed = {c["id"]: c for c in d["coroutines"]}[3]
    assert crashed["state"] == "crashed"
    assert [t["coroutine"] for t in d["threads"]] == [3]


@pytest.mark.parametrize("build", ["make", "gcc-O2", "clang-O2"])
@pytest.mark.parametrize("prog", ["gen", "fibers", "sessions"])
def test_boost_ends_at_the_start_function(prog, build, tmp_path):
    """Boost.Context under the fcontext interposer: the fiber's entry
    function, not make_fcontext's trampoline and the junk below it; at
    -O0 (the Makefile's build) and at -O2 with g++ and clang++, frame
    for frame as GDB's bt (inlined and tail-call frames included)."""
    exe = stackmatrix.boost_build(prog, build)
    assert FCLIB.exists() and exe.exists(), "build it first: make testbin"
    core = tmp_path / "core"
    text = gdb_leaks_and_core([exe], "boost_checkpoint", core,
                              ["LD_PRELOAD=%s" % FCLIB],
                              command="coroutine apply all bt")
    check(gdb_stacks(text), our_stacks(core, exe))


def _physical_frames(pid):
    """{id: physical frames} of a live process's dump (an inlined frame
    shares its caller's physical frame)."""
    dump = json.loads(corodbg("dump", pid, "--format", "json").stdout)
    return {c["id"]: sum(1 for f in c["frames"] if not f["inlined"])
            for c in dump["coroutines"]}


def test_stripped_program_ends_where_its_symbolized_copy_does():
    """Without symbols the start function is found by its CFI (the
    FDE's start in .eh_frame_hdr): a stripped server's stacks end where
    the same server's do with its symbols, at the entry function."""
    with held("server", 10) as pid:
        full = _physical_frames(pid)
    with held("server-stripped", 10) as pid:
        stripped = _physical_frames(pid)
    assert full and stripped == full, (stripped, full)
