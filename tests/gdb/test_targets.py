"""Every target of issue 3 section 7: PIE and non-PIE, libcorodbg shared,
stripped (dynamic symbol and section-only), attach, gdbserver, N worker
threads, and libpcl under the LD_PRELOAD interposer."""
import re
import subprocess

import pytest

from gdbdriver import ROOT, binary, free_port, line_of, listing, run_gdb

STOP = ["break fixture_ready", "run"]
MIX = {1: "blocked", 2: "blocked", 3: "runnable", 4: "blocked",
       5: "blocked", 6: "runnable"}


def _states(out):
    return {k: v[1] for k, v in listing(out).items()}


@pytest.mark.parametrize("prog", ["fixture", "fixture-nopie",
                                  "fixture-shared"])
def test_pie_nopie_shared(prog):
    out = run_gdb(STOP + ["info coroutines", "coroutine 4 bt"], ["list", 6],
                  prog=prog)
    assert _states(out) == MIX
    assert re.search(r"#3  0x[0-9a-f]+ in consumer \(self=0x[0-9a-f]+\) at "
                     r"tests/progs/minirt.c:%d"
                     % line_of("LINE_CONSUMER_WAIT"), out)


@pytest.mark.parametrize("prog", ["fixture-stripped", "fixture-nodyn"])
def test_stripped(prog):
    """No symbols at all (fixture-nodyn: not even .dynsym has the table):
    ids, states, names and waits still come out; bt gives addresses."""
    out = run_gdb(["run", "info coroutines", "coroutine 1 bt",
                   "coroutine crashed"], ["crash"], prog=prog)
    rows = listing(out)
    assert {k: v[1] for k, v in rows.items()} == {**MIX, 7: "running"}
    assert rows[1][2].startswith("chan receive") and "consumer" in rows[1][2]
    assert rows[2][2].startswith("sleep") and "sleeper" in rows[2][2]
    assert rows[7][0] == "*" and "crasher" in rows[7][2]
    # `??` as plain bt prints it (GDB 16's frame decorators say `???`)
    assert re.search(r"#3  0x[0-9a-f]+ in \?\? \(\)", out)
    # no symbols: module + ELF address, resolvable offline
    m = re.search(r"crasher +0x[0-9a-f]+ in %s\+(0x[0-9a-f]+)" % prog,
                  out)
    assert m, out
    res = subprocess.run(["addr2line", "-f", "-e", str(binary("fixture")),
                          m.group(1)], capture_output=True, text=True)
    assert res.stdout.splitlines()[0] == "crasher"
    assert 'Coroutine 7 "crasher" crashed: SIGSEGV, fault address 0x0' in out


def _bt_pcs(out):
    """{coroutine id: [frame pcs]} of `coroutine apply all bt`."""
    pcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^Coroutine (\d+) ", line)
        if m:
            cur = pcs.setdefault(int(m.group(1)), [])
            continue
        m = re.match(r"^#\d+\s+(0x[0-9a-f]+) in ", line)
        if m and cur is not None:
            cur.append(int(m.group(1), 16))
    return pcs


def test_stripped_bt_ends_at_the_start_function():
    """Without symbols, the entry function's frame is found by its unwind
    info (.eh_frame_hdr, core/ehframe.py): a stripped program's `bt` of
    each parked coroutine has exactly the frames of the same program's
    with symbols, not the runtime's start frames below them."""
    cmd = ["run", "coroutine apply all bt"]
    full = _bt_pcs(run_gdb(cmd, ["crash"], prog="fixture"))
    bare = _bt_pcs(run_gdb(cmd, ["crash"], prog="fixture-stripped"))
    parked = list(MIX)
    assert all(full.get(k) for k in parked), full
    assert {k: bare.get(k) for k in parked} == \
        {k: full[k] for k in parked}


