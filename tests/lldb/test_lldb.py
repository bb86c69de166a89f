"""corodbg in LLDB 19, batch mode: the `coroutine` commands and the
OperatingSystem plugin on a live process, core files (kernel and gcore),
a stripped binary and corrupt tables.  The program is
tests/lldb/progs/lldbprog.c; its LINE_* markers give the expected lines."""
import pathlib
import re
import subprocess
import sys

import pytest

from lldbutil import lldb_env, LLDB

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent /
                       "stacks"))
import stackmatrix  # noqa: E402 (the `-t` listing's parser)

CORO = 1 << 32
BREAK = ["b example_checkpoint"]
RUNTIME = "coroutine config runtime-functions 'fx_*,lp_*'"
SIX = [  # id, name, state, wait
    (1, "consumer", "blocked", "chan receive"),
    (2, "sleeper", "blocked", "sleep"),
    (3, "yielder", "runnable", ""),
    (4, "consumer", "blocked", "chan receive"),
    (5, "sleeper", "blocked", "sleep"),
    (6, "yielder", "runnable", ""),
]


def rows(listing):
    """Parse `coroutine list` rows -> {id: (mark, state, wait, name, loc)}."""
    out = {}
    for line in listing.splitlines():
        m = re.match(r"^([ *?]) (\d+)\s+(\S+)\s+(.*)$", line)
        if not m:
            continue
        out[int(m.group(2))] = (m.group(1), m.group(3), line)
    return out


def thread_names(text):
    """`thread list` -> {tid: name}."""
    return {int(m.group(1)): m.group(2) for m in re.finditer(
        r"tid = (\d+), .*?name = '([^']*)'", text)}


def expect_six_threads(text):
    names = thread_names(text)
    for cid, name, state, wait in SIX:
        st = "%s: %s" % (state, wait) if wait else state
        assert names[CORO + cid] == "coro %d %s [%s]" % (cid, name, st)
    return names


def test_live_list_threads_stacks_locals(run_lldb, prog, lines):
    t = run_lldb(["file %s" % prog] + BREAK + [
        "run list 6", "thread list", "coroutine list", "coroutine list -g",
        "coroutine list -s -state blocked", RUNTIME, "coroutine list -u",
        "thread select 5", "bt", "frame select 2", "frame variable",
        "thread select 3", "frame select 2", "frame variable",
        "register read rip rsp", "coroutine list -t 3 1"])
    expect_six_threads(t["thread list"])
    main_tid = [k for k in thread_names(t["thread list"]) if k < CORO]
    assert len(main_tid) == 1
    listing = t["coroutine list"]
    park = "fx_park at minirt.c:%d" % lines["LINE_PARK"]
    expected = [
        "  1  blocked  chan receive", "  2  blocked  sleep",
        "  3  runnable", "  4  blocked  chan receive",
        "  5  blocked  sleep", "  6  runnable"]
    got = [l for l in listing.splitlines() if re.match(r"^. \d", l)]
    assert len(got) == 6
    for line, want, (cid, name, _, _) in zip(got, expected, SIX):
        assert line.startswith(want), line
        assert " %s " % name in line
        loc = park if cid != 6 else "lp_trampoline"
        assert line.endswith(loc), line
    assert listing.splitlines()[-1] == \
        "Total: 6 coroutines (2 runnable, 4 blocked)."
    # -g: creation sites, one per worker kind.
    spawn = {"consumer": lines["LINE_SPAWN_C"], "sleeper": lines["LINE_SPAWN_S"],
             "yielder": lines["LINE_SPAWN_Y"]}
    for line in t["coroutine list -g"].splitlines():
        for name, ln in spawn.items():
            if " %s " % name in line:
                assert line.endswith("make_mix at minirt.c:%d" % ln), line
    # -s with a state filter.
    s = t["coroutine list -s -state blocked"]
    assert sorted(rows(s)) == [1, 2, 4, 5]
    assert "consumer at minirt.c:" in s and "sleeper at minirt.c:" in s
    assert s.splitlines()[-1] == \
        "Shown 4 of 6 coroutines (2 runnable, 4 blocked)."
    # -u: the first frame outside the runtime functions.
    u = rows(t["coroutine list -u"])
    assert u[1][2].endswith("consumer at minirt.c:%d"
                            % lines["LINE_CONSUMER_WAIT"])
    assert u[5][2].endswith("sleeper at minirt.c:%d"
                            % lines["LINE_SLEEPER_WAIT"])
    assert u[3][2].endswith("yielder at minirt.c:%d"
                            % lines["LINE_YIELDER_PARK"])
    # Coroutine 4's thread (#5): its stack and locals.
    bt = t["bt"]
    assert "name = 'coro 4 consumer [blocked: chan receive]'" in bt
    frames = dict(re.findall(r"^ +\*? *frame #(\d+): 0x[0-9a-f]+ "
                             r"lldbprog`(\w+)", bt, re.M))
    assert [frames[str(i)] for i in range(len(frames))] == [
        "fx_park", "fx_chan_recv", "consumer", "lp_start", "lp_trampoline"]
    assert "consumer(self=0x" in bt and \
        "minirt.c:%d" % lines["LINE_CONSUMER_WAIT"] in bt
    fv = t.all("frame variable")
    assert "(long) want = 30" in fv[0] and "(int) got = 0" in fv[0]
    assert "(long) naps = 2" in fv[1]     # sleeper 2: arg 1 + 1
    regs = t["register read rip rsp"]
    assert re.search(r"rip = 0x[0-9a-f]+\s+lldbprog`sleeper", regs), regs
    stk = t["coroutine list -t 3 1"]
    assert "#0   fx_park at minirt.c:%d" % lines["LINE_PARK"] in stk
    assert "#1   fx_chan_recv at minirt.c:%d" % lines["LINE_RECV_PARK"] in stk
    assert "#2   consumer at minirt.c:%d" % lines["LINE_CONSUMER_WAIT"] \
        in stk


