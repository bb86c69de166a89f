"""Fixtures for the LLDB front-end tests: the test program, its marked
lines, a batch-mode LLDB runner that splits the transcript per command,
and core files (kernel and gcore) made once per session."""
import resource
import shutil
import signal
import subprocess

import pytest

from lldbutil import LLDB, Transcript, lldb_env


def pytest_collection_modifyitems(config, items):
    if LLDB is None:
        skip = pytest.mark.skip(reason="lldb-19 is not installed "
                                "(scripts/install-deps.sh installs it)")
        for item in items:
            if "tests/lldb" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def lldb_dir(root):
    return root / "lldb"


def _built(build, name):
    p = build / "lldb" / name
    if not p.exists():
        pytest.fail("%s is missing: run make (lldb/lldb.mk builds it)" % p)
    return p


@pytest.fixture(scope="session")
def prog(build):
    return _built(build, "lldbprog")


@pytest.fixture(scope="session")
def stripped(build):
    return _built(build, "lldbprog-stripped")


@pytest.fixture(scope="session")
def run_lldb(lldb_dir):
    """run_lldb(commands, plugin=True, timeout=60) -> Transcript."""
    def run(commands, plugin=True, timeout=90, env=None):
        args = [LLDB, "--no-lldbinit", "-b"]
        pre = []
        if plugin:
            pre.append("command script import %s"
                       % (lldb_dir / "corodbg_lldb.py"))
        for c in pre + list(commands):
            args += ["-o", c]
        p = subprocess.run(args, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, env=env or lldb_env(),
                           stdin=subprocess.DEVNULL)
        assert "Traceback" not in p.stdout, p.stdout
        return Transcript(p.stdout, p.returncode)
    return run


def _core_limit():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,
                                              resource.RLIM_INFINITY))


def _kernel_core(prog, d, mode, signo):
    """Run `lldbprog MODE` in D until it dies of SIGNO; its core's path.

    Needs core_pattern to write a file into the working directory (the
    Debian default 'core'); otherwise the tests that use it skip."""
    pattern = open("/proc/sys/kernel/core_pattern").read().strip()
    if pattern.startswith("|"):
        pytest.skip("kernel core files go to a helper (%s), not to a file"
                    % pattern)
    p = subprocess.run([str(prog), mode], cwd=d, preexec_fn=_core_limit,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=30)
    assert p.returncode == -signo
    cores = sorted(d.glob("core*"))
    if not cores:
        pytest.skip("no kernel core written (core_pattern %r)" % pattern)
    return cores[0]


@pytest.fixture(scope="session")
def kernel_core(prog, tmp_path_factory):
    """A kernel core of `lldbprog crash` (SIGSEGV inside coroutine 7)."""
    return _kernel_core(prog, tmp_path_factory.mktemp("kcore"), "crash",
                        signal.SIGSEGV)


@pytest.fixture(scope="session")
def abort_core(prog, tmp_path_factory):
    """A kernel core of `lldbprog abort` (abort() inside coroutine 7)."""
    return _kernel_core(prog, tmp_path_factory.mktemp("acore"), "abort",
                        signal.SIGABRT)


@pytest.fixture(scope="session")
def gcore(prog, tmp_path_factory):
    """A gcore (GDB's) of `lldbprog sleep 2`: six parked coroutines and two
    running ones on their own threads."""
    if shutil.which("gcore") is None:
        pytest.skip("gcore (package gdb) is not installed")
    d = tmp_path_factory.mktemp("gcore")
    proc = subprocess.Popen([str(prog), "sleep", "2"], stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("ready "), line
        out = d / "sleep.core"
        subprocess.run(["gcore", "-o", str(d / "sleep"), str(proc.pid)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60, check=True)
        got = d / ("sleep.%d" % proc.pid)
        got.rename(out)
        return out
    finally:
        proc.kill()
        proc.wait()
