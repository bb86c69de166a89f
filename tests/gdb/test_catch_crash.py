"""catch coroutine panic/state, coroutine break, crash-in-coroutine on a
live stop, a gcore core and a kernel core (issue 3 sections 6 and 7)."""
import re

from gdbdriver import binary, kernel_core, line_of, listing, run_gdb

STOP = ["break fixture_ready", "run"]


def test_catch_panic():
    out = run_gdb(STOP + ["catch coroutine panic", "info breakpoints",
                          "continue", "print $_coroutine_id()",
                          "info locals"], ["panic"])
    assert "Catchpoint 2 (coroutine panic)" in out
    assert re.search(r"^2\s+breakpoint\s+keep y\s+0x[0-9a-f]+ in "
                     r"corodbg_event_hook", out, re.M)
    assert ('Catchpoint 2 (coroutine panic): coroutine 7 "panicker" '
            'panicked: bad request 7') in out
    assert re.search(r"#4  0x[0-9a-f]+ in panicker \(self=0x[0-9a-f]+\) at "
                     r"tests/progs/minirt.c:%d" % line_of("LINE_PANIC"),
                     out)
    assert "$1 = 7" in out
    assert re.search(r"^code = 7$", out, re.M)


def test_catch_state_filter_delete_disable():
    out = run_gdb(STOP + [
        "catch coroutine state dead",
        "catch coroutine state blocked churn*",
        "catch coroutine state blocked 99",
        "print/x corodbg_table.filter_state_mask",
        "print corodbg_table.filter_flags",
        "continue",
        "print $_coroutine_id()",
        "delete 3",
        "continue",
        "print $_coroutine_id()",
        "disable 2",
        "print/x corodbg_table.filter_state_mask",
        "continue",
        "print corodbg_table.filtered",
        "print corodbg_table.hook_calls",
    ], ["churn", 3])
    assert "Catchpoint 2 (coroutine state dead)" in out
    assert "Catchpoint 3 (coroutine state blocked name churn*)" in out
    assert "Catchpoint 4 (coroutine state blocked id 99)" in out
    assert "$1 = 0x18" in out          # blocked (3) | dead (4)
    assert "$2 = 1" in out             # ARMED
    assert ('Catchpoint 3 (coroutine state blocked name churn*): coroutine 7 '
            '"churner" runnable -> blocked') in out or \
        'coroutine 7 "churner" running -> blocked' in out
    assert "$3 = 7" in out
    assert re.search(r'Catchpoint 2 \(coroutine state dead\): coroutine 7 '
                     r'"churner" \w+ -> dead', out)
    # stopped in its exit, the dead coroutine is still the thread's
    assert "$4 = 7" in out
    assert "$5 = 0x8" in out           # only catchpoint 4 (blocked, id 99)
    # the never-matching catchpoint 4 never stopped: the program finished
    assert "exited normally" in out or "Breakpoint 1, fixture_ready" in out
    assert "Catchpoint 4 (coroutine state blocked id 99):" not in out


def test_coroutine_break():
    out = run_gdb(["coroutine break fx_park if-name sleep*",
                   "info breakpoints", "run", "print $_coroutine_id()",
                   "bt 3", "continue", "print $_coroutine_id()",
                   "coroutine break yielder if-id 6",
                   "coroutine break consumer if-state running,blocked"],
                  ["list", 6], pre=())
    assert "Breakpoint 1 only in coroutines with name sleep*" in out
    assert re.findall(r"^\$\d+ = (\d+)$", out, re.M) == ["2", "5"]
    assert re.search(r"#2  0x[0-9a-f]+ in sleeper", out)
    assert "Breakpoint 2 only in coroutines with id 6" in out
    assert "Breakpoint 3 only in coroutines with state running, blocked" \
        in out or "Breakpoint 3 only in coroutines with state " in out


def test_crash_live_and_gcore(tmp_path):
    core = tmp_path / "gcore.core"
    out = run_gdb(["run", "info coroutines 7", "gcore %s" % core,
                   "coroutine 3", "coroutine crashed", "bt 2"], ["crash"])
    assert ('[corodbg] Coroutine 7 "crasher" crashed: SIGSEGV, fault '
            'address 0x0.') in out
    assert listing(out)[7][:2] == ("*", "running")
    assert ('Coroutine 7 "crasher" crashed: SIGSEGV, fault address 0x0'
            in out)
    assert re.search(r"#0  0x[0-9a-f]+ in crasher \(self=0x[0-9a-f]+\) at "
                     r"tests/progs/minirt.c:%d" % line_of("LINE_CRASH"),
                     out)
    assert core.exists()
    out = run_gdb(["core-file %s" % core, "info coroutines",
                   "coroutine 1", "bt", "frame 3", "info locals",
                   "coroutine crashed"], target=[str(binary())])
    _check_core_listing(out, crashed_state="running")


def test_abort_has_no_fault_address(tmp_path):
    # abort() is a sent signal: si_addr's bytes hold the sender's pid, not
    # an address.  Both stops (the abort, and the one libcorodbg's crash
    # handler re-sends with the same siginfo) and the kernel core say
    # SIGABRT with no address.
    out = run_gdb(["run", "coroutine crashed", "continue",
                   "coroutine crashed"], ["abort"])
    said = re.findall(r'^\[corodbg\] (Coroutine 7 "aborter" crashed: .*)$',
                      out, re.M)
    assert said == ['Coroutine 7 "aborter" crashed: SIGABRT.  `coroutine '
                    'crashed` selects it.'] * 2, out
    assert "fault address" not in out
    assert re.search(r"^Coroutine 7 \"aborter\" crashed: SIGABRT$", out,
                     re.M), out
    core = kernel_core(tmp_path, ["abort"])
    out = run_gdb(["core-file %s" % core, "coroutine crashed"],
                  target=[str(binary())])
    assert ('[corodbg] Coroutine 7 "aborter" crashed: SIGABRT.  `coroutine '
            'crashed` selects it.') in out, out
    assert "fault address" not in out


def _check_core_listing(out, crashed_state):
    assert ('[corodbg] Coroutine 7 "crasher" crashed: SIGSEGV, fault '
            'address 0x0.  `coroutine crashed` selects it.') in out
    rows = listing(out)
    assert sorted(rows) == [1, 2, 3, 4, 5, 6, 7]
    assert rows[7][1] == crashed_state and rows[7][0] == "*"
    assert rows[1][1] == "blocked" and rows[3][1] == "runnable"
    assert re.search(r"#3  0x[0-9a-f]+ in consumer \(self=0x[0-9a-f]+\) at "
                     r"tests/progs/minirt.c:%d"
                     % line_of("LINE_CONSUMER_WAIT"), out)
    assert re.search(r"^want = 0$", out, re.M)
    assert re.search(r"#0  0x[0-9a-f]+ in crasher .*minirt.c:%d"
                     % line_of("LINE_CRASH"), out)


def test_kernel_core(tmp_path):
    core = kernel_core(tmp_path, ["crash"])
    out = run_gdb(["core-file %s" % core, "info coroutines",
                   "coroutine 1", "bt", "frame 3", "info locals",
                   "coroutine crashed"], target=[str(binary())])
    _check_core_listing(out, crashed_state="crashed")
