"""Helpers to drive the real gdb in batch mode against the fixture programs.

tests/gdb/progs/fixture.c (with tests/progs/minirt.c) is built by gdb/gdb.mk into build/gdb/ (make
test builds it first).  run_gdb() returns gdb's combined output.
"""
import os
import pathlib
import re
import socket
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
BUILD = ROOT / "build" / "gdb"
LOADER = ROOT / "gdb" / "corodbg-gdb.py"
FIXTURE_SRC = ROOT / "tests" / "gdb" / "progs" / "fixture.c"
# The mini runtime and the workers (shared with the LLDB test program).
MINIRT_SRC = ROOT / "tests" / "progs" / "minirt.c"
RUNTIME_GLOBS = "fx_*,corodbg_*"
# The GDB under test: CORODBG_TEST_GDB names another one (e.g. the GDB 16 of
# scripts/build-gdb16.sh, a wrapper passing its data-directory).
GDB = os.environ.get("CORODBG_TEST_GDB") or "gdb"


def gdb_version():
    """(major, minor) of the GDB under test."""
    out = subprocess.run([GDB, "-nx", "-batch", "-ex", "show version"],
                         stdout=subprocess.PIPE, text=True).stdout
    m = re.search(r"GNU gdb .*? (\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def line_of(marker):
    """Line number of the comment /* MARKER */ in fixture.c or, for the
    workers' and the mini runtime's markers, in minirt.c."""
    for src in (FIXTURE_SRC, MINIRT_SRC):
        for n, text in enumerate(src.read_text().splitlines(), 1):
            if "/* %s */" % marker in text:
                return n
    raise AssertionError("marker %s not in fixture.c or minirt.c" % marker)


def binary(name="fixture"):
    path = BUILD / name
    assert path.exists(), "%s not built: run make test (or make %s)" % (
        path, path.relative_to(ROOT))
    return path


def run_gdb(commands, args=(), prog="fixture", source=True, pre=(),
            timeout=60, env=None, target=None, gdb=None):
    """Run gdb -batch with COMMANDS (-ex each) on PROG ARGS.  GDB: the
    debugger's command (gdb-multiarch for other architectures; default
    the GDB under test)."""
    gdb = gdb or GDB
    cmd = [gdb, "-nx", "-q", "-batch", "-iex", "set auto-load safe-path /"]
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
    assert "Fatal signal" not in out, out          # GDB itself crashed
    assert "internal-error" not in out, out
    return out


def free_port():
    """A loopback TCP port nothing listens on now (for gdbserver, qemu)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listing(out):
    """Parse `info coroutines` lines into {id: (mark, state, rest...)}."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^([ *?]) (\d+)\s+(\S+)\s+(.*)$", line)
        if m:
            rows[int(m.group(2))] = (m.group(1), m.group(3),
                                     m.group(4).strip())
    return rows



def kernel_core(tmp_path, args, prog="fixture"):
    """Run PROG ARGS until it dumps core; return the core file's path.

    Uses the current core_pattern when it names a plain file (the core then
    lands in TMP_PATH, the child's cwd).  When it pipes to a helper, it is
    set to a file in TMP_PATH for the run and restored afterwards."""
    import resource
    pattern_file = pathlib.Path("/proc/sys/kernel/core_pattern")
    old = pattern_file.read_text()
    changed = False
    if old.startswith("|") or old.strip().startswith("/"):
        pattern_file.write_text(str(tmp_path / "core.%p") + "\n")
        changed = True

    def limits():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,
                                                  resource.RLIM_INFINITY))
    try:
        res = subprocess.run([str(binary(prog))] + [str(a) for a in args],
                             cwd=str(tmp_path), preexec_fn=limits,
                             capture_output=True, timeout=60)
    finally:
        if changed:
            pattern_file.write_text(old)
    assert res.returncode < 0, "the program did not crash: %r" % res
    cores = sorted(tmp_path.glob("core*"))
    assert cores, "no core file in %s (core_pattern %r)" % (tmp_path, old)
    return cores[0]