def test_filters_grouping_select_apply_leaks(run_lldb, prog, lines):
    t = run_lldb(["file %s" % prog] + BREAK + [
        "run list 12", RUNTIME,
        "coroutine list -name sl* -limit 2", "coroutine list 3 7-8",
        "coroutine list -wait 'chan receive'", "coroutine list -group user",
        "coroutine list -group state", "coroutine list -loc sleeper -u",
        "coroutine select 7", "bt 3", "coroutine select",
        "coroutine apply 1 4 bt 3",
        "coroutine apply -state runnable bt 1", "coroutine leaks",
        "coroutine leaks -min-age 1h", "coroutine list 11-14",
        "coroutine apply 12-14 bt 1"])
    assert sorted(rows(t["coroutine list -name sl* -limit 2"])) == [2, 5]
    # missing ids: the ones that exist, then one warning line
    lm = t["coroutine list 11-14"]
    assert sorted(rows(lm)) == [11, 12]
    assert lm.endswith("\nwarning: no coroutines with ids 13-14")
    am = t["coroutine apply 12-14 bt 1"]
    assert re.findall(r"^Coroutine (\d+) ", am, re.M) == ["12"]
    assert am.endswith("\nwarning: no coroutines with ids 13-14")
    assert sorted(rows(t["coroutine list 3 7-8"])) == [3, 7, 8]
    assert sorted(rows(t["coroutine list -wait 'chan receive'"])) == [1, 4, 7, 10]
    g = t["coroutine list -group user"].splitlines()
    assert g[0] == "Grouped by user:"
    assert re.match(r"^\s+4  consumer at minirt.c:%d  \[1, 4, 7, 10\]$"
                    % lines["LINE_CONSUMER_WAIT"], g[1]), g
    assert re.match(r"^\s+4  sleeper at minirt.c:%d  \[2, 5, 8, 11\]$"
                    % lines["LINE_SLEEPER_WAIT"], g[2]), g
    gs = t["coroutine list -group state"]
    assert re.search(r"^\s+8  blocked  \[1, 2, 4, 5, 7, \.\.\.\]$", gs, re.M)
    assert re.search(r"^\s+4  runnable  \[3, 6, 9, 12\]$", gs, re.M)
    assert sorted(rows(t["coroutine list -loc sleeper -u"])) == [2, 5, 8, 11]
    sel = t["coroutine select 7"]
    assert sel.startswith('[Switching to thread ')
    assert "(tid %d): Coroutine 7 \"consumer\" is blocked (chan receive)]" \
        % (CORO + 7) in sel
    assert "name = 'coro 7 consumer [blocked: chan receive]'" in t["bt 3"]
    assert t["coroutine select"].strip() == \
        'Coroutine 7 "consumer" is blocked (chan receive).'
    ap = t["coroutine apply 1 4 bt 3"].split("\nCoroutine ")
    assert ap[0].strip() == ""
    assert ap[1].startswith('1 "consumer" (blocked, chan receive):\n'
                            "* thread #2, name = 'coro 1 consumer")
    assert ap[2].startswith('4 "consumer" (blocked, chan receive):\n'
                            "* thread #5, name = 'coro 4 consumer")
    for part in ap[1:]:
        assert "consumer(self=0x" in part and "minirt.c:%d" \
            % lines["LINE_CONSUMER_WAIT"] in part
    ar = t["coroutine apply -state runnable bt 1"]
    assert ar.count("Coroutine ") == 4 and "coro 12 yielder [runnable]" in ar
    lk = t["coroutine leaks"]
    assert lk.splitlines()[0] == "8 blocked coroutines in 2 groups (by " \
        "creation site and wait site):"
    assert "created at  make_mix at minirt.c:%d" % lines["LINE_SPAWN_C"] \
        in lk
    assert "waiting at  consumer at minirt.c:%d" \
        % lines["LINE_CONSUMER_WAIT"] in lk
    assert "[ids 1, 4, 7, 10]" in lk
    assert t["coroutine leaks -min-age 1h"].strip() == \
        "No blocked coroutines waiting at least 1h00m."


