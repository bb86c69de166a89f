"""Bad input and permissions: each is one line on stderr and a non-zero
exit, never a crash, a hang or a stopped target."""
import os
import re
import shutil
import subprocess

import pytest

from capture_util import EXAMPLES, corodbg, held


def one_line(r, code=1):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert lines and lines[0].startswith("corodbg: "), r.stderr
    return lines[0]


def test_help():
    r = corodbg("--help")
    assert r.stdout.startswith("Usage: corodbg COMMAND PID|CORE")
    assert "dump" in r.stdout and "leaks" in r.stdout
    assert corodbg("dump", "--help").stdout.startswith(
        "Usage: corodbg dump PID|CORE")
    assert corodbg("help", "leaks").stdout.startswith(
        "Usage: corodbg leaks PID|CORE")
    r = corodbg(check=False)
    assert r.returncode == 2 and r.stderr.startswith("Usage:")


@pytest.mark.parametrize("args,msg", [
    (["frobnicate", "1"], "unknown command 'frobnicate'"),
    (["dump"], "dump: which process or core?"),
    (["dump", "1", "--format", "xml"], "unknown format 'xml'"),
    (["dump", "1", "--depth", "0"], "--depth must be from 1 to 1024"),
    (["leaks", "1", "--min-age", "soon"], "bad duration 'soon'"),
    (["dump", "1", "--bogus"], "unknown option '--bogus'"),
    (["dump", "1", "2"], "unexpected argument '2'"),
    (["dump", "1", "--exe"], "--exe needs a value"),
])
def test_usage_errors(args, msg):
    r = corodbg(*args, check=False)
    assert r.returncode == 2
    assert r.stderr.splitlines()[0].startswith("corodbg: " + msg)


def test_no_such_process():
    assert one_line(corodbg("dump", "999999999", check=False)) == \
        "corodbg: no process 999999999"
    assert one_line(corodbg("dump", "4000000", check=False)) == \
        "corodbg: no process 4000000"


def test_no_table():
    p = subprocess.Popen(["sleep", "30"])
    try:
        line = one_line(corodbg("dump", p.pid, check=False))
    finally:
        p.kill()
        p.wait()
    assert line == ("corodbg: no coroutine table in process %d (symbol "
                    "corodbg_table and section .corodbg not found in any "
                    "module: is it linked with libcorodbg?)" % p.pid)


def test_not_a_core(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello\n")
    assert one_line(corodbg("dump", f, check=False)) == \
        "corodbg: %s: not a core file (and not a process id)" % f
    assert one_line(corodbg("dump", tmp_path / "nope", check=False)) == \
        "corodbg: %s: No such file or directory" % (tmp_path / "nope")


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    d = tmp_path_factory.mktemp("core")
    with held("leak") as pid:
        subprocess.run(["gcore", "-o", str(d / "core"), str(pid)],
                       capture_output=True, check=True, timeout=120)
    return d / ("core.%d" % pid)


def patched(core, tmp_path, offset, data):
    """A copy of CORE with DATA written OFFSET bytes after the table's
    magic (found in the core's bytes)."""
    raw = bytearray(core.read_bytes())
    at = raw.find(b"\x7fCORODBG\x01\x00")
    assert at > 0
    raw[at + offset:at + offset + len(data)] = data
    out = tmp_path / "patched.core"
    out.write_bytes(bytes(raw))
    return out


@pytest.mark.parametrize("offset,data,msg", [
    (8, b"\x09\x00", "table ABI version 9.1 is not supported (this corodbg "
                     "reads major 1): upgrade corodbg"),
    (0, b"\x7fNOTCORO", "bad magic 7f4e4f54434f524f: not a corodbg table"),
    (17, b"\x07", "bad byte_order 7 (expected 1 or 2)"),
    (12, b"\x00\x00", "bad desc_size 0"),
])
def test_corrupt_table_in_core(core, tmp_path, offset, data, msg):
    """The debuggers' one-line reasons (python/corodbg/core/decode.py)."""
    bad = patched(core, tmp_path, offset, data)
    assert one_line(corodbg("dump", bad, check=False)) == "corodbg: " + msg
    assert one_line(corodbg("leaks", bad, check=False)) == "corodbg: " + msg


def test_core_dump_still_works(core):
    out = corodbg("leaks", core).stdout
    assert out.startswith("3 blocked coroutines in 1 group")


def test_not_allowed():
    """nobody may not read a root process: one line naming why and what
    would allow it."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser")
    with held("leak") as pid:
        r = corodbg("dump", pid, user="nobody", check=False)
        line = one_line(r)
        st = open("/proc/%d/status" % pid).read()
    assert re.search(r"^State:\s+S", st, re.M)
    assert line.startswith("corodbg: not allowed to read process %d: it "
                           "belongs to uid 0 and you are uid " % pid), line
    for fix in ("CAP_SYS_PTRACE", "ptrace_scope", "PR_SET_PTRACER",
                "in-process endpoint"):
        assert fix in line


def test_docs_show_the_real_help():
    """docs/capture.md's --help transcripts are the tool's own output."""
    from capture_util import ROOT
    doc = (ROOT / "docs" / "capture.md").read_text()
    for args in (["--help"], ["dump", "--help"], ["leaks", "--help"],
                 ["watch", "--help"], ["profile", "--help"],
                 ["fetch", "--help"]):
        block = "```\n$ corodbg %s\n%s```\n" % (" ".join(args),
                                                corodbg(*args).stdout)
        assert block in doc, "update docs/capture.md for corodbg %s" % args
