"""Differential test on a third-party runtime: Boost.Context under the
fcontext interposer (tests/interpose/boost: a Coroutine2 generator,
Boost.Fiber fibers on a channel, a mutex and a condition variable, Asio
sessions spawned on timers and sockets).  For every coroutine, the groups
of `-group user` equal those computed from the debugger's own `bt`, in GDB
and in LLDB.

The tests' rule for Boost's code is written here, independently of the
globs the interposer publishes: a frame is runtime code when its name,
return type aside, is in Boost's context, fiber, coroutine or Asio
namespaces or std::, or is one of fcontext's assembly functions."""
import os
import re

import pytest

import stackmatrix as sm

BUILD = sm.BUILD / "interpose"
FCLIB = BUILD / "libcorodbg-fcontext.so"
PROGS = {"boost_gen": ["3"], "boost_fibers": [], "boost_sessions": ["40"]}
BOOST = re.compile(r"(^|[\s`])(boost::(context|fibers|coroutines2?|asio)::"
                   r"|std::)|`?\w*_fcontext\b")


def boost_runtime(fn):
    """FN: a name from either debugger's bt ('prog`auto boost::asio::x<
    ...>::f<...>(...)', 'boost::fibers::mutex::lock (this=...)')."""
    head = fn.split("`", 1)[-1].split(" [inlined] ")[-1]
    depth, cut = 0, len(head)
    for i, c in enumerate(head):   # the name ends at '(' outside <...>
        depth += (c == "<") - (c == ">")
        if c == "(" and depth <= 0 and not head.startswith(
                "(anonymous namespace)", i):
            cut = i
            break
    return bool(BOOST.search(head[:cut])) or head.startswith("??")


def _gdb(exe, args):
    cmd = ["gdb", "-nx", "-q", "-batch", "-iex", "set auto-load safe-path /",
           "-iex", "set environment LD_PRELOAD=%s" % FCLIB,
           "-ex", "source %s" % (sm.ROOT / "gdb" / "corodbg-gdb.py"),
           "-ex", "break boost_checkpoint", "-ex", "run",
           "-ex", "info coroutines -group user -samples 100",
           "-ex", "echo ==BT==\\n", "-ex", "coroutine apply all bt",
           "--args", exe] + args
    return sm._run(cmd, env=dict(os.environ, LC_ALL="C"))[1]


def _lldb(exe, args):
    cmd = [sm.LLDB, "--no-lldbinit", "-b",
           "-o", "command script import %s" % (sm.ROOT / "lldb" /
                                               "corodbg_lldb.py"),
           "-o", "file %s" % exe,
           "-o", "settings set target.env-vars LD_PRELOAD=%s" % FCLIB,
           "-o", "b boost_checkpoint", "-o", " ".join(["run"] + args),
           "-o", "coroutine list -group user -samples 100",
           "-o", "script print('==BT==')", "-o", "thread backtrace all"]
    return sm._run(cmd, env=dict(os.environ,
                                 LLDB_DEBUGSERVER_PATH=sm.LLDB_SERVER))[1]


@pytest.mark.parametrize("debugger", ["gdb", "lldb"])
@pytest.mark.parametrize("build", ["make", "gcc-O2", "clang-O2"])
@pytest.mark.parametrize("name", sorted(PROGS))
def test_boost_groups_equal_bt(name, build, debugger):
    """BUILD: the Makefile's (g++ -O0), or g++ / clang++ -O2, where
    Boost's calls are inlined into the user's functions (clang -O2
    inlines Asio's async_wait into idle_timeout: GDB's walker named the
    lambda below it, taking an inlined call that starts at the return
    address for the start of a coroutine that never ran)."""
    if debugger == "lldb" and sm.LLDB is None:
        pytest.skip("lldb-19 is not installed")
    exe = str(sm.boost_build(name[len("boost_"):], build))
    assert os.path.exists(exe) and FCLIB.exists(), "build it first: make"
    run, parse = (_gdb, sm.gdb_bts) if debugger == "gdb" else \
        (_lldb, sm.lldb_bts)
    out = run(exe, PROGS[name])
    assert "Traceback" not in out and "Python Exception" not in out, out
    listing, bt = out.split("==BT==", 1)
    grouped = sm.groups_of_listing(listing.split("Grouped by user:")[1])
    bts = parse(bt)
    assert bts and all(bts.values()), bt
    want = sm.groups_of_bts(bts, runtime=boost_runtime)
    assert grouped == want, (grouped, want)
    # a user wait site in every program (not all '(no user frame)')
    assert any(not k.startswith("(no") for k in want), want
