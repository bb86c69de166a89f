"""The crash handler changes nothing about how a program dies or recovers.

runtime-hooks/tests/programs/chain.c is built with libcorodbg (chain) and
without it (chain-plain).  For each handler the program may have had and
each way of crashing, both must end alike: exit status or signal, whether
a core was written, the core's siginfo (si_signo, si_code, and si_addr
for a fault or the sender's pid for a sent signal), and what the
program's handler saw (mask, disposition, stack)."""
import glob
import os
import resource
import struct
import subprocess

import pytest

NT_SIGINFO = 0x53494749
SI_TKILL = -6
SEGV_MAPERR = 1

HANDLERS = ["none", "ign", "plain", "resethand", "nodefer", "onstack",
            "backward", "longjmp"]
TRIGGERS = ["segv", "abort", "overflow"]


CORE_PATTERN = "/proc/sys/kernel/core_pattern"


@pytest.fixture(autouse=True)
def cores_in_cwd():
    """Cores must land in the program's directory.  When core_pattern
    pipes them to a helper (systemd-coredump, apport) or another
    directory, set it to 'core' for the test if we may (root), as
    tests/gdb/gdbdriver.py's kernel_core does; else core_setup() says
    why the test skips."""
    with open(CORE_PATTERN) as f:
        old = f.read()
    changed = False
    if (old.startswith("|") or "/" in old) and os.access(CORE_PATTERN,
                                                         os.W_OK):
        with open(CORE_PATTERN, "w") as f:
            f.write("core\n")
        changed = True
    try:
        yield
    finally:
        if changed:
            with open(CORE_PATTERN, "w") as f:
                f.write(old)


def core_setup():
    """How to find a core in the run directory, or why we cannot."""
    with open(CORE_PATTERN) as f:
        pattern = f.read().strip()
    if pattern.startswith("|"):
        return None, ("cores go to a pipe (%s), e.g. systemd-coredump or "
                      "apport, and we may not change core_pattern: set "
                      "it to 'core' to run these tests" % pattern.split()[0])
    if "/" in pattern:
        return None, ("cores go to another directory (core_pattern %r) and "
                      "we may not change it; these tests look in the "
                      "program's directory" % pattern)
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    if hard != resource.RLIM_INFINITY and hard < 1 << 20:
        return None, "RLIMIT_CORE hard limit is %d bytes" % hard
    return pattern, None


def allow_cores():
    resource.setrlimit(resource.RLIMIT_CORE,
                       (resource.getrlimit(resource.RLIMIT_CORE)[1],) * 2)


def core_siginfo(path):
    """(si_signo, si_code, 8 union bytes as int) from an ELF core's notes."""
    data = open(path, "rb").read()
    assert data[:4] == b"\x7fELF" and data[4] == 2, "not an ELF64 core"
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ptype, _, off, _, _, filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if ptype != 4:  # PT_NOTE
            continue
        pos, end = off, off + filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            desc = pos + 12 + (namesz + 3) // 4 * 4
            if ntype == NT_SIGINFO:
                signo, _, code = struct.unpack_from("<iii", data, desc)
                union, = struct.unpack_from("<Q", data, desc + 16)
                return signo, code, union
            pos = desc + (descsz + 3) // 4 * 4
    raise AssertionError("no NT_SIGINFO note in %s" % path)


def run(build, tmp_path, variant, handler, trigger):
    """Run one build; return everything a comparison needs."""
    pattern, why = core_setup()
    if why:
        pytest.skip(why)
    cwd = tmp_path / variant
    cwd.mkdir()
    exe = build / "runtime-hooks" / "programs" / variant
    argv = [str(exe), handler, trigger]
    if trigger == "overflow":
        # The fault address of an overflow is just below the stack limit:
        # the same page in both builds once the stack is not randomized.
        argv = ["setarch", "-R"] + argv
    proc = subprocess.Popen(argv, cwd=str(cwd),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=allow_cores)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("%s %s %s hung (handler re-entered forever?)"
                             % (variant, handler, trigger))
    cores = glob.glob(str(cwd / pattern.replace("%p", str(proc.pid))
                          .replace("%", "*")) + "*")
    siginfo = None
    if cores:
        signo, code, union = core_siginfo(cores[0])
        if code > 0:  # a fault: si_addr (its page for an overflow)
            sender = union >> 12 if trigger == "overflow" else union
        else:  # sent: si_pid must be the process itself
            sender = "self" if union & 0xffffffff == proc.pid else union
        siginfo = (signo, code, sender)
    lines = out.decode().splitlines()
    return {"status": proc.returncode, "core": bool(cores),
            "siginfo": siginfo,
            "output": [l for l in lines if not l.startswith("corodbg:")],
            }, [l for l in lines if l.startswith("corodbg:")], err.decode()


@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("handler", HANDLERS)
def test_dies_or_recovers_as_without_libcorodbg(build, tmp_path, handler,
                                                trigger):
    plain, _, _ = run(build, tmp_path, "chain-plain", handler, trigger)
    with_hooks, _, err = run(build, tmp_path, "chain", handler, trigger)
    assert with_hooks == plain, err


@pytest.mark.parametrize("handler, trigger, expected", [
    # The reference itself, so a comparison of two wrong runs cannot pass.
    ("none", "segv", (-11, (11, SEGV_MAPERR, 0x10))),
    ("none", "abort", (-6, (6, SI_TKILL, "self"))),
    ("backward", "segv", (-11, (11, SI_TKILL, "self"))),
    ("resethand", "segv", (-11, (11, SEGV_MAPERR, 0x10))),
    ("ign", "segv", (-11, (11, SEGV_MAPERR, 0x10))),
])
def test_the_reference_dies_as_expected(build, tmp_path, handler, trigger,
                                        expected):
    got, _, _ = run(build, tmp_path, "chain", handler, trigger)
    assert (got["status"], got["siginfo"]) == expected
    assert got["core"]


def test_a_fault_inside_the_crash_handler_keeps_the_signal(build, tmp_path):
    # The coroutine's entry is read-only: recording the abort faults.
    got, _, err = run(build, tmp_path, "chain", "none", "badentry")
    assert (got["status"], got["core"]) == (-6, True), err
    assert got["siginfo"] == (6, SI_TKILL, "self")


@pytest.mark.parametrize("trigger", ["segv", "abort"])
def test_recovered_coroutine_is_live_again(build, tmp_path, trigger):
    got, corodbg_lines, err = run(build, tmp_path, "chain", "longjmp",
                                  trigger)
    assert got["status"] == 0, err
    # Still CRASHED (6) right after the siglongjmp: nothing ran yet that
    # says it survived.  Its next block is accepted (0, BLOCKED = 3) and
    # the crash is no longer the one a core would name.
    assert corodbg_lines == [
        "corodbg: state after recovery 6 crashed_id 1",
        "corodbg: block 0 state 3",
        "corodbg: after switch state 3 crashed_id 0",
    ]
