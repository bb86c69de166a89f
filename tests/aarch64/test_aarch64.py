"""aarch64 end to end: cross-built examples run under qemu-aarch64 and are
debugged through qemu's gdbstub by gdb-multiarch and lldb-19, and from
qemu's core files.

make test builds build/examples/aarch64/{server,panic,segv-nopie} against
the aarch64 runtime and hooks (examples/examples.mk).  These check what a
user of an aarch64 service sees: the listing, `bt` of parked coroutines,
-group user, leaks, panic-catch and the crashed coroutine of a core.
"""
import os
import pathlib
import re
import resource
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "gdb"))
from gdbdriver import free_port, listing, run_gdb  # noqa: E402

BIN = ROOT / "build" / "examples" / "aarch64"
SYSROOT = "/usr/aarch64-linux-gnu"
LOADER = ROOT / "gdb" / "corodbg-gdb.py"
LLDB_LOADER = ROOT / "lldb" / "corodbg_lldb.py"

# The five wait sites of examples/server.c, 20 coroutines each for 100.
SITES = ["idle_timeout at server.c:56", "lock_db at server.c:68",
         "send_response at server.c:49", "wait_drain at server.c:62",
         "wait_request at server.c:42"]
GROUP_USER = ["   20  %s  [" % s for s in SITES]


def binary(name):
    path = BIN / name
    assert path.exists(), "%s not built: run make test" % path
    return path


def _listening(port):
    """True when something listens on PORT.  Not by connecting: qemu's
    gdbstub serves the first connection only."""
    want = ":%04X" % port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = pathlib.Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for ln in lines:
            f = ln.split()
            if f[1].endswith(want) and f[3] == "0A":
                return True
    return False


class Qemu:
    """PROG ARGS under qemu-aarch64, stopped at exec with a gdbstub."""

    def __init__(self, prog, *args):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["qemu-aarch64", "-L", SYSROOT, "-g", str(self.port),
             str(binary(prog))] + [str(a) for a in args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            assert self.proc.poll() is None, "qemu-aarch64 exited"
            assert time.monotonic() < deadline, "qemu's gdbstub never listened"
            time.sleep(0.02)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def gdb_multiarch(prog, commands, core=None):
    pre = ["set sysroot %s" % SYSROOT, "source %s" % LOADER,
           "file %s" % binary(prog)]
    if core:
        pre.append("core-file %s" % core)
    return run_gdb(pre + commands, source=False, target=[],
                   gdb="gdb-multiarch")


def test_server_with_workers_over_gdbstub():
    with Qemu("server", 100, 2) as q:
        out = gdb_multiarch("server", [
            "target remote 127.0.0.1:%d" % q.port,
            "break example_checkpoint", "continue",
            "info coroutines", "info coroutines -group user",
            "coroutine 5 bt", "coroutine leaks", "kill"])
    rows = listing(out)
    assert len(rows) == 101
    assert rows[1][:2] == ("*", "running")
    assert all(rows[i][1] == "blocked" for i in range(2, 102))
    assert "Total: 101 coroutines (1 running, 100 blocked)." in out
    for line in GROUP_USER:
        assert line in out, out
    assert re.search(r"#\d  0x[0-9a-f]+ in wait_drain \(c=0x[0-9a-f]+\) at "
                     r"\S*examples/server.c:62", out), out
    assert re.search(r"#\d  0x[0-9a-f]+ in connection \(arg=0x4\) at ", out)
    assert "100 blocked coroutines in 5 groups" in out
    for site in SITES:
        assert "waiting at  %s" % site in out


def test_panic_catch_over_gdbstub():
    with Qemu("panic") as q:
        out = gdb_multiarch("panic", [
            "target remote 127.0.0.1:%d" % q.port,
            "catch coroutine panic", "continue", "info locals", "kill"])
    assert ('Catchpoint 1 (coroutine panic): coroutine 3 "worker-3" '
            'panicked: request 42: invalid Content-Length -1 (limit 65536)'
            in out), out
    assert re.search(r"#4  0x[0-9a-f]+ in check_content_length ", out)
    assert re.search(r"^content_length = -1$", out, re.M)


@pytest.fixture(scope="module")
def qemu_core(tmp_path_factory):
    """The core qemu-user writes for segv-nopie.  qemu writes its own
    (qemu_PROG_DATE-PID.core, in the cwd) whatever the kernel's
    core_pattern says; it needs RLIMIT_CORE."""
    tmp = tmp_path_factory.mktemp("qemu-core")

    def unlimited():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,) * 2)
    p = subprocess.run(["qemu-aarch64", "-L", SYSROOT,
                        str(binary("segv-nopie"))], cwd=str(tmp),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       preexec_fn=unlimited, timeout=60)
    assert p.returncode == -11, p.returncode
    cores = list(tmp.glob("qemu_segv-nopie_*.core"))
    assert len(cores) == 1, os.listdir(str(tmp))
    return cores[0]


def test_qemu_core_names_the_crashed_coroutine(qemu_core):
    out = gdb_multiarch("segv-nopie", ["info coroutines", "coroutine crashed",
                                       "coroutine 1 bt"], core=qemu_core)
    assert ('[corodbg] Coroutine 3 "parser-2" crashed: SIGSEGV, fault '
            'address 0x38.') in out
    rows = listing(out)
    assert rows[3][:2] == ("*", "crashed")
    assert re.search(r"^#0  read_field \(rec=0x[0-9a-f]+, field_index=7\) "
                     r"at \S*examples/segv.c:40$", out, re.M), out
    assert re.search(r"#\d  0x[0-9a-f]+ in collector \(arg=0x0\) at "
                     r"\S*examples/segv.c:82", out), out


def lldb(commands):
    if subprocess.run(["which", "lldb-19"], stdout=subprocess.DEVNULL
                      ).returncode != 0:
        pytest.skip("lldb-19 is not installed (make deps installs it)")
    cmd = ["lldb-19", "-b", "--no-lldbinit"]
    for c in commands:
        cmd += ["-o", c]
    out = subprocess.run(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True,
                         timeout=120, stdin=subprocess.DEVNULL).stdout
    assert "Traceback" not in out, out
    return out


def test_lldb_reads_the_qemu_core(qemu_core):
    out = lldb(["target create %s --core %s" % (binary("segv-nopie"),
                                                qemu_core),
                "command script import %s" % LLDB_LOADER,
                "coroutine list", "thread list", "thread select 2", "bt"])
    assert re.search(r"^\* 3  crashed +0s +parser-2 +read_field at "
                     r"segv.c:40$", out, re.M), out
    assert ("name = 'coro 3 parser-2 [crashed: SIGSEGV, fault address "
            "0x38] on thread") in out
    assert re.search(r"frame #\d: 0x[0-9a-f]+ segv-nopie`collector\("
                     r"arg=0x0+\) at segv.c:82", out), out


def test_lldb_over_gdbstub():
    with Qemu("server", 100, 2) as q:
        out = lldb(["target create --arch aarch64 %s" % binary("server"),
                    "gdb-remote 127.0.0.1:%d" % q.port,
                    "command script import %s" % LLDB_LOADER,
                    "b example_checkpoint", "c",
                    "coroutine list -group user",
                    "coroutine select 5", "bt",
                    "coroutine leaks", "kill"])
    for line in GROUP_USER:
        assert line in out, out
    assert re.search(r"frame #\d: 0x[0-9a-f]+ server`wait_drain\(c=0x[0-9a-f]+"
                     r"\) at server.c:62", out), out
    assert "100 blocked coroutines in 5 groups" in out
    for site in SITES:
        assert "waiting at  %s" % site in out
