"""The LD_PRELOAD Boost.Context interposer (interpose/fc_*), proven on
three programs using only public Boost APIs (tests/interpose/boost/):
a Coroutine2 generator, Boost.Fiber fibers blocked on a channel, a mutex
and a condition variable, and Asio sessions spawned with
boost::asio::spawn parked on timers and sockets.  GDB and LLDB, live and
from a core: the listing, bt down to the user's function, -group user,
leaks; and a program without Boost is untouched."""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "tests", "interpose", "boost")
LOADER = os.path.join(ROOT, "gdb", "corodbg-gdb.py")
LLDB_PLUGIN = os.path.join(ROOT, "lldb", "corodbg_lldb.py")


@pytest.fixture(scope="module")
def fclib(build):
    path = build / "interpose" / "libcorodbg-fcontext.so"
    assert path.exists(), "build it first: make %s" % path
    return str(path)


def prog(build, name):
    path = build / "interpose" / "tests" / name
    assert path.exists(), "build it first: make test"
    return str(path)


def line(src, marker):
    with open(os.path.join(HERE, src)) as f:
        for n, text in enumerate(f, 1):
            if "// %s" % marker in text:
                return n
    raise AssertionError("%s not in %s" % (marker, src))


def gdb(fclib, commands, args, core=None):
    cmd = ["gdb", "-nx", "-q", "-batch", "-iex", "set auto-load safe-path /",
           "-iex", "set environment LD_PRELOAD=%s" % fclib,
           "-ex", "source %s" % LOADER]   # no setting: the interposer
    # describes Boost's code itself (runtime_code)
    if core is None:
        cmd += ["-ex", "break boost_checkpoint", "-ex", "run"]
    for c in commands:
        cmd += ["-ex", c]
    cmd += [args[0], core] if core else ["--args"] + list(args)
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, timeout=120,
                         stdin=subprocess.DEVNULL,
                         env=dict(os.environ, LC_ALL="C")).stdout
    assert "Traceback" not in out and "Python Exception" not in out, out
    return out


def lldb(exe, fclib, commands, core=None, args=()):
    """LLDB with the plugin on EXE: live under the interposer, stopped at
    boost_checkpoint, or from CORE; then COMMANDS."""
    cmd = ["lldb-19", "--no-lldbinit", "-b",
           "-o", "command script import %s" % LLDB_PLUGIN]
    if core:
        cmd += ["-o", "target create %s --core %s" % (exe, core)]
    else:
        cmd += ["-o", "file %s" % exe,
                "-o", "settings set target.env-vars LD_PRELOAD=%s" % fclib,
                "-o", "b boost_checkpoint",
                "-o", " ".join(["run"] + list(args))]
    for c in commands:
        cmd += ["-o", c]
    env = dict(os.environ,
               LLDB_DEBUGSERVER_PATH="/usr/lib/llvm-19/bin/lldb-server")
    out = subprocess.run(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True,
                         timeout=180, env=env,
                         stdin=subprocess.DEVNULL).stdout
    assert "Traceback" not in out, out
    return out


def user_rows(out):
    """-u listing rows: {id: location}."""
    return {int(m.group(1)): m.group(2) for m in re.finditer(
        r"^[ *?] (\d+)\s+runnable\s+\S+\s+fcontext (.*)$", out, re.M)}


