"""Differential test: for every coroutine of every build of
tests/progs/stackprog.c (C and C++, gcc and clang, -O0/-O2/-O3), the
groups of `-group user` and `coroutine leaks` equal those computed from
the debugger's own per-coroutine `bt`, in GDB and in LLDB.

stackprog's wait sites are the shapes optimizers make: a user helper
ending in a sibling call into a runtime function that keeps its frame
(GDB and LLDB show the helper as a tail-call frame: before this test the
fast walker skipped it for every coroutine but the two it learned from,
splitting one wait site in two groups), the runtime's park inlined
into the user function, a chain of sibling calls leaving no user frame at
all, a helper two calls deep; its stack bottom holds the sentinel
0xdeaddeaddeaddead (or zero, or a finish stub, in a few runs)."""
import pytest

import stackmatrix as sm

VARIANTS = sm.variants()
KINDS = 6 * sm.ROUNDS + 1   # every worker kind ROUNDS times, one fresh


FRESH = KINDS   # the last coroutine never ran: its pc starts a function


def _to_start(fns):
    """An LLDB bt down to the runtime's start function: LLDB's own bt
    cannot be cut (docs/lldb.md) and goes on below it, into the junk or
    the finish stub (`frame_dummy` by pc - 1) at the stack's bottom,
    which is no frame of the coroutine's."""
    names = [sm.base_name(fn) for fn in fns]
    return fns[:names.index("fx_trampoline") + 1] \
        if "fx_trampoline" in names else fns


def _check(bts, grouped, leaks_text, debugger):
    assert len(bts) == KINDS, bts
    assert all(bts.values()), bts   # every coroutine has a bt
    if debugger == "lldb":
        bts = {cid: _to_start(fns) for cid, fns in bts.items()}
    if debugger == "gdb":
        # GDB names a frame #1 by pc - 1, and a never-run coroutine's pc
        # is its trampoline's first instruction: its bt names whatever
        # function lies before (`fx_wait`, `??`).  We name the trampoline.
        assert FRESH in grouped.get("(no user frame) fx_trampoline", ())
        grouped = {k: v - {FRESH} for k, v in grouped.items()}
        grouped = {k: v for k, v in grouped.items() if v}
        del bts[FRESH]
    want = sm.groups_of_bts(bts)
    assert grouped == want
    got = sm.groups_of_leaks(leaks_text)
    blocked = set().union(*got.values()) if got else set()
    assert len(blocked) >= 1
    for key, ids in got.items():    # leaks shows at most 5 ids a group
        assert ids <= want.get(key, set()), (key, ids, want)


# per debugger: its listing and `bt` commands, and its bt parser
DEBUGGERS = {
    "gdb": ("info coroutines -group user -samples 100",
            "coroutine apply all bt", sm.gdb_bts),
    "lldb": ("coroutine list -group user -samples 100",
             "thread backtrace all", sm.lldb_bts),
}


@pytest.mark.parametrize("debugger", sorted(DEBUGGERS))
@pytest.mark.parametrize("variant", VARIANTS)
def test_groups_equal_bt(matrix, variant, debugger):
    if debugger == "lldb" and sm.LLDB is None:
        pytest.skip("lldb-19 is not installed")
    listing, bt, parse = DEBUGGERS[debugger]
    t = matrix[variant][debugger]
    _check(parse(t[bt]), sm.groups_of_listing(t[listing]),
           t["coroutine leaks"], debugger)


STARTS = {"plain_worker", "tail_worker", "inline_worker", "conn",
          "nested_worker", "relay_worker"}


def _ends_at_start(stacks):
    """Each stack ends at its coroutine's start function, the first one
    in it (by address: C++ names it `conn(co*)`, and nothing of the
    runtime below it), or, when sibling calls took the start function
    off the stack, at the runtime's trampoline: never a junk `?? ()`
    frame below, nor the finish stub the "stub" runs plant there."""
    for cid, fns in stacks.items():
        names = [sm.base_name(fn) for fn in fns]
        assert names and "??" not in fns, (cid, fns)
        assert "fx_finish" not in names, (cid, fns)
        first = [i for i, n in enumerate(names) if n in STARTS]
        if first:
            assert first[0] == len(names) - 1, (cid, fns)
        else:
            assert names[-1] == "fx_trampoline", (cid, fns)


