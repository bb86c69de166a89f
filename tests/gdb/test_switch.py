"""coroutine N / bt / locals / apply / leaks / $_coroutine_* (issue 3
sections 4 and 5)."""
import re

from gdbdriver import line_of, listing, run_gdb

STOP = ["break fixture_ready", "run"]


def test_select_bt_locals():
    out = run_gdb(STOP + ["coroutine 2", "bt", "info locals", "up 2",
                          "info locals", "print naps", "print self->arg",
                          "frame 2", "info frame", "down", "coroutine"],
                  ["list", 6])
    assert '[Switching to coroutine 2 "sleeper" (blocked, sleep)]' in out
    bt = out.split("#1  ")
    assert re.search(r"#1  0x[0-9a-f]+ in fx_park \(\) at "
                     r"tests/progs/minirt.c:%d" % line_of("LINE_PARK"), out)
    assert re.search(r"#2  0x[0-9a-f]+ in fx_nap \(ms=200\) at", out)
    assert re.search(r"#3  0x[0-9a-f]+ in sleeper \(self=0x[0-9a-f]+\) at "
                     r"tests/progs/minirt.c:%d"
                     % line_of("LINE_SLEEPER_WAIT"), out)
    assert "#0 " not in out.split("[Switching")[1].split("me = ")[0]
    assert "#4" not in out  # fx_trampoline is below the start function
    assert re.search(r"^me = 0x[0-9a-f]+$", out, re.M)
    assert re.search(r"^naps = 2$", out, re.M)
    assert "$1 = 2" in out and "$2 = 1" in out
    assert "Stack level 2, frame at" in out
    assert "fx_nap (ms=200)" in out
    assert '[Current coroutine is 2 "sleeper" (blocked)]' in out
    assert len(bt) > 1


def test_locals_of_consumer_and_off():
    out = run_gdb(STOP + ["coroutine 4", "frame 3", "info locals",
                          "coroutine off", "bt"], ["list", 6])
    assert re.search(r"^want = 30$", out, re.M)
    assert re.search(r"^got = 0$", out, re.M)
    assert "[Back to thread 1's own stack]" in out
    tail = out.split("[Back to thread")[1]
    assert re.search(r"#0  fixture_ready \(\) at", tail)
    assert re.search(r"#1  0x[0-9a-f]+ in mr_run_mode", tail)


def test_command_in_view_restores():
    out = run_gdb(STOP + ["coroutine 1 bt 1", "frame",
                          "coroutine 5 print $_coroutine_id()"], ["list", 6])
    assert re.search(r"#1  0x[0-9a-f]+ in fx_park \(", out)
    assert re.search(r"#0  fixture_ready \(\) at", out)
    assert "$1 = 5" in out


def test_apply_all_and_state():
    out = run_gdb(STOP + ["coroutine apply all frame 3",
                          "echo ==\\n",
                          "coroutine apply -state runnable print 1",
                          "echo ==\\n",
                          "coroutine apply 1 4 info locals"],
                  ["list", 6])
    allp, runp, ids = out.split("==")
    assert re.search(r'Coroutine 3 "yielder" \(runnable\):\n#3 .* in '
                     r'fx_trampoline \(\)', allp)
    assert re.search(r'Coroutine 6 "yielder" \(runnable\):\nerror: No frame '
                     r'at level 3\.', allp)
    for cid, fn in ((1, "consumer"), (2, "sleeper"),
                    (4, "consumer"), (5, "sleeper")):
        assert re.search(r'Coroutine %d "%s" \([^)]*\):\n#3 .* in %s \('
                         % (cid, fn, fn), allp), cid
    assert 'Coroutine 6 "yielder" (runnable):' in allp
    assert re.findall(r'Coroutine (\d+)', runp) == ["3", "6"]
    assert re.findall(r'Coroutine (\d+)', ids) == ["1", "4"]
    assert len(re.findall(r"^me = 0x[0-9a-f]+$", ids, re.M)) == 2


def test_convenience_functions_and_resume_drops_view():
    out = run_gdb(STOP + ["print $_coroutine_id()",
                          "coroutine 3",
                          "print $_coroutine_id()",
                          "print $_coroutine_state(2)",
                          "print $_coroutine_state(99)",
                          "print $_coroutine_state(\"x\")",
                          "print $_streq($_coroutine_state(1), \"blocked\")",
                          "next",
                          "print $_coroutine_id()",
                          "print $_coroutine_state()"], ["list", 6])
    assert "$1 = 0" in out
    assert "$2 = 3" in out
    assert '$3 = "blocked"' in out
    # an unknown id is an error, like `coroutine 99`; a string is no id
    assert re.search(r"^no coroutine with id 99$", out, re.M)
    assert re.search(r"^\$_coroutine_state: ID must be a coroutine id "
                     r"number$", out, re.M)
    assert "$4 = 1" in out
    assert "$5 = 0" in out  # view dropped when the program resumed
    assert '$6 = "none"' in out  # no argument, no coroutine looked at


def test_leaks():
    out = run_gdb(STOP + ["coroutine leaks", "coroutine leaks -min-age 1h"],
                  ["list", 9])
    assert ("6 blocked coroutines in 2 groups (by creation site and wait "
            "site):") in out
    assert re.search(r"3  blocked on chan receive, oldest \S+  "
                     r"\[ids 1, 4, 7\]", out)
    assert "created at  make_mix at minirt.c:" in out
    assert "waiting at  consumer at minirt.c:%d" % \
        line_of("LINE_CONSUMER_WAIT") in out
    assert "waiting at  sleeper at minirt.c:%d" % \
        line_of("LINE_SLEEPER_WAIT") in out
    assert "No blocked coroutines waiting at least 1h00m." in out \
        or "No blocked coroutines waiting at least" in out


def test_running_coroutine_selects_its_thread():
    out = run_gdb(STOP + ["info coroutines -running", "coroutine 7",
                          "info coroutines 7"], ["threads", 2])
    rows = listing(out)
    assert rows[7][1] == "running" and rows[8][1] == "running"
    assert re.search(r"\[Switching to thread \d+ \(LWP \d+\): coroutine 7 "
                     r'"spinner" \(running\) is on it\]', out)
    last = listing(out.split("is on it]")[1])
    assert last[7][0] == "*"
