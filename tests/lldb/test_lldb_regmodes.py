"""Register modes in LLDB (tests/progs/regmodes.c): the OS plugin's
coroutine threads of a runtime with its own context block (mode block)
and of one keeping only a saved sp over an fcontext frame (mode frame)
unwind like those of the table's own block; a bad saved sp is a '?'."""
import re

import pytest

BREAK = ["b example_checkpoint"]
RUNTIME = "coroutine config runtime-functions 'fx_*,lp_*'"
CORO = 1 << 32


def rm_line(root, marker):
    src = root / "tests" / "progs" / "regmodes.c"
    for n, text in enumerate(src.read_text().splitlines(), 1):
        if "/* %s */" % marker in text:
            return n
    raise AssertionError(marker)


@pytest.mark.parametrize("mode", ["block", "frame"])
def test_coroutine_threads_unwind(run_lldb, prog, root, mode):
    t = run_lldb(["file %s" % prog] + BREAK + [
        "run %s 3" % mode, "thread list", RUNTIME, "coroutine list -u",
        "thread select 3", "bt", "frame select 1", "frame variable"])
    threads = t["thread list"]
    for cid in (1, 2, 3):
        assert "tid = %d, " % (CORO + cid) in threads
        assert "name = 'coro %d waiter [blocked: io]'" % cid in threads
    assert "name = 'coro 4 fresh [runnable]'" in threads
    bt = t["bt"].split("* thread #")[-1]   # the bt, not the selection
    assert "name = 'coro 2 waiter [blocked: io]'" in bt
    frames = re.findall(r"frame #(\d+): 0x[0-9a-f]+ lldbprog`(\w+)"
                        r"(?:\(.*?\))? at regmodes.c:(\d+)", bt)
    assert [(f, int(ln)) for _, f, ln in frames[1:3]] == [
        ("rm_wait_reply", rm_line(root, "LINE_RM_WAIT")),
        ("rm_worker", rm_line(root, "LINE_RM_WORKER"))], bt
    assert frames[0][1] == "fx_rm_park"
    assert "(long) ticket = 14" in t["frame variable"]
    u = t["coroutine list -u"]
    assert len(re.findall(r"waiter rm_wait_reply at regmodes.c:%d$"
                          % rm_line(root, "LINE_RM_WAIT"), u, re.M)) == 3


def test_bad_saved_sp(run_lldb, prog):
    t = run_lldb(["file %s" % prog] + BREAK + [
        "run frame-bad 3", "thread list", "coroutine list",
        "coroutine select 2"])
    assert "name = 'coro 2 waiter [blocked: io; ? bad-stack]'" in \
        t["thread list"]
    assert re.search(r"^\? 2  blocked  io ", t["coroutine list"], re.M)
    assert "name = 'coro 3 waiter [blocked: io]'" in t["thread list"]
    sel = t["coroutine select 2"]
    assert re.search(r"^error: coroutine 2: saved sp 0x1000 outside its "
                     r"stack \[0x[0-9a-f]+, 0x[0-9a-f]+\)$", sel, re.M), sel
