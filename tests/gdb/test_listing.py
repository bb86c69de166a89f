"""info coroutines on a live process: columns, filters, kinds, grouping,
stacks, errors (issue 3 section 3)."""
import os
import re

from gdbdriver import gdb_version, line_of, listing, run_gdb

STOP = ["break fixture_ready", "run"]


def test_listing_live():
    out = run_gdb(STOP + ["info coroutines"], ["list", 6])
    rows = listing(out)
    assert sorted(rows) == [1, 2, 3, 4, 5, 6]
    assert rows[1][1] == "blocked" and rows[1][2].startswith("chan receive")
    assert rows[2][1] == "blocked" and rows[2][2].startswith("sleep")
    assert rows[3][1] == "runnable"
    assert "consumer fx_park at minirt.c:%d" % line_of("LINE_PARK") in out
    assert re.search(r"6  runnable\s+\S+ms yielder  fx_trampoline at "
                     r"fixture.c:\d+", out)
    assert "Total: 6 coroutines (2 runnable, 4 blocked)." in out


def test_location_kinds_and_filters():
    out = run_gdb(STOP + ["info coroutines -u -state blocked",
                          "echo ==\\n",
                          "info coroutines -g -name sleep*",
                          "echo ==\\n",
                          "info coroutines -s 3",
                          "echo ==\\n",
                          "info coroutines -loc consumer.c",
                          "info coroutines -wait sleep -limit 1"],
                  ["list", 6])
    parts = out.split("==")
    assert "consumer at minirt.c:%d" % line_of("LINE_CONSUMER_WAIT") \
        in parts[0]
    assert "sleeper  sleeper at minirt.c:%d" % line_of("LINE_SLEEPER_WAIT") \
        in parts[0]
    assert "Shown 4 of 6 coroutines" in parts[0]
    assert sorted(listing(parts[1])) == [2, 5]
    assert "make_mix at minirt.c:" in parts[1]
    assert sorted(listing(parts[2])) == [3]
    m = re.search(r"yielder +yielder at minirt.c:(\d+)", parts[2])
    assert line_of("LINE_YIELDER_PARK") - 4 < int(m.group(1)) < \
        line_of("LINE_YIELDER_PARK")
    assert "No coroutines match." in parts[3]
    assert sorted(listing(parts[3].split("Shown 0")[1])) == [2]


def test_grouping():
    out = run_gdb(STOP + ["info coroutines -group user",
                          "info coroutines -group state"], ["list", 9])
    assert re.search(r"3  consumer at minirt.c:%d  \[1, 4, 7\]"
                     % line_of("LINE_CONSUMER_WAIT"), out)
    assert re.search(r"3  sleeper at minirt.c:%d  \[2, 5, 8\]"
                     % line_of("LINE_SLEEPER_WAIT"), out)
    assert re.search(r"6  blocked  \[1, 2, 4, 5, 7, \.\.\.\]", out)
    assert re.search(r"3  runnable  \[3, 6, 9\]", out)


def test_stacks():
    out = run_gdb(STOP + ["info coroutines -t 4 1 2"], ["list", 6])
    assert "#1   fx_park at minirt.c:%d" % line_of("LINE_PARK") in out
    assert "#2   fx_chan_recv at minirt.c:%d" % line_of("LINE_RECV_PARK") in out
    assert "#3   consumer at minirt.c:%d" % line_of("LINE_CONSUMER_WAIT") \
        in out
    assert "#3   sleeper at minirt.c:%d" % line_of("LINE_SLEEPER_WAIT") \
        in out
    assert "Shown 2 of 6" in out


def test_errors_are_one_line():
    out = run_gdb(STOP + ["info coroutines 99", "info coroutines -bogus",
                          "info coroutines -state sleepy",
                          "coroutine 77", "coroutine abc",
                          "coroutine apply", "coroutine leaks -x",
                          "info coroutines -wait chan",
                          "info coroutines -state r",
                          "info coroutines -limit -5",
                          "info coroutines 1"], ["list", 6])
    assert re.search(r"^ambiguous wait reason 'chan': chan receive, "
                     r"chan send$", out, re.M)
    assert re.search(r"^ambiguous state 'r': runnable, running$", out, re.M)
    assert re.search(r"^-limit needs a number >= 1$", out, re.M)
    assert "no coroutine with id 99" in out
    assert "unknown option -bogus" in out
    assert "unknown state 'sleepy'" in out
    assert "no coroutine with id 77" in out
    assert "bad coroutine id 'abc'" in out
    assert "Usage: coroutine apply all|ID...|-state S COMMAND" in out
    assert "Usage: coroutine leaks [-min-age DURATION]" in out
    assert sorted(listing(out)) == [1]  # gdb went on after each error


