"""A stack whose entry function's frame is gone (tests/progs/tailentry.c:
at -O2 the entry function tail-calls the blocking call) ends above the
start function the runtime describes (corort: corort__trampoline), with
corort__start the last frame, in GDB's `bt` and `-t` and in LLDB's
`-t`; `leaks` says there is no user frame."""
import os
import re
import subprocess

import pytest

import stackmatrix as sm

ROOT = sm.ROOT


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    exe = tmp_path_factory.mktemp("tailentry") / "tailentry"
    build = ROOT / "build"
    subprocess.run(
        ["gcc", "-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-Werror",
         "-I%s" % (ROOT / "runtime" / "include"),
         "-I%s" % (ROOT / "runtime-hooks" / "include"),
         str(ROOT / "tests" / "progs" / "tailentry.c"), "-o", str(exe),
         str(build / "runtime" / "libcorort.a"),
         str(build / "runtime-hooks" / "libcorodbg.a"),
         "-Wl,--export-dynamic-symbol=corodbg_table", "-lpthread", "-ldl"],
        check=True, timeout=120)
    dis = subprocess.run(["objdump", "-d", str(exe)], capture_output=True,
                         text=True, check=True).stdout
    body = dis[dis.index("<waiter>:"):].split("\n\n")[0]
    assert re.search(r"\bjmp\s+[0-9a-f]+ <corort_chan_recv>", body), body
    return exe


def _frames(stacks):
    assert len(stacks) == 3, stacks
    for cid, fns in stacks.items():
        names = [sm.base_name(f) for f in fns]
        assert names[-1] == "corort__start", (cid, fns)
        assert "waiter" not in names and "corort__trampoline" not in names


def test_gdb(prog):
    out = subprocess.run(
        ["gdb", "-nx", "-q", "-batch", "-ex",
         "source %s" % (ROOT / "gdb" / "corodbg-gdb.py"),
         "-ex", "break stop_here", "-ex", "run",
         "-ex", "echo <<<bt>>>\\n", "-ex", "coroutine apply all bt",
         "-ex", "echo <<<t>>>\\n", "-ex", "info coroutines -t 20",
         "-ex", "echo <<<leaks>>>\\n", "-ex", "coroutine leaks", str(prog)],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, LC_ALL="C")).stdout
    t = sm._split(out)
    _frames(sm.gdb_bts(t["bt"]))
    _frames(sm.listed_stacks(t["t"]))
    assert "waiting at  (no user frame) recv at chan.c:" in t["leaks"], \
        t["leaks"]


def test_lldb(prog):
    if sm.LLDB is None:
        pytest.skip("lldb-19 is not installed")
    out = subprocess.run(
        [sm.LLDB, "--no-lldbinit", "-b", "-o",
         "command script import %s" % (ROOT / "lldb" / "corodbg_lldb.py"),
         "-o", "b stop_here", "-o", "run",
         "-o", "script print('<<<t>>>')", "-o", "coroutine list -t 20",
         "-o", "script print('<<<leaks>>>')", "-o", "coroutine leaks",
         str(prog)], capture_output=True, text=True, timeout=180,
        env=dict(os.environ, LLDB_DEBUGSERVER_PATH=sm.LLDB_SERVER)).stdout
    t = sm._split(out)
    _frames(sm.listed_stacks(t["t"]))
    assert "waiting at  (no user frame) recv at chan.c:" in t["leaks"], \
        t["leaks"]