def test_usage_errors_are_one_line(run_lldb, prog):
    cmds = ["coroutine list -bogus", "coroutine list -state nosuch",
            "coroutine select 99", "coroutine select x",
            "coroutine apply", "coroutine leaks -min-age", "coroutine catch",
            "coroutine config max-threads 0", "coroutine list 'unterminated",
            "coroutine list -limit -5", "coroutine list -wait chan",
            "coroutine apply all -q bt 1", "coroutine list 20-30"]
    # -b stops at the first error: one LLDB per bad command would be slow,
    # so run them through `script` which reports each result.
    script = ("script import lldb; ci = lldb.debugger.GetCommandInterpreter()"
              "; [print('RESULT', c, '|', (lambda r: (ci.HandleCommand(c, r),"
              " r.GetError().strip())[1])(lldb.SBCommandReturnObject())) "
              "for c in %r]" % cmds)
    t = run_lldb(["file %s" % prog] + BREAK + ["run list 6", script])
    res = dict(re.findall(r"^RESULT (.*?) \| (.*)$", t.text, re.M))
    assert res["coroutine list -bogus"].startswith(
        "error: unknown option -bogus (options:")
    assert res["coroutine list -state nosuch"] == \
        "error: unknown state 'nosuch' (one of: runnable, running, " \
        "blocked, dead, panicked, crashed)"
    assert res["coroutine select 99"] == "error: no coroutine with id 99"
    assert res["coroutine select x"] == \
        "error: bad coroutine id 'x' (expected a number)"
    assert res["coroutine apply"].startswith("error: Usage: coroutine apply")
    assert res["coroutine leaks -min-age"] == \
        "error: -min-age needs a duration"
    assert res["coroutine catch"].startswith("error: Usage: coroutine catch")
    assert res["coroutine config max-threads 0"] == \
        "error: max-threads needs a number >= 1"
    assert res["coroutine list 'unterminated"] == \
        "error: bad arguments: No closing quotation"
    assert res["coroutine list -limit -5"] == \
        "error: -limit needs a number >= 1"
    assert res["coroutine list -wait chan"] == \
        "error: ambiguous wait reason 'chan': chan receive, chan send"
    assert res["coroutine apply all -q bt 1"] == \
        "error: coroutine apply: unknown option -q (Usage: coroutine apply " \
        "all|ID...|-state S COMMAND)"
    assert res["coroutine list 20-30"] == \
        "error: no coroutines with ids 20-30"
    for v in res.values():
        assert "\n" not in v