@pytest.mark.parametrize("variant", VARIANTS)
def test_gdb_bt_ends_at_the_start_function(matrix, variant):
    """C or C++, sentinel or zero at the bottom: GDB's `bt` of a
    coroutine ends at its start function (_ends_at_start)."""
    t = matrix[variant]["gdb"]
    bts = sm.gdb_bts(t["coroutine apply all bt"])
    del bts[FRESH]      # GDB's pc - 1 quirk: see _check
    _ends_at_start(bts)
    assert "0xdeaddead" not in t["coroutine apply all bt"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_lldb_stacks_end_at_the_start_function(matrix, variant):
    """LLDB's `coroutine list -t` cuts each stack where GDB's `bt` ends
    (LLDB's own `bt` cannot be cut: docs/lldb.md)."""
    if sm.LLDB is None:
        pytest.skip("lldb-19 is not installed")
    t = matrix[variant]["lldb"]
    stacks = sm.listed_stacks(t["coroutine list -t 30"])
    assert len(stacks) >= 10, t["coroutine list -t 30"]
    _ends_at_start(stacks)


@pytest.mark.parametrize("run", ["gdb-zero", "gdb-stub", "gdb-one-by-one"])
@pytest.mark.parametrize("variant", ["c-gcc-O2", "cxx-clang-O0"])
def test_gdb_other_runs(matrix, variant, run):
    """The same groups as `bt` with a stack bottom of zero (gdb-zero) or
    a finish stub (gdb-stub), and with each parked stack read alone, as
    through gdbserver, and only up to the last return-address slot the
    walk can reach (gdb-one-by-one: stackwalk's _extent)."""
    if variant not in matrix:
        pytest.skip("%s not built (compiler missing)" % variant)
    t = matrix[variant][run]
    bts = sm.gdb_bts(t["coroutine apply all bt"])
    _check(bts, sm.groups_of_listing(
        t["info coroutines -group user -samples 100"]),
        t["coroutine leaks"], "gdb")
    if run == "gdb-stub":
        _ends_at_start(bts)     # (_check dropped FRESH: GDB's pc - 1)


@pytest.mark.parametrize("run", ["lldb-zero", "lldb-stub"])
@pytest.mark.parametrize("variant", ["c-gcc-O2", "cxx-clang-O0"])
def test_lldb_other_bottoms(matrix, variant, run):
    """LLDB with a stack bottom of zero or a finish stub: the same groups
    as its `bt`, and `-t` still ends at the start function."""
    if sm.LLDB is None:
        pytest.skip("lldb-19 is not installed")
    if variant not in matrix:
        pytest.skip("%s not built (compiler missing)" % variant)
    t = matrix[variant][run]
    listing, bt, parse = DEBUGGERS["lldb"]
    _check(parse(t[bt]), sm.groups_of_listing(t[listing]),
           t["coroutine leaks"], "lldb")
    _ends_at_start(sm.listed_stacks(t["coroutine list -t 30"]))


def test_shapes_are_present(matrix):
    """The matrix holds what it is for: at -O2 gcc's sibling calls leave
    `conn` without a user frame and GDB shows the inlined park as a frame
    of its own; at -O0 every helper is a frame."""
    o2 = sm.gdb_bts(matrix["c-gcc-O2"]["gdb"]["coroutine apply all bt"])
    keys = sm.groups_of_bts(o2)
    assert any(k.startswith("(no user frame)") for k in keys), keys
    assert any("fx_park_inline" in fns for fns in o2.values()), o2
    # relay_worker -> await_io -jmp-> fx_wait: GDB shows await_io as a
    # tail-call frame, and so must the walker (the split group)
    assert any(fns[:2] == ["fx_wait", "await_io"] for fns in o2.values()), o2
    assert keys["await_io"] == {6 * r + 6 for r in range(sm.ROUNDS)}
    o0 = sm.gdb_bts(matrix["c-gcc-O0"]["gdb"]["coroutine apply all bt"])
    assert any("await_token" in fns for fns in o0.values()), o0
    assert "(no user frame) fx_trampoline" in keys
