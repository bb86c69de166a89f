"""The user's story (issue 11): a stripped `server` with thousands of
parked coroutines, captured by its own non-root user, symbolized on
"another machine" that has only the separate debug file, read with
`go tool pprof`.  The counts per wait site equal GDB's `coroutine leaks`
on the same process."""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from capture_util import CORODBG, EXAMPLES, gdb_attach, leak_groups
import pprof_fixture as pf  # noqa: E402 (tests/symbolizer)

N = 5000
USER = "nobody"
GO = shutil.which("go") or "/usr/bin/go"
RUNTIME = re.compile(r"^(corort_|corodbg_|co_|__|recv$|send$)")


@pytest.fixture
def world():
    """/tmp dirs the unprivileged user can use: 'prod' (the stripped
    program, the capture) and 'dev' (another machine: the debug file)."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root (to run the program as %s)" % USER)
    top = tempfile.mkdtemp(prefix="corodbg-e2e-")
    os.chmod(top, 0o755)
    prod, dev = os.path.join(top, "prod"), os.path.join(top, "dev")
    os.mkdir(prod)
    os.mkdir(dev)
    shutil.copy(EXAMPLES / "server-stripped", os.path.join(prod, "server"))
    shutil.copy(CORODBG, os.path.join(prod, "corodbg"))
    os.chmod(prod, 0o777)
    bid = pf.build_id(EXAMPLES / "server")
    assert bid == pf.build_id(EXAMPLES / "server-stripped")
    dbg = os.path.join(dev, "debug", ".build-id", bid[:2])
    os.makedirs(dbg)
    subprocess.run(["objcopy", "--only-keep-debug", str(EXAMPLES / "server"),
                    os.path.join(dbg, bid[2:] + ".debug")], check=True)
    yield prod, dev
    shutil.rmtree(top, ignore_errors=True)


def first_user_function(prof, locs):
    for lid in locs:
        for fn, _, line, _ in prof.frames(lid):
            if fn and not RUNTIME.match(fn):
                return fn, line
    return None, 0


def test_users_story(world, tmp_path):
    prod, dev = world
    exe = os.path.join(prod, "server")
    raw = os.path.join(prod, "coroutines.pb.gz")
    # 1-2: the program and the capture run as the same unprivileged user;
    #      the program is stripped (no .symtab, no DWARF)
    assert "symtab" not in subprocess.run(
        ["readelf", "-S", exe], capture_output=True, text=True).stdout
    cmd = ["runuser", "-u", USER, "--", exe, str(N)]
    env = dict(os.environ, EXAMPLE_HOLD="1")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        line = p.stdout.readline()
        while line and not line.startswith("holding"):
            line = p.stdout.readline()
        pid = int(line.split("pid ")[1].rstrip(")\n"))
        r = subprocess.run(["runuser", "-u", USER, "--",
                            os.path.join(prod, "corodbg"), "dump", str(pid),
                            "--format", "pprof", "-o", raw],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        # GDB on the same process, with the debug file, for the counts
        gdb = gdb_attach(pid, ["coroutine leaks"], pre=[
            "set debug-file-directory %s" % os.path.join(dev, "debug")])
    finally:
        os.killpg(p.pid, 9)
        p.wait()
    # 3-4: move the capture to the other machine (nothing of the stripped
    #      program could be named on "production"); corosym pprof there,
    #      with only the separate debug file
    prof, out = pf.symbolize_elsewhere(raw, dev, exe, EXAMPLES / "server")
    assert sum(v[0] for _, v in prof.samples) == N + 1
    # counts per wait site == GDB's coroutine leaks
    mine = {}
    for locs, vals in prof.samples:
        fn, line = first_user_function(prof, locs)
        mine[(fn, line)] = mine.get((fn, line), 0) + vals[0]
    groups = leak_groups(gdb)
    assert len(groups) == 5, gdb
    theirs = {}
    for count, _, _, waiting in groups:
        m = re.match(r"waiting at  (\w+) at server.c:(\d+)", waiting)
        assert m, waiting
        theirs[(m.group(1), int(m.group(2)))] = count
    assert {k: v for k, v in mine.items() if k in theirs} == theirs
    assert sum(theirs.values()) == N
    # 5: go tool pprof -traces shows the user's functions and lines
    env = pf.go_env(tmp_path)
    r = subprocess.run([GO, "tool", "pprof", "-traces", "-lines", out],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert "Type: coroutines" in text
    for fn, line in theirs:
        # the trace of that wait site: its count, its labels, the user's
        # function with file and line
        assert re.search(r"^ +%s +\S.*\n(?: +\S.*\n)*? +%s \S+/examples/"
                         r"server.c:%d$" % (theirs[(fn, line)], fn, line),
                         text, re.M), (fn, line, text[:3000])