def test_no_process_and_no_table(run_lldb, prog):
    t = run_lldb(["coroutine list"])
    assert "error: No stopped process (use process launch, process attach " \
        "or target create --core first)." in t["coroutine list"]
    t = run_lldb(["file /bin/true", "b exit", "run", "coroutine list"])
    assert "error: No coroutine table in this program (symbol corodbg_table" \
        in t["coroutine list"]
    assert t.rc != 0 and "Traceback" not in t.text


def test_help_on_every_command(run_lldb):
    t = run_lldb(["help coroutine"] + ["help coroutine %s" % c for c in
                                        ("list", "select", "apply", "leaks",
                                         "catch", "config")])
    top = t["help coroutine"]
    for c in ("list", "select", "apply", "leaks", "catch", "config"):
        assert re.search(r"^\s+%s\s+-- \S" % c, top, re.M), top
        h = t["help coroutine %s" % c]
        assert "Usage: coroutine %s" % c in h, h


def test_catch_panic_and_state(run_lldb, prog, lines):
    t = run_lldb(["file %s" % prog, "coroutine catch panic", "run panic",
                  "thread list", "bt 4", "coroutine catch info",
                  "process kill", "run panic"])
    # A new process of the target is armed again at its entry point.
    assert len(re.findall(r'^corodbg: Coroutine 7 "panicker" panicked: '
                          r'bad request 7$', t.text, re.M)) == 2, t.text
    assert t["coroutine catch panic"].strip() == \
        "Catching panic: the filter will be armed when the program starts."
    run = t["run panic"]
    assert 'corodbg: Coroutine 7 "panicker" panicked: bad request 7' in run
    names = thread_names(t["thread list"])
    main = [n for k, n in names.items() if k < CORO]
    assert len(main) == 1 and re.fullmatch(
        r"coro 7 panicker \[panicked: bad request 7\] on thread \d+", main[0])
    assert CORO + 7 not in names      # it is on the OS thread, not parked
    assert "stop reason = corodbg: Coroutine 7 \"panicker\" panicked: " \
        "bad request 7" in t["thread list"]
    assert "panicker(self=0x" in t["bt 4"] and \
        "minirt.c:%d" % lines["LINE_PANIC"] in t["bt 4"]
    info = t["coroutine catch info"]
    assert "filter_flags 0x2" in info and "hook called 1 times" in info
    # A state catch armed at a live stop, for one coroutine only.
    t = run_lldb(["file %s" % prog] + BREAK + [
        "run states", "coroutine catch state running -id 2", "c",
        "thread list", "coroutine catch info", "coroutine catch off", "c"])
    assert "Catching state running of coroutine 2 (filter armed" in \
        t["coroutine catch state running -id 2"]
    assert 'corodbg: coroutine 2 "sleeper" runnable -> running' in t["c"]
    names = thread_names(t["thread list"])
    assert any(re.fullmatch(r"coro 2 sleeper \[running\] on thread \d+", n)
               for n in names.values()), names
    assert "filter_state_mask" not in t["coroutine catch info"]
    assert "state mask 0x4, id 2" in t["coroutine catch info"]
    assert t["coroutine catch off"].strip() == \
        "Not catching anything; filter disarmed."
    # After `off` the program runs to the next checkpoint, no event stop.
    last = t.all("c")[1]
    assert "example_checkpoint" in last and "corodbg:" not in last


def test_kernel_core_abort_has_no_fault_address(run_lldb, prog, abort_core):
    # abort() is a sent signal: the recorded crash has no fault address
    # to show (the old text said "fault address 0x0").
    t = run_lldb(["target create %s --core %s" % (prog, abort_core),
                  "thread list", "coroutine select 7"])
    names = thread_names(t["thread list"])
    crashed = [n for n in names.values() if n.startswith("coro 7 ")]
    assert len(crashed) == 1 and re.fullmatch(
        r"coro 7 aborter \[crashed: SIGABRT\] on thread \d+", crashed[0]), \
        crashed
    assert ('coroutine 7 "aborter" crashed: SIGABRT]'.lower()
            in t["coroutine select 7"].lower()), t["coroutine select 7"]