def test_coroutine2_generator_live_core_and_exit(build, fclib, tmp_path):
    exe = prog(build, "boost_gen")
    core = str(tmp_path / "gen.core")
    loop = "gen.cpp:%d" % line("gen.cpp", "LINE_GEN_LOOP")
    out = gdb(fclib, ["info coroutines -u", "info coroutines -group user",
                      "coroutine leaks", "coroutine 2", "echo ==\\n", "bt",
                      "echo ==\\n", "generate-core-file %s" % core,
                      "continue", "echo ==AFTER==\\n", "info coroutines"],
              [exe, "3"])
    rows = user_rows(out)
    assert sorted(rows) == [1, 2, 3], out
    assert all(("numbers(" in r or "produce(" in r) and r.endswith(
        ("gen.cpp:%d" % line("gen.cpp", "LINE_GEN_YIELD"), loop))
        for r in rows.values()), rows
    assert re.search(r"^    3  (numbers|produce)\(.*\) at gen.cpp:\d+  "
                     r"\[1, 2, 3\]$", out, re.M), out
    assert "No blocked coroutines." in out  # the interposer knows no waits
    bt = out.split("==\n")[1]
    assert re.search(r"in numbers\(.*\) at tests/interpose/boost/gen.cpp:%d"
                     % line("gen.cpp", "LINE_GEN_LOOP"), bt), bt
    assert "produce(" in bt and "fiber_entry" in bt, bt
    assert not re.search(r"#\d+ .* in main \(", bt)  # ends at the start
    # delete unwound every generator: its context ended
    assert "Total: 0 coroutines." in out.split("==AFTER==")[1], out
    # the core: the same listing and stacks without a process
    cout = gdb(fclib, ["info coroutines -u", "coroutine 3", "bt"],
               [exe], core=core)
    assert sorted(user_rows(cout)) == [1, 2, 3], cout
    assert re.search(r"in numbers\(.*\) at tests/interpose/boost/gen.cpp",
                     cout), cout


def test_fibers_on_channel_mutex_condvar(build, fclib):
    exe = prog(build, "boost_fibers")
    out = gdb(fclib, ["info coroutines -u", "info coroutines -group user",
                      "coroutine 3", "echo ==\\n", "bt", "echo ==\\n",
                      "continue", "echo ==AFTER==\\n", "info coroutines"],
              [exe])
    rows = user_rows(out.split("Grouped by")[0])
    want = {"wait_request(int) at fibers.cpp:%d"
            % line("fibers.cpp", "LINE_FIB_CHAN"),
            "lock_table(int) at fibers.cpp:%d"
            % line("fibers.cpp", "LINE_FIB_MUTEX"),
            "wait_ready(int) at fibers.cpp:%d"
            % line("fibers.cpp", "LINE_FIB_CV")}
    assert want <= set(rows.values()), rows
    for w in want:   # two fibers at each wait site
        assert re.search(r"^    2  %s  \[\d+, \d+\]$" % re.escape(w), out,
                         re.M), out
    bt = out.split("==\n")[1]
    assert re.search(r"in lock_table\(int\) \(id=0\) at "
                     r"tests/interpose/boost/fibers.cpp:%d"
                     % line("fibers.cpp", "LINE_FIB_MUTEX"), bt), bt
    # joined: the six fibers ended (Boost.Context's fiber_exit); the
    # scheduler's dispatcher fiber remains
    after = out.split("==AFTER==")[1]
    assert "Total: 1 coroutine (1 runnable)." in after, after


def test_asio_spawned_sessions(build, fclib):
    exe = prog(build, "boost_sessions")
    out = gdb(fclib, ["info coroutines -u", "info coroutines -group user",
                      "coroutine 2", "echo ==\\n", "bt", "echo ==\\n"],
              [exe, "40"])
    rows = user_rows(out.split("Grouped by")[0])
    assert sorted(rows) == list(range(1, 41)), out
    timer = "idle_timeout(boost::asio::steady_timer&, " \
        "boost::asio::yield_context) at sessions.cpp:%d" % line(
            "sessions.cpp", "LINE_ASIO_TIMER")
    read = "read_request(boost::asio::ip::tcp::socket&, " \
        "boost::asio::yield_context) at sessions.cpp:%d" % line(
            "sessions.cpp", "LINE_ASIO_READ")
    assert re.search(r"^   20  %s  \[1, 3, 5, 7, 9, \.\.\.\]$"
                     % re.escape(timer), out, re.M), out
    assert re.search(r"^   20  %s  \[2, 4, 6, 8, 10, \.\.\.\]$"
                     % re.escape(read), out, re.M), out
    bt = out.split("==\n")[1]
    assert re.search(r"in read_request\(.*\) at "
                     r"tests/interpose/boost/sessions.cpp:%d"
                     % line("sessions.cpp", "LINE_ASIO_READ"), bt), bt


