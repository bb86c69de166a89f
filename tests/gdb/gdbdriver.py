"""Helpers to drive the real gdb in batch mode against the fixture programs.

tests/gdb/progs/fixture.c is built by gdb/gdb.mk into build/gdb/ (make
test builds it first).  run_gdb() returns gdb's combined output.
"""
import os
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
BUILD = ROOT / "build" / "gdb"
LOADER = ROOT / "gdb" / "corodbg-gdb.py"
FIXTURE_SRC = ROOT / "tests" / "gdb" / "progs" / "fixture.c"
RUNTIME_GLOBS = "fx_*,corodbg_*"


def line_of(marker):
    """Line number of the comment /* MARKER */ in fixture.c."""
    for n, text in enumerate(FIXTURE_SRC.read_text().splitlines(), 1):
        if "/* %s */" % marker in text:
            return n
    raise AssertionError("marker %s not in fixture.c" % marker)


def binary(name="fixture"):
    path = BUILD / name
    assert path.exists(), "%s not built: run make test (or make %s)" % (
        path, path.relative_to(ROOT))
    return path


def run_gdb(commands, args=(), prog="fixture", source=True, pre=(),
            timeout=60, env=None, target=None):
    """Run gdb -batch with COMMANDS (-ex each) on PROG ARGS."""
    cmd = ["gdb", "-nx", "-q", "-batch", "-iex", "set auto-load safe-path /"]
    for p in pre:
        cmd += ["-iex", p]
    if source:
        cmd += ["-ex", "source %s" % LOADER,
                "-ex", "set corodbg runtime-functions %s" % RUNTIME_GLOBS]
    for c in commands:
        cmd += ["-ex", c]
    if target is not None:
        cmd += target
    else:
        cmd += ["--args", str(binary(prog))] + [str(a) for a in args]
    e = dict(os.environ)
    e.update(env or {})
    e.setdefault("LC_ALL", "C")
    res = subprocess.run(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=timeout,
                         env=e, stdin=subprocess.DEVNULL, cwd=str(ROOT))
    out = res.stdout
    assert "Traceback" not in out, out
    assert "Python Exception" not in out, out
    return out


def listing(out):
    """Parse `info coroutines` lines into {id: (mark, state, rest...)}."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^([ *?]) (\d+)\s+(\w+)\s+(.*)$", line)
        if m:
            rows[int(m.group(2))] = (m.group(1), m.group(3),
                                     m.group(4).strip())
    return rows

