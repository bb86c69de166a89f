"""A FIFO where corosym expects a file must not hang it in open() (issue
14 item 13): as a module path, as a debug-file candidate in a .build-id
tree, and as a pprof mapping's file name.  Each is opened O_NONBLOCK and
refused unless it is a regular file."""
import os

import pprof_fixture as pf
import pprof_wire
from symutil import run

TIMEOUT = 20   # a hang shows as subprocess.TimeoutExpired


def test_module_path_fifo(corosym, tmp_path):
    fifo = tmp_path / "mod"
    os.mkfifo(fifo)
    r = run([corosym, "--no-cache", "--no-default-debug-dir", "-e", fifo,
             "0x1000"], check=False, timeout=TIMEOUT)
    assert r.returncode != 0 or "??" in r.stdout
    assert "'%s': not a regular file" % fifo in r.stderr, r.stderr


def test_debug_file_candidate_fifo(corosym, tmp_path):
    bid = "ab" * 20
    d = tmp_path / "dbg" / ".build-id" / bid[:2]
    d.mkdir(parents=True)
    os.mkfifo(d / (bid[2:] + ".debug"))
    r = run([corosym, "--no-cache", "--no-default-debug-dir",
             "--no-debuginfod", "--debug-dir", tmp_path / "dbg",
             "BUILDID:%s 0x10" % bid], check=False, timeout=TIMEOUT)
    assert "??" in r.stdout, r.stdout
    assert "not a regular file" in r.stderr, r.stderr


def test_pprof_mapping_filename_fifo(tmp_path):
    fifo = tmp_path / "libfifo.so"
    os.mkfifo(fifo)
    b = pprof_wire.Builder()
    m = b.mapping(0x400000, 0x500000, 0, str(fifo))
    b.sample([b.location(m, 0x401000)], [1])
    raw, out = tmp_path / "raw.pb", tmp_path / "out.pb.gz"
    b.write(raw, compress=False)
    r = run(pf.corosym_pprof() + [raw, "-o", out, "--no-default-debug-dir",
                                  "--no-debuginfod", "--no-cache"],
            check=False, timeout=TIMEOUT)
    assert "not a regular file" in r.stderr, r.stderr
    assert "1 missing" in r.stderr, r.stderr