def test_lldb_fiber_threads(build, fclib):
    out = lldb(prog(build, "boost_fibers"), fclib,
               ["coroutine list -u", "thread list", "coroutine select 3",
                "bt"])
    assert "lock_table(int) at fibers.cpp:%d" % line(
        "fibers.cpp", "LINE_FIB_MUTEX") in out, out
    assert re.search(r"name = 'coro 3 fcontext \[runnable\]'", out), out
    bt = out.split("(lldb) bt")[1]
    assert re.search(r"frame #\d+: 0x[0-9a-f]+ boost_fibers`lock_table"
                     r"\(id=0\) at fibers.cpp:%d"
                     % line("fibers.cpp", "LINE_FIB_MUTEX"), bt), bt


def test_program_without_boost_is_untouched(build, fclib):
    exe = prog(build, "uc_demo")
    plain = subprocess.run([exe], capture_output=True, text=True, timeout=60)
    pre = subprocess.run([exe], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, LD_PRELOAD=fclib))
    assert pre.returncode == plain.returncode == 0
    assert pre.stdout == plain.stdout and pre.stderr == plain.stderr == ""


def test_concurrent_jumps_on_several_threads(build, fclib):
    """Boost.Fiber's work-stealing scheduler on 4 threads: fibers migrate
    and jump on every thread at once, waves of them end and their stacks
    are reused.  Inside each fiber the current entry is always that fiber
    (id, RUNNING on this thread, its stack), and a reader thread never
    sees a parked entry's saved sp outside its own stack
    (tests/interpose/boost/stress.cpp checks both in the process)."""
    exe = prog(build, "boost_stress")
    r = subprocess.run([exe, "4", "64", "4", "300"], capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, LD_PRELOAD=fclib))
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.match(r"stress ok fibers=256 checks=76800 migrations=(\d+) "
                 r"scans=(\d+)$", r.stdout.strip())
    assert m, r.stdout + r.stderr
    # the point is concurrency: fibers did move between threads, and the
    # reader ran while they did
    assert int(m.group(1)) > 0 and int(m.group(2)) > 0, r.stdout


def test_lldb_from_a_core_of_a_boost_program(build, fclib, tmp_path):
    """A gcore of a Boost.Fiber program run under the interposer (held with
    BOOST_HOLD in its checkpoint) lists its fibers in LLDB, and a fiber's
    thread unwinds to the user's wait site."""
    exe = prog(build, "boost_fibers")
    p = subprocess.Popen([exe], stdout=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL, start_new_session=True,
                         env=dict(os.environ, LD_PRELOAD=fclib,
                                  BOOST_HOLD="1"))
    try:
        pid = int(p.stdout.readline().split()[1])
        core = str(tmp_path / "core")
        subprocess.run(["gcore", "-o", core, str(pid)], check=True,
                       capture_output=True, timeout=120)
    finally:
        os.killpg(p.pid, 9)
        p.wait()
    core += ".%d" % pid
    out = lldb(exe, fclib, ["coroutine list -u", "coroutine select 3", "bt"],
               core=core)
    assert "Total: 7 coroutines (7 runnable)." in out, out
    for marker, fn in (("LINE_FIB_CHAN", "wait_request"),
                       ("LINE_FIB_MUTEX", "lock_table")):
        # named as GDB and LLDB's bt name them: LLDB's own name for these
        # internal-linkage functions is '::wait_request(int)'
        rows = re.findall(r"^  \d+ +runnable .* %s\(int\) at fibers.cpp:%d$"
                          % (fn, line("fibers.cpp", marker)), out, re.M)
        assert len(rows) == 2, (fn, out)
    bt = out.split("(lldb) bt")[1]
    assert re.search(r"frame #\d+: 0x[0-9a-f]+ boost_fibers`lock_table"
                     r"\(id=0\) at fibers.cpp:%d"
                     % line("fibers.cpp", "LINE_FIB_MUTEX"), bt), bt


# ---- every program, in GDB and LLDB, live and from a core -----------------
# The same four answers each time: the listing's total, -group user's wait
# sites with their counts, leaks, and one coroutine's bt reaching the
# user's function.  Function names are matched up to their '(' (GDB writes
# 'steady_timer&', LLDB 'steady_timer &').

