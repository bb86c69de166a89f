"""Helpers for the capture tool's tests: held example processes, running
`corodbg`, GDB on the same process."""
import contextlib
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
BUILD = ROOT / "build"
CORODBG = BUILD / "capture" / "corodbg"
EXAMPLES = BUILD / "examples"
LOADER = ROOT / "gdb" / "corodbg-gdb.py"
sys.path.insert(0, str(ROOT / "tests" / "symbolizer"))


def need(path):
    assert path.exists(), "%s not built: run make testbin" % path
    return path


@contextlib.contextmanager
def held(prog, *args, user=None, env=None, timeout=60):
    """Run build/examples/PROG ARGS with EXAMPLE_HOLD=1 (optionally as
    USER through runuser) until it waits in example_checkpoint; yields
    its pid; kills it at the end."""
    cmd = [str(need(EXAMPLES / prog))] + [str(a) for a in args]
    e = dict(os.environ, EXAMPLE_HOLD="1")
    e.update(env or {})
    if user is not None:
        cmd = ["runuser", "-u", user, "--"] + cmd
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=e, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        pid = None
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                raise AssertionError("%s exited: %s" % (prog, p.stderr.read()))
            if line.startswith("holding at example_checkpoint"):
                pid = int(line.split("pid ")[1].rstrip(")\n"))
                break
        assert pid, "%s never reached example_checkpoint" % prog
        yield pid
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=30)


def corodbg(*args, user=None, check=True, timeout=120):
    """Run corodbg ARGS; as USER (runuser) from a copy in a directory USER
    can reach: the build tree may lie under a home only root can enter
    (a clean clone in /root, as on a fresh machine)."""
    exe = str(need(CORODBG))
    tmp = None
    if user is not None:
        tmp = tempfile.mkdtemp(prefix="corodbg-as-%s-" % user)
        os.chmod(tmp, 0o755)
        exe = os.path.join(tmp, "corodbg")
        shutil.copy(str(CORODBG), exe)
    cmd = [exe] + [str(a) for a in args]
    if user is not None:
        cmd = ["runuser", "-u", user, "--"] + cmd
    try:
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    assert "Traceback" not in r.stderr
    if check:
        assert r.returncode == 0, (r.returncode, r.stderr)
    return r


def gdb_attach(pid, commands, timeout=120, pre=()):
    """GDB attached to PID, runs COMMANDS (corodbg loaded), detaches.
    PRE: settings before the attach (-iex)."""
    cmd = ["gdb", "-nx", "-q", "-batch", "-iex", "set auto-load safe-path /"]
    for c in pre:
        cmd += ["-iex", c]
    cmd += ["-ex", "source %s" % LOADER, "-p", str(pid)]
    for c in commands:
        cmd += ["-ex", c]
    cmd += ["-ex", "detach"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, LC_ALL="C"),
                       stdin=subprocess.DEVNULL)
    assert "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr
    return r.stdout


def leak_groups(text):
    """`coroutine leaks` text -> [(count, reason, created, waiting)]; the
    ages and sample ids are left out (they change between two reads)."""
    out, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        line = line.strip()
        if " blocked on " in line and "oldest" in line:
            count, rest = line.split(None, 1)
            reason = rest[len("blocked on "):rest.index(", oldest")]
            created = lines[i + 1].strip()
            waiting = lines[i + 2].strip()
            assert created.startswith("created at") and \
                waiting.startswith("waiting at"), text
            out.append((int(count), reason, created, waiting))
    return out


def unsigned_main(groups):
    """GROUPS with C++'s main named "main": GDB prints "main(int, char**)"
    (the types of a function without a linkage name, from DWARF);
    corodbg, like llvm-symbolizer, says "main".  A known difference in
    creation sites (docs/capture.md); wait sites are compared as they
    are."""
    return [(n, r, re.sub(r"\bmain\([^)]*\)", "main", c), w)
            for n, r, c, w in groups]


def summary(text):
    for line in text.splitlines():
        if "blocked coroutine" in line and "group" in line:
            return line.strip()
    return None


def gdb_leaks_and_core(args, stop, core, env=(), command="coroutine leaks"):
    """GDB's COMMAND output at a break on STOP in ARGS, and a core
    written there."""
    cmd = ["gdb", "-nx", "-q", "-batch", "-iex", "set auto-load safe-path /"]
    for e in env:
        cmd += ["-iex", "set environment %s" % e]
    cmd += ["-ex", "source %s" % LOADER, "-ex", "break %s" % stop,
            "-ex", "run", "-ex", "echo <<<leaks>>>\\n",
            "-ex", command, "-ex", "echo <<<end>>>\\n",
            "-ex", "generate-core-file %s" % core, "-ex", "kill",
            "--args"] + [str(a) for a in args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                         env=dict(os.environ, LC_ALL="C"),
                         stdin=subprocess.DEVNULL).stdout
    assert "<<<end>>>" in out and core.exists(), out
    return out.split("<<<leaks>>>\n", 1)[1].split("<<<end>>>", 1)[0]