def test_attach():
    proc = subprocess.Popen([str(binary()), "sleep"], stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("ready"), line
        out = run_gdb(["attach %d" % proc.pid, "info coroutines",
                       "coroutine 2 bt", "detach"], target=[])
        assert _states(out) == MIX
        assert re.search(r"#3  0x[0-9a-f]+ in sleeper .*minirt.c:%d"
                         % line_of("LINE_SLEEPER_WAIT"), out)
    finally:
        proc.kill()
        proc.wait()


def _attach_hung(commands):
    """Attach to the fixture hung in pthread_join (frame #0 of the main
    thread is futex_wait inlined into glibc) and run COMMANDS."""
    proc = subprocess.Popen([str(binary()), "join"], stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("ready"), line
        return run_gdb(["attach %d" % proc.pid, "bt 1"] + commands
                       + ["detach"], target=[])
    finally:
        proc.kill()
        proc.wait()


def test_attach_hung_inline_frame0():
    """Issue 14 item 1: the coroutine's own stack, not the thread's."""
    out = _attach_hung(["coroutine 2", "bt", "info coroutines -t",
                        "coroutine apply all bt"])
    assert re.search(r"^#0  .*futex", out, re.M), out  # the premise holds
    view = out[out.index("[Switching to coroutine 2"):]
    assert "futex" not in view and "pthread" not in view, out
    assert "mr_run_mode" not in view, out
    assert len(re.findall(r"#\d+ +0x[0-9a-f]+ in sleeper .*minirt.c:%d"
                          % line_of("LINE_SLEEPER_WAIT"), view)) == 3, out
    assert len(re.findall(r"#\d+ +consumer at minirt.c:%d"
                          % line_of("LINE_CONSUMER_WAIT"), view)) == 2, out
    # -t numbers frames as bt does: after the thread's inline frame(s)
    top = re.search(r"^#(\d+)  0x[0-9a-f]+ in fx_park ", view, re.M)
    assert top and int(top.group(1)) >= 2, out
    assert re.search(r"^        #%s   fx_park at minirt.c" % top.group(1),
                     view, re.M), out


def test_attach_hung_view_is_verified():
    """If our unwinder does not get the frame it needs, the view is
    refused with one line rather than showing the thread's stack."""
    out = _attach_hung(["python import corodbg_gdb.view as v; "
                        "v._inline_depth = lambda: 0",
                        "coroutine 2", "echo alive\\n"])
    assert re.search(r"^coroutine 2: GDB unwound pc 0x[0-9a-f]+ sp "
                     r"0x[0-9a-f]+ instead of the saved pc 0x[0-9a-f]+ sp "
                     r"0x[0-9a-f]+: refusing to show another stack$",
                     out, re.M), out
    assert "Switching to coroutine" not in out and "alive" in out


def _gdbserver(args):
    """gdbserver on a free loopback port, stopped at exec; (proc, port)."""
    port = free_port()
    server = subprocess.Popen(["gdbserver", "127.0.0.1:%d" % port,
                               str(binary())] + list(args),
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    line = server.stderr.readline()
    while line and "Listening on port" not in line:
        line = server.stderr.readline()
    if "Listening on port %d" % port not in line:
        server.kill()
        server.wait()
        raise AssertionError(line)
    return server, port


def test_gdbserver():
    server, port = _gdbserver(["list", "6"])
    try:
        out = run_gdb(["target remote 127.0.0.1:%d" % port,
                       "break fixture_ready", "continue",
                       "info coroutines", "coroutine 1 bt",
                       "coroutine leaks", "kill"],
                      target=[str(binary())])
        assert _states(out) == MIX
        assert re.search(r"#3  0x[0-9a-f]+ in consumer .*minirt.c:%d"
                         % line_of("LINE_CONSUMER_WAIT"), out)
        assert "2  blocked on chan receive" in out
    finally:
        server.kill()
        server.wait()


def test_gdbserver_wait_sites_without_stack_reads():
    """Through gdbserver every stack read is a round trip.  The fixture's
    blocking calls record where they return (corodbg_block_at), so once
    the walk has checked that on one coroutine per wait site, `-group
    user` reads only the stacks of coroutines that are not blocked: here
    the 99 yielders that ran, not the 200 blocked ones.  The answer is the same
    as the first command's, which walked and checked."""
    server, port = _gdbserver(["list", "300"])
    try:
        out = run_gdb(["target remote 127.0.0.1:%d" % port,
                       "break fixture_ready", "continue",
                       "echo FIRST\\n", "info coroutines -group user",
                       "set debug remote 1",
                       "echo SECOND\\n", "info coroutines -group user",
                       "set debug remote 0", "echo END\\n", "kill"],
                      target=[str(binary())], timeout=120)
        first = out[out.index("FIRST"):out.index("SECOND")].split("\n")[1:]
        second = out[out.index("SECOND"):out.index("END")].split("\n")[1:]
        reads = [l for l in second if "Sending packet: $m" in l]
        assert first == [l for l in second if "[remote]" not in l]
        text = "\n".join(first)
        for n, marker, name in ((100, "LINE_CONSUMER_WAIT", "consumer"),
                                (100, "LINE_SLEEPER_WAIT", "sleeper"),
                                (99, "LINE_YIELDER_PARK", "yielder")):
            assert re.search(r"^\s+%d\s+%s at minirt.c:%d" %
                             (n, name, line_of(marker)), text, re.M), text
        assert 100 <= len(reads) < 150, len(reads)
    finally:
        server.kill()
        server.wait()


def test_gdbserver_catch_panic_at_exec():
    # Stopped at exec, the dynamic loader has not relocated the table yet:
    # its event_hook still holds the link-time address, where a breakpoint
    # would never be hit.
    server, port = _gdbserver(["panic"])
    try:
        out = run_gdb(["target remote 127.0.0.1:%d" % port,
                       "catch coroutine panic", "continue", "kill"],
                      target=[str(binary())])
        assert ('Catchpoint 1 (coroutine panic): coroutine 7 "panicker" '
                'panicked: bad request 7') in out
        assert re.search(r"#4  0x[0-9a-f]+ in panicker ", out)
    finally:
        server.kill()
        server.wait()


def test_worker_threads():
    out = run_gdb(STOP + ["info coroutines"], ["threads", 3])
    st = _states(out)
    assert [st[i] for i in (7, 8, 9)] == ["running"] * 3
    assert {k: st[k] for k in range(1, 7)} == MIX
    assert "Total: 9 coroutines (2 runnable, 3 running, 4 blocked)." in out


PCL_PRELOAD = ROOT / "build" / "interpose" / "libcorodbg-ucontext.so"
PCL_DEMO = ROOT / "build" / "interpose" / "tests" / "pcl_demo"


def test_libpcl_under_interposer():
    if not (PCL_PRELOAD.exists() and PCL_DEMO.exists()):
        pytest.skip("interposer build missing (%s, %s): built by "
                    "interpose/interpose.mk" % (PCL_PRELOAD, PCL_DEMO))
    out = run_gdb(["set corodbg runtime-functions co_*,uc_*",
                   "set environment LD_PRELOAD=%s" % PCL_PRELOAD,
                   "break pcl_checkpoint if phase == 2", "run",
                   "info coroutines -u", "coroutine apply all bt"],
                  target=[str(PCL_DEMO)])
    rows = listing(out)
    assert any("pcl:producer" in v[2] and "producer at pcl_demo.c" in v[2]
               for v in rows.values()), out
    assert any("pcl:consumer" in v[2] and "consumer at pcl_demo.c" in v[2]
               for v in rows.values()), out
    assert re.search(r"in producer \(arg=.*\) at tests/interpose/"
                     r"pcl_demo.c:\d+", out)


SERVER = ROOT / "build" / "examples" / "server"


@pytest.mark.parametrize("workers", [0, 2])
def test_reference_runtime_single_and_workers(workers):
    """corort's server example (examples/server.c), single-thread and 2
    worker threads: 20 connections at five wait sites."""
    assert SERVER.exists(), "build/examples/server not built (make)"
    out = run_gdb(["break example_checkpoint", "run", "info coroutines",
                   "info coroutines -group user", "coroutine 5 bt"],
                  target=["--args", str(SERVER), "20", str(workers)])
    rows = listing(out)
    assert sorted(rows) == list(range(1, 22))
    assert rows[1][:2] == ("*", "running")
    waits = {2: "chan receive", 3: "chan send", 4: "sleep", 5: "waitgroup",
             6: "mutex"}
    for cid, wait in waits.items():
        assert rows[cid][1] == "blocked"
        assert rows[cid][2].startswith(wait), rows[cid]
        assert rows[cid + 5][2].startswith(wait)
    for fn in ("wait_request at server.c:42", "send_response at server.c:49",
               "idle_timeout at server.c:56", "wait_drain at server.c:62",
               "lock_db at server.c:68"):
        assert re.search(r"^\s+4  %s  \[" % re.escape(fn), out, re.M), fn
    assert re.search(r"#2  0x[0-9a-f]+ in wait_drain \(c=0x[0-9a-f]+\) at "
                     r"examples/server.c:62", out)
    assert re.search(r"#3  0x[0-9a-f]+ in connection \(arg=0x4\)", out)
    assert "Total: 21 coroutines (1 running, 20 blocked)." in out