def test_kernel_core_crash(run_lldb, prog, kernel_core, lines):
    t = run_lldb(["target create %s --core %s" % (prog, kernel_core),
                  "thread list", "bt 3", "coroutine list", "thread select 4",
                  "bt", "frame select 1", "frame variable"])
    names = expect_six_threads(t["thread list"])
    crashed = [n for k, n in names.items() if k < CORO]
    assert len(crashed) == 1 and re.fullmatch(
        r"coro 7 crasher \[crashed: SIGSEGV, fault address 0x0\] on "
        r"thread \d+", crashed[0]), crashed
    assert "stop reason = signal SIGSEGV" in t["thread list"]
    assert "crasher(self=0x" in t["bt 3"] and \
        "minirt.c:%d" % lines["LINE_CRASH"] in t["bt 3"]
    listing = t["coroutine list"]
    assert re.search(r"^\* 7\s+crashed\s+\S+\s+crasher\s+crasher at "
                     r"minirt.c:%d$" % lines["LINE_CRASH"], listing, re.M), \
        listing
    assert listing.splitlines()[-1] == \
        "Total: 7 coroutines (2 runnable, 4 blocked, 1 crashed)."
    assert "name = 'coro 3 yielder [runnable]'" in t["bt"]
    assert "yielder(self=0x" in t["bt"]
    assert "(volatile long) spins = 2" in t["frame variable"], t.text


def test_gcore_with_running_coroutines(run_lldb, prog, gcore, lines):
    t = run_lldb(["target create %s --core %s" % (prog, gcore),
                  "thread list", "coroutine list -running",
                  "thread select 5", "bt 3"])
    names = expect_six_threads(t["thread list"])
    real = sorted(n for k, n in names.items() if k < CORO)
    assert len(real) == 3 and "lldbprog" in real, real
    assert any(re.fullmatch(r"coro 7 spinner \[running\] on thread \d+", n)
               for n in real), real
    assert any(re.fullmatch(r"coro 8 spinner \[running\] on thread \d+", n)
               for n in real), real
    # The thread named after coroutine N really is the one in its entry.
    for k, n in names.items():
        m = re.search(r"on thread (\d+)$", n)
        if m:
            assert int(m.group(1)) == k
    assert sorted(rows(t["coroutine list -running"])) == [7, 8]
    assert "sleeper(self=0x" in t["bt 3"] or "fx_nap(ms=" in t["bt 3"]
    # a catch on a core: one error line, no breakpoint warnings first
    t = run_lldb(["target create %s --core %s" % (prog, gcore),
                  "coroutine catch off", "coroutine catch panic"])
    assert t["coroutine catch off"].strip() == "Not catching anything."
    assert t["coroutine catch panic"].strip() == \
        "error: cannot catch events in a core file"


def test_stripped_binary_live_and_core(run_lldb, stripped, kernel_core):
    # No symbols but .dynsym's corodbg_table and corodbg_event_hook: catch
    # the crash event (the crash handler fires it before the default
    # action), with SIGSEGV passed to the program.
    t = run_lldb(["file %s" % stripped, "coroutine catch crash",
                  "process handle SIGSEGV -s false -p true -n false",
                  "run crash", "thread list", "coroutine list -s"])
    assert 'corodbg: Coroutine 7 "crasher" crashed: SIGSEGV, fault ' \
        'address 0x0' in t.text
    names = expect_six_threads(t["thread list"])
    assert any(n.startswith("coro 7 crasher [crashed: SIGSEGV")
               for n in names.values())
    listing = t["coroutine list -s"]
    assert listing.splitlines()[-1] == \
        "Total: 7 coroutines (2 runnable, 4 blocked, 1 crashed)."
    # A stripped binary has no function names for static functions.
    assert re.search(r"^  1  blocked\s+chan receive\s+\S+\s+consumer\s+0x",
                     listing, re.M), listing
    t = run_lldb(["target create %s --core %s" % (stripped, kernel_core),
                  "coroutine list"])
    assert t["coroutine list"].splitlines()[-1] == \
        "Total: 7 coroutines (2 runnable, 4 blocked, 1 crashed)."