MATRIX = {
    "boost_gen": (["3"], 3, [(3, "produce", "gen.cpp", "LINE_GEN_YIELD")],
                  3, ("numbers", "gen.cpp", "LINE_GEN_LOOP")),
    "boost_fibers": ([], 7, [(2, "wait_request", "fibers.cpp", "LINE_FIB_CHAN"),
                             (2, "lock_table", "fibers.cpp", "LINE_FIB_MUTEX"),
                             (2, "wait_ready", "fibers.cpp", "LINE_FIB_CV")],
                     3, ("lock_table", "fibers.cpp", "LINE_FIB_MUTEX")),
    "boost_sessions": (["40"], 40,
                       [(20, "idle_timeout", "sessions.cpp", "LINE_ASIO_TIMER"),
                        (20, "read_request", "sessions.cpp", "LINE_ASIO_READ")],
                       2, ("read_request", "sessions.cpp", "LINE_ASIO_READ")),
}


@pytest.fixture(scope="module")
def boost_cores(build, fclib, tmp_path_factory):
    """{program: (live GDB output, core)}: one live GDB run per program,
    which also writes the core the other three cases read."""
    out = {}
    d = tmp_path_factory.mktemp("boost-cores")
    for name, (args, _, _, sel, _) in MATRIX.items():
        core = str(d / (name + ".core"))
        text = gdb(fclib, _gdb_commands(sel) +
                   ["generate-core-file %s" % core],
                   [prog(build, name)] + args)
        assert os.path.exists(core), text
        out[name] = (text, core)
    return out


def _gdb_commands(sel):
    return ["info coroutines", "info coroutines -group user",
            "coroutine leaks", "coroutine %d" % sel, "echo ==BT==\\n", "bt",
            "echo ==END==\\n"]


def _lldb(exe, fclib, core=None, args=()):
    sel = MATRIX[os.path.basename(exe)][3]
    return lldb(exe, fclib, [
        "coroutine list", "coroutine list -group user", "coroutine leaks",
        "coroutine select %d" % sel, "script print('==BT==')", "bt",
        "script print('==END==')"], core=core, args=args)


def _check_answers(name, out, gdb_bt=True):
    _, total, groups, _, (fn, src, marker) = MATRIX[name]
    assert re.search(r"^Total: %d coroutines? \(%d runnable\)\.$"
                     % (total, total), out, re.M), out
    grouped = out.split("Grouped by user:")[1].split("Total:")[0]
    got = sorted((int(m.group(1)), m.group(2), m.group(3)) for m in
                 re.finditer(r"^ +(\d+)  ([\w:~]+)\(.* at (\S+:\d+)  \[",
                             grouped, re.M))
    assert got == sorted((n, f, "%s:%d" % (s, line(s, mk)))
                         for n, f, s, mk in groups), grouped
    # the interposer knows no wait reasons: every fcontext is runnable
    assert "No blocked coroutines." in out, out
    bt = out.split("==BT==")[-1].split("==END==")[0]
    assert re.search(r"\b%s\(.*(at|at tests/interpose/boost/)%s:%d"
                     % (fn, src, line(src, marker)), bt) or \
        re.search(r"`%s\(.*at %s:%d" % (fn, src, line(src, marker)), bt), bt
    if gdb_bt:   # GDB's frame filter cuts bt at the start function;
        # LLDB's bt has no such hook and shows the stack to its bottom
        assert not re.search(r"\bmain \(", bt), bt


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_gdb_live_every_program(boost_cores, name):
    _check_answers(name, boost_cores[name][0])


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_gdb_core_every_program(build, fclib, boost_cores, name):
    _, _, _, sel, _ = MATRIX[name]
    out = gdb(fclib, _gdb_commands(sel), [prog(build, name)],
              core=boost_cores[name][1])
    _check_answers(name, out)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_lldb_live_every_program(build, fclib, name):
    args = MATRIX[name][0]
    _check_answers(name, _lldb(prog(build, name), fclib, args=args),
                   gdb_bt=False)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_lldb_core_every_program(build, fclib, boost_cores, name):
    _check_answers(name, _lldb(prog(build, name), fclib,
                               core=boost_cores[name][1]), gdb_bt=False)
