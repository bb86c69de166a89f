"""Register modes in GDB: coroutines of a runtime that keeps its own
context block (mode block) and of one that keeps only a saved sp over a
pushed fcontext frame (mode frame), tests/progs/regmodes.c.  `bt` of a
parked coroutine, its locals and -u are the same as for the table's own
block; a saved sp outside the stack is a '?' entry with its reason."""
import re

import pytest

from gdbdriver import ROOT, run_gdb

SRC = ROOT / "tests" / "progs" / "regmodes.c"
STOP = ["break fixture_ready", "run"]


def rm_line(marker):
    for n, text in enumerate(SRC.read_text().splitlines(), 1):
        if "/* %s */" % marker in text:
            return n
    raise AssertionError("marker %s not in regmodes.c" % marker)


def frames(bt):
    return re.findall(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\w+) \(.*\) at "
                      r"(\S+):(\d+)$", bt, re.M)


@pytest.mark.parametrize("mode", ["block", "frame"])
def test_parked_bt_locals_and_user_location(mode):
    out = run_gdb(STOP + ["info coroutines", "coroutine 2", "echo ==\\n",
                          "bt", "echo ==\\n", "frame 2", "info locals",
                          "coroutine off",
                          "info coroutines -u"], [mode, 3])
    park = "LINE_RM_PARK_%s" % mode.upper()
    listing = out.split("Total: 4 coroutines")[0]
    for cid in (1, 2, 3):
        assert re.search(r"^  %d  blocked  io .* waiter fx_rm_park at "
                         r"regmodes.c:%d$" % (cid, rm_line(park)),
                         listing, re.M), listing
    assert re.search(r"^  4  runnable .* fresh  rm_trampoline at "
                     r"regmodes.c:\d+$", listing, re.M), listing
    assert '[Switching to coroutine 2 "waiter" (blocked, io)]' in out
    bt = out.split("==\n")[1]
    got = [(int(n), fn, f.split("/")[-1], int(ln))
           for n, fn, f, ln in frames(bt)]
    assert got[:3] == [
        (1, "fx_rm_park", "regmodes.c", rm_line(park)),
        (2, "rm_wait_reply", "regmodes.c", rm_line("LINE_RM_WAIT")),
        (3, "rm_worker", "regmodes.c", rm_line("LINE_RM_WORKER"))], bt
    assert len(got) == 3, bt       # ends at the start function
    assert re.search(r"^ticket = 14$", out, re.M)   # arg 2 * 7
    user = out.split("[Back to thread")[1]
    assert len(re.findall(r"waiter rm_wait_reply at regmodes.c:%d$"
                          % rm_line("LINE_RM_WAIT"), user, re.M)) == 3


@pytest.mark.parametrize("mode", ["block-bad", "frame-bad"])
def test_saved_sp_outside_the_stack_is_a_question_mark(mode):
    out = run_gdb(STOP + ["info coroutines", "coroutine 2",
                          "info coroutines -u", "coroutine 3", "bt 1"],
                  [mode, 3])
    assert "warning: corodbg: 1 entry could not be fully read" in out
    assert re.search(r"^\? 2  blocked  io ", out, re.M)
    assert re.search(r"^coroutine 2: saved sp 0x1000 outside its stack "
                     r"\[0x[0-9a-f]+, 0x[0-9a-f]+\)$", out, re.M), out
    # the other coroutines are still listed and shown
    assert re.search(r"^  3  blocked  io .* rm_wait_reply at regmodes.c",
                     out, re.M)
    assert re.search(r"#1  0x[0-9a-f]+ in fx_rm_park \(\)", out)
