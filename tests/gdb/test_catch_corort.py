"""`catch coroutine state` on corort (issue 14 item 6).  corort reports a
switch from the scheduler's stack: the switch in before the coroutine's
registers are loaded, the block after they are saved.  A stop there must
show the coroutine's own stack (its saved registers), never the
scheduler's, and a coroutine created without a context yet is said so."""
import re

import pytest

from gdbdriver import run_gdb

SERVER = "../examples/server"
WAIT_SITES = ("wait_request", "send_response", "idle_timeout", "wait_drain",
              "lock_db")
SCHEDULER = ("run_one", "worker_loop", "corodbg_block", "corodbg__fire")


def stops(out, catchpoint):
    """The text after each 'Catchpoint N (...)' stop line, up to the next."""
    parts = re.split(r"^(Catchpoint %d \(.*\): coroutine .*)$" % catchpoint,
                     out, flags=re.M)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


@pytest.mark.parametrize("workers", [0, 2])
def test_blocked_stop_shows_the_coroutines_stack(workers):
    out = run_gdb(["break main", "run", "catch coroutine state blocked",
                   "continue", "bt 8", "continue", "bt 8"],
                  [5, workers], prog=SERVER)
    got = stops(out, 2)
    assert len(got) == 2, out
    for head, body in got:
        m = re.search(r'coroutine (\d+) "(conn-\d+|acceptor)" running -> '
                      r'blocked', head)
        assert m, head
        assert re.search(r'^\[Switching to coroutine %s "%s" \(blocked, '
                         % (m.group(1), m.group(2)), body, re.M), body
        assert any(" in %s " % f in body for f in WAIT_SITES + ("acceptor",)
                   ), body
        assert not any(" in %s " % f in body for f in SCHEDULER), body


def test_running_stop_shows_the_coroutines_stack():
    # The acceptor runs first (never ran: its stack is the trampoline),
    # yields while spawning, and is switched in again: then its own stack
    # is parked in corort_yield, called from acceptor().
    cmds = ["break main", "run", "catch coroutine state running 1"]
    cmds += ["continue", "bt 8"] * 2
    out = run_gdb(cmds, [3], prog=SERVER)
    got = stops(out, 2)
    assert len(got) == 2, out
    first, again = got[0][1], got[1][1]
    assert '[Switching to coroutine 1 "acceptor" (running)]' in first
    assert "corort__trampoline" in first, first
    assert '[Switching to coroutine 1 "acceptor" (running)]' in again
    assert re.search(r"^#\d+ .* in acceptor \(arg=.*server\.c:\d+$", again,
                     re.M), again
    for body in (first, again):
        assert not any(" in %s " % f in body for f in SCHEDULER), body


def test_runnable_stop_at_spawn_has_no_context_yet():
    out = run_gdb(["catch coroutine state runnable 1", "run", "bt 8"], [3],
                  prog=SERVER)
    assert ('Catchpoint 1 (coroutine state runnable id 1): coroutine 1 '
            '"acceptor" free -> runnable') in out, out
    assert "no saved context" not in out
    assert ("[coroutine 1 has no context yet: this is where it is being "
            "created]") in out
    assert re.search(r"^#\d+ .* in main \(.*server\.c:\d+$", out, re.M), out