def test_missing_ids_are_one_warning_and_apply_options():
    out = run_gdb(STOP + ["info coroutines 5-9", "info coroutines 20-30",
                          "coroutine apply 4-8 print 1",
                          "coroutine apply all -q bt 1",
                          "coroutine apply 1 -- print 2"], ["list", 6])
    # like `info threads` / `thread apply`: the ids that exist, then one
    # warning naming the missing ones; an error only when none exist
    assert sorted(listing(out)) == [5, 6]
    assert re.search(r"^Shown 2 of 6 coroutines .*\nwarning: no coroutines "
                     r"with ids 7-9$", out, re.M)
    assert re.search(r"^no coroutines with ids 20-30$", out, re.M)
    assert re.findall(r"^Coroutine (\d+) ", out, re.M) == ["4", "5", "6",
                                                           "1"]
    assert re.search(r"^\$3 = 1\nwarning: no coroutines with ids 7-8$", out,
                     re.M)
    # -q is refused once, not run as a command in every coroutine
    assert out.count("unknown option -q") == 1
    assert re.search(r"^coroutine apply: unknown option -q \(Usage: "
                     r"coroutine apply all\|ID\.\.\.\|-state S COMMAND\)$",
                     out, re.M)
    assert "$4 = 2" in out


def test_not_running_and_no_table():
    out = run_gdb(["info coroutines"], ["list", 6])
    assert "The program is not being run" in out
    out = run_gdb(["starti", "info coroutines"], target=["/bin/true"])
    assert "No coroutine table in this program" in out


def test_core_without_executable(tmp_path):
    core = tmp_path / "c.core"
    run_gdb(STOP + ["gcore %s" % core], ["list", 6])
    out = run_gdb(["core-file %s" % core, "info coroutines"], target=[])
    if gdb_version() >= (16, 0):
        # GDB 16 loads the executable the core names by itself
        assert "Total: 6 coroutines (2 runnable, 4 blocked)." in out, out
        return
    assert re.search(r"^no executable loaded: use `file PROGRAM` \(the table "
                     r"is found through the program's symbols or its "
                     r"\.corodbg section\)$", out, re.M)


def test_break_and_catch_usage():
    usage = ("Usage: coroutine break LOCATION [if-id N] [if-name GLOB] "
             "[if-state S[,S]]")
    out = run_gdb(["coroutine break if-id", "coroutine break",
                   "coroutine break main if-id 2", "catch coroutine",
                   "catch coroutine foo", "info breakpoints"],
                  target=["/bin/true"])
    assert out.count(usage + "\n") == 2
    assert "Breakpoint 1 only in coroutines with id 2\n" in out
    # /bin/true has no table and does not link libcorodbg: said once
    assert out.count("warning: corodbg: this program has no coroutine "
                     "table: breakpoint 1 will never stop\n") == 1
    catch_usage = ("Usage: catch coroutine panic | catch coroutine state "
                   "STATE [ID|NAME-GLOB]")
    assert re.search(r"^%s$" % re.escape(catch_usage), out, re.M)
    assert re.search(r"^unknown coroutine event 'foo' \(panic or state\)\. "
                     + re.escape(catch_usage) + "$", out, re.M)
    # a program with the table (or linking libcorodbg.so) gets no warning
    for prog in ("fixture", "fixture-shared", "fixture-stripped"):
        out = run_gdb(["coroutine break fixture_ready if-id 2"], prog=prog)
        assert "Breakpoint 1 only in coroutines with id 2" in out, prog
        assert "no coroutine table" not in out, prog


def test_loading_prints_nothing():
    out = run_gdb(["echo done\\n"], ["list", 1])
    assert out.strip() == "done"
    # auto-loaded through libcorodbg's .debug_gdb_scripts record
    out = run_gdb(["break fixture_ready", "run", "info coroutines 1"],
                  ["list", 1], source=False)
    assert "Total: 1 coroutine (1 runnable)." in out or \
        "Shown 1 of 1" in out or "1 coroutine" in out, out


def test_pipe_and_pagination():
    out = run_gdb(STOP + ["pipe info coroutines | grep -c consumer"],
                  ["list", 6])
    assert re.search(r"^2$", out, re.M)


def test_fast_stacks_match_gdb():
    """Past the first two coroutines per path, -t walks stacks by learned
    frame sizes; every one must match what GDB's unwinder says."""
    out = run_gdb(STOP + ["info coroutines -t 6 -state blocked",
                          "coroutine apply -state blocked bt"],
                  ["list", 30])
    fast = {}
    cur = None
    for line in out.split("Shown")[0].splitlines():
        m = re.match(r"^[ *?] (\d+) ", line)
        if m:
            cur = int(m.group(1))
            fast[cur] = []
        m = re.match(r"^\s+#(\d+)\s+(\S+) at (\S+)$", line)
        if m and cur:
            fast[cur].append((int(m.group(1)), m.group(2), m.group(3)))
    real = {}
    for block in out.split("\nCoroutine ")[1:]:
        cid = int(block.split()[0])
        real[cid] = [(int(n), fn, os.path.basename(f))
                     for n, fn, f in re.findall(
                         r"^#(\d+)\s+0x[0-9a-f]+ in (\w+) \(.*\) at (\S+)$",
                         block, re.M)]
    assert len(fast) == 20 and sorted(fast) == sorted(real)
    for cid in fast:
        assert fast[cid] == real[cid], cid
        assert len(fast[cid]) == 3