def test_thread_cap(run_lldb, prog):
    t = run_lldb(["coroutine config max-threads 5", "file %s" % prog]
                 + BREAK + ["run list 30", "thread list", "coroutine list",
                            "coroutine select 2", "thread list"])
    first = thread_names(t.all("thread list")[0])
    coros = sorted(k - CORO for k in first if k > CORO)
    # The most recently active: the last ones created (the newest ids).
    assert len(coros) == 5 and coros == [26, 27, 28, 29, 30]
    assert first[CORO + 30].endswith("(+25 more: see coroutine list)")
    assert "note: 25 more coroutine threads not shown (max-threads 5): " \
        "coroutine list shows all; coroutine select ID shows one" in \
        t["coroutine list"]
    assert "warning: corodbg: 25 more coroutine threads not shown" in t.text
    assert "(tid %d): Coroutine 2 \"sleeper\"" % (CORO + 2) in \
        t["coroutine select 2"]


@pytest.mark.parametrize("kind,expect", [
    ("magic", "error: bad magic 7f584f524f444247: not a corodbg table"),
    ("major", "error: table ABI version 99.1 is not supported (this "
              "corodbg reads major 1): upgrade corodbg"),
    ("count", "warning: corodbg: nchunks 4294967295 exceeds the table "
              "maximum"),
    ("unmapped", "warning: corodbg: chunk directory at 0xdead0000 (1 "
                 "chunks) is unreadable: no entries read"),
    ("chunkptr", "warning: corodbg: chunk 0 at 0xbad00000 is unreadable"),
    ("cycle", "warning: corodbg: chunk 1 repeats chunk 0 at"),
    ("strings", "warning: corodbg: descriptor string runtime_name is not "
                "NUL-terminated"),
    ("midupdate", "warning: corodbg: the table was being updated when the "
                  "program stopped"),
    ("panicmsg", "coro 3 yielder [panicked: (message unreadable)]"),
])
def test_corrupt_tables(run_lldb, prog, kind, expect):
    t = run_lldb(["file %s" % prog] + BREAK + [
        "run corrupt %s" % kind, "thread list", "coroutine list",
        "coroutine leaks"], timeout=60)
    assert expect in t.text, t.text
    assert "Traceback" not in t.text and "internal error" not in t.text
    # LLDB and the plugin survived: the real thread is always listed.
    assert "stop reason = breakpoint 1.1" in t["thread list"]
    if kind == "count":
        # 1023 "null pointer" warnings collapse into one counted line
        lst = t["coroutine list"]
        assert "warning: corodbg: chunk 1: null pointer: skipped (1023 " \
            "times, also for 2, 3, 4, ...)" in lst
        assert lst.count("warning: corodbg:") == 3, lst
    if kind in ("strings", "midupdate"):
        assert re.search(r"^\? [12] ", t["coroutine list"], re.M)


def test_process_interrupt_and_detach_safe(prog, lldb_dir):
    """Resuming after listing coroutine threads never corrupts the
    program: it runs on to its normal exit."""
    args = [LLDB, "--no-lldbinit", "-b",
            "-o", "command script import %s" % (lldb_dir / "corodbg_lldb.py"),
            "-o", "file %s" % prog, "-o", "b example_checkpoint",
            "-o", "run states", "-o", "thread select 3", "-o", "bt",
            "-o", "next", "-o", "c"]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=60, env=lldb_env())
    assert "exited with status = 0" in p.stdout, p.stdout


