"""OS threads in `corodbg dump`, as `info threads` and Delve's `threads`
show them next to the coroutines: every thread of the process is listed,
with the coroutine it runs or none; a thread running none is never
stopped (a core shows its stack); and a running entry whose thread the
process does not have (it exited, or the tid is corrupt) is marked
'unknown-thread' with the debuggers' warning and nothing is stopped for
it, not even a thread of another process that has that id."""
import contextlib
import json
import os
import re
import subprocess

from capture_util import corodbg, held
from test_dump import gcore

CHUNK0 = "((unsigned long *)corodbg_table.chunk_dir)[0]"
ENTRY = "((struct corodbg_entry *)%s)" % CHUNK0


def tids(pid):
    return sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))


def test_every_thread_listed_live():
    """M:N server, 2 workers: the acceptor's thread runs coroutine 1, the
    main thread (joined in corort_run) and the idle worker run none."""
    with held("server", 30, 2) as pid:
        want = tids(pid)
        d = json.loads(corodbg("dump", pid, "--format", "json").stdout)
        text = corodbg("dump", pid).stdout
    threads = {t["tid"]: t for t in d["threads"]}
    assert sorted(threads) == want
    running = {c["tid"]: c["id"] for c in d["coroutines"]
               if c["state"] == "running"}
    assert running and set(running) <= set(want)
    for tid, t in threads.items():
        assert t["coroutine"] == running.get(tid), t
        assert t["name"] == "server", t
        if t["coroutine"] is None:
            assert t["frames"] == [] and "never stopped" in t["stack_error"]
    idle = [t for t in want if t not in running]
    for tid in idle:
        assert re.search(r'^thread %d "server" \[no coroutine\]:\n\t\(no '
                         r'stack: a thread running no coroutine is never '
                         r'stopped\)$' % tid, text, re.M), text
    assert "\n%d threads, %d running no coroutine\n" % (
        len(want), len(idle)) in text
    assert d["threads_stopped"] == len(running)


def test_threads_of_a_core_have_stacks(tmp_path):
    """A core has every thread's registers: the ones running no coroutine
    get their own stacks, as `thread apply all bt` shows them."""
    with held("server", 30, 2) as pid:
        core = gcore(pid, tmp_path / "core")
        want = tids(pid)
    d = json.loads(corodbg("dump", core, "--format", "json").stdout)
    assert sorted(t["tid"] for t in d["threads"]) == want
    idle = [t for t in d["threads"] if t["coroutine"] is None]
    assert len(idle) == 2
    fns = [[f["function"] for f in t["frames"]] for t in idle]
    assert any("main" in f and "corort_run" in f for f in fns), fns
    assert any("worker_loop" in f for f in fns), fns
    text = corodbg("dump", core).stdout
    assert re.search(r"^thread %d \[no coroutine\]:\n" % pid, text, re.M)


@contextlib.contextmanager
def foreign_thread():
    """A thread of another process: a tid the target does not have."""
    p = subprocess.Popen(["sleep", "120"])
    try:
        yield p.pid
    finally:
        p.kill()
        p.wait()


def _make_running(pid, tid):
    """Entry 1 of PID's table (coroutine 2) claims to run on TID."""
    r = subprocess.run(["gdb", "-nx", "-q", "-batch", "-p", str(pid),
                        "-ex", "set var %s[1].state = 2" % ENTRY,
                        "-ex", "set var %s[1].tid = %d" % (ENTRY, tid),
                        "-ex", "detach"], capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr


def test_running_on_a_thread_the_process_lacks():
    with held("leak") as pid, foreign_thread() as tid:
        _make_running(pid, tid)
        d = json.loads(corodbg("dump", pid, "--format", "json").stdout)
        text = corodbg("dump", pid).stdout
        with open("/proc/%d/status" % tid) as f:
            assert "State:\tS" in f.read()   # never stopped, still there
    co = {c["id"]: c for c in d["coroutines"]}[2]
    assert co["state"] == "running" and co["tid"] == tid
    assert co["unreadable"] == "unknown-thread"
    assert co["note"] == ("on thread %d, which the process does not have"
                          % tid)
    assert co["frames"] == [] and co["stack_error"] == co["note"]
    assert d["threads_stopped"] == 0
    warning = ("coroutine 2 is running on thread %d, which the process "
               "does not have (exited?): marked '?'" % tid)
    assert warning in d["warnings"]
    assert re.search(r'^coroutine 2 "consumer-1" \[running, thread %d\]: '
                     r'\(\? unknown-thread: on thread %d, which the process '
                     r'does not have\)\n\t\(no stack: on thread %d, which '
                     r'the process does not have\)$' % (tid, tid, tid),
                     text, re.M), text
    assert "warning: " + warning in text
    # no thread of the process runs it: none is listed with it
    assert all(t["coroutine"] != 2 for t in d["threads"])


def test_running_on_a_thread_the_core_lacks(tmp_path):
    with held("leak") as pid, foreign_thread() as tid:
        _make_running(pid, tid)
        core = gcore(pid, tmp_path / "core")
    d = json.loads(corodbg("dump", core, "--format", "json").stdout)
    co = {c["id"]: c for c in d["coroutines"]}[2]
    assert co["unreadable"] == "unknown-thread"
    assert co["note"] == "on thread %d, which the core does not have" % tid
    assert co["frames"] == []