def test_attach_to_live_process(run_lldb, prog):
    """`process attach` to a running program with two coroutines running
    on their own threads: every coroutine is where its entry says."""
    proc = subprocess.Popen([str(prog), "sleep", "2"], stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("ready "), line
        # LLDB lists threads before the modules are loaded on attach: the
        # first coroutine command refreshes the list (docs/lldb.md).
        t = run_lldb(["process attach -p %d" % proc.pid,
                      "coroutine list -running", "thread list",
                      "coroutine select 8", "bt 3", "detach"])
        names = expect_six_threads(t["thread list"])
        real = [n for k, n in names.items() if k < CORO]
        for cid in (7, 8):
            assert any(re.fullmatch(r"coro %d spinner \[running\] on thread "
                                    r"\d+" % cid, n) for n in real), real
        assert sorted(rows(t["coroutine list -running"])) == [7, 8]
        # which spinner thread got id 8 depends on thread start order
        assert re.search(r"thread_main\(arg=0x000000000000000[01]\)",
                         t["bt 3"]), t["bt 3"]
    finally:
        proc.kill()
        proc.wait()


def test_fast_stacks_match_lldb_unwinder(run_lldb, prog):
    """The core's frame-size unwinder and LLDB's own give the same user
    locations, groups and leak sites (CORODBG_SLOW_STACKS=1: LLDB only;
    CORODBG_LLDB_NO_PROC_MEM=1: the fast walker reading through LLDB
    instead of /proc/PID/mem)."""
    cmds = ["file %s" % prog] + BREAK + [
        "run list 12", RUNTIME, "coroutine list -group user",
        "coroutine list -u", "coroutine list -t 4 -name sl*",
        "coroutine leaks"]
    fast = run_lldb(cmds)
    for var in ("CORODBG_SLOW_STACKS", "CORODBG_LLDB_NO_PROC_MEM"):
        env = lldb_env()
        env[var] = "1"
        slow = run_lldb(cmds, env=env)
        for c in cmds[-4:]:
            # ages differ between runs, and with them the Age column's
            # width (4 or 5 characters): compare without both
            a = re.sub(r" +", " ", re.sub(r"\d+ms|<1ms|\d+\.\d+s", "AGE",
                                          fast[c]))
            b = re.sub(r" +", " ", re.sub(r"\d+ms|<1ms|\d+\.\d+s", "AGE",
                                          slow[c]))
            assert a == b, (var, c, a, b)
    assert "#2   sleeper at minirt.c:" in fast["coroutine list -t 4 -name sl*"]


def test_lldb_md_list_u_t_transcript_is_current(run_lldb, root, build):
    # docs/lldb.md's `coroutine list -u -t 4 2` replays as written (ages
    # aside: they depend on the run)
    leak = build / "examples" / "leak"
    if not leak.exists():
        pytest.fail("%s not built: run make" % leak)
    doc = (root / "docs" / "lldb.md").read_text()
    start = doc.index("    (lldb) coroutine list -u -t 4 2\n")
    block = doc[start:doc.index("    (lldb) coroutine select 3", start)]
    want = [l[4:] for l in block.splitlines()[1:]]
    t = run_lldb(["file %s" % leak] + BREAK + ["run",
                                              "coroutine list -u -t 4 2"])
    got = t["coroutine list -u -t 4 2"].strip("\n").splitlines()

    def norm(lines):
        return [re.sub(r"\d+ms\s+", "AGE ", re.sub(r"Age\s+", "Age ", l))
                for l in lines]
    assert norm(got) == norm(want)


def test_user_frame_through_an_inlined_call(run_lldb, prog, lines):
    """LLDB lists an inlined call as a frame of its own and gives the
    frames around it adjusted pcs; the fast stack walker learns from one
    real frame per stack slot, so a wait reached through runtime code
    inlined into runtime code still groups at the user's call (it used to
    stop inside the runtime)."""
    t = run_lldb(["file %s" % prog] + BREAK + [
        "run relay 6", RUNTIME, "coroutine list -group user",
        "coroutine list -t 6 3"])
    g = t["coroutine list -group user"]
    assert re.search(r"^\s+6  relayer at lldbprog.c:%d  \[" %
                     lines["LINE_RELAY_WAIT"], g, re.M), g
    stk = t["coroutine list -t 6 3"]
    assert "relayer at lldbprog.c:%d" % lines["LINE_RELAY_WAIT"] in stk


def _gdb_core(prog, tmp_path, setup):
    """A gcore of PROG at its checkpoint with GDB's SETUP commands applied
    first: a table corrupted before LLDB's plugin ever reads it."""
    core = tmp_path / "c.core"
    cmd = ["gdb", "-nx", "-q", "-batch", "-ex", "break example_checkpoint",
           "-ex", "run"]
    for c in setup + ["gcore %s" % core]:
        cmd += ["-ex", c]
    subprocess.run(cmd + ["--args", str(prog), "list", "6"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=120)
    assert core.exists()
    return core


@pytest.mark.parametrize("setup,why", [
    ("set var corodbg_table.reg_dwarf[3] = 99",
     "DWARF register 99 is not a x86-64 register"),
    # item 14: an 8-byte registers field was an internal TypeError
    ("set var *(unsigned short *)((char *)&corodbg_table + "
     "corodbg_table.entry_fields_off + 8 * 20 + 4) = 8",
     "8 register numbers for a 1-register block"),
], ids=["unknown-dwarf", "one-register-block"])
def test_unusable_register_map_gives_no_threads(run_lldb, prog, tmp_path,
                                                setup, why):
    """Issue 14 item 11: parked coroutines get no threads (their saved
    registers would land in the wrong registers); one warning, and
    `coroutine select` says why in one line."""
    core = _gdb_core(prog, tmp_path, [setup])
    t = run_lldb(["target create %s --core %s" % (prog, core),
                  "thread list", "coroutine list", "coroutine select 2"])
    why = "register map unusable: " + why
    assert t.text.count("warning: corodbg: %s: parked coroutines get no "
                        "threads" % why) == 1, t.text
    assert not [tid for tid in thread_names(t["thread list"])
                if tid > CORO], t.text
    assert sorted(rows(t["coroutine list"])) == [1, 2, 3, 4, 5, 6]
    assert t["coroutine select 2"].strip() == "error: %s" % why


def test_largest_coroutine_id(run_lldb, prog, tmp_path):
    """Issue 14 item 14: id 2^64-1 has no OS-plugin thread id (id + 2^32
    overflows): listings work, select says so in one line."""
    big = (1 << 64) - 1
    core = _gdb_core(prog, tmp_path, [
        "set var ((struct corodbg_entry *)((unsigned long *)"
        "corodbg_table.chunk_dir)[0])[1].id = %d" % big])
    t = run_lldb(["target create %s --core %s" % (prog, core),
                  "thread list", "coroutine list", "coroutine list -t 2",
                  "coroutine select %d" % big])
    assert "internal error" not in t.text and "Overflow" not in t.text
    assert big in rows(t["coroutine list"])
    assert big in rows(t["coroutine list -t 2"])
    assert CORO + 1 in thread_names(t["thread list"])
    assert t["coroutine select %d" % big].strip() == (
        "error: coroutine %d has no thread: its id is too large for an LLDB "
        "thread id (id + 2^32)" % big)


def test_hostile_name_is_escaped(run_lldb, prog, tmp_path):
    """Issue 14 item 15: the same escaping rule (core/escape.py) in LLDB's
    listing, thread names and select message."""
    core = _gdb_core(prog, tmp_path, [
        "python gdb.selected_inferior().write_memory(int(gdb.parse_and_eval("
        "'&((struct corodbg_entry *)((unsigned long *)corodbg_table."
        "chunk_dir)[0])[1].name[0]')), %r)"
        % b"ev\x1b]0;pwned\x07\r\n(lldb) fake\xc2\x9b\x00"])
    t = run_lldb(["target create %s --core %s" % (prog, core),
                  "thread list", "coroutine list", "coroutine select 2"])
    shown = r"ev\x1b]0;pwned\x07\r\n(lldb) fake\x9b"
    assert "\x1b" not in t.text and "\r" not in t.text, t.text
    assert not re.search(r"^\(lldb\) fake", t.text, re.M), t.text
    assert thread_names(t["thread list"])[CORO + 2] == \
        "coro 2 %s [blocked: sleep]" % shown
    assert shown in t["coroutine list"] and shown in t["coroutine select 2"]


def test_stripped_stacks_end_at_the_start_function(run_lldb, prog,
                                                   stripped):
    """Without symbols LLDB still knows where functions start (its
    symbols synthesized from .eh_frame): a stripped program's parked
    stacks in `coroutine list -t` have exactly the frames of the same
    program's with symbols, ending at the start function."""
    cmds = ["coroutine catch crash",
            "process handle SIGSEGV -s false -p true -n false",
            "run crash", "coroutine list -t 30"]
    full = stackmatrix.listed_stacks(
        run_lldb(["file %s" % prog] + cmds)["coroutine list -t 30"])
    bare = stackmatrix.listed_stacks(
        run_lldb(["file %s" % stripped] + cmds)["coroutine list -t 30"])
    parked = [cid for cid, *_ in SIX]
    # with symbols: each ends at its start function (the one that never
    # ran is only its trampoline), far from the -t 30 cap
    assert {k: full[k][-1] for k in parked} == \
        {1: "consumer", 2: "sleeper", 3: "yielder", 4: "consumer",
         5: "sleeper", 6: "lp_trampoline"}, full
    assert {k: len(bare.get(k, ())) for k in parked} == \
        {k: len(full[k]) for k in parked}, (bare, full)
