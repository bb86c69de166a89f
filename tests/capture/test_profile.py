"""`corodbg profile`: a CPU profile whose samples are labelled with the
coroutine running on the thread; the user's story's second half (a
stripped CPU-bound program profiled by its own non-root user, symbolized
elsewhere with only the debug file, read with go tool pprof)."""
import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from capture_util import BUILD, CORODBG, corodbg
import pprof_wire  # noqa: E402 (tests/symbolizer)
import pprof_fixture as pf  # noqa: E402

CPUBURN = BUILD / "capture" / "tests" / "cpuburn"
GO = shutil.which("go") or "/usr/bin/go"


def sample_labels(raw):
    """[(value list, {key: str or num})] per sample, from the wire."""
    prof = pprof_wire.Profile(raw)
    out = []
    for field, _, val in pprof_wire._fields(gzip.decompress(raw)):
        if field != 2:
            continue
        labs, vals = {}, []
        for f, w, v in pprof_wire._fields(val):
            if f == 2:
                vals += pprof_wire._ints(w, v)
            elif f == 3:
                lab = dict((lf, lv) for lf, _, lv in pprof_wire._fields(v))
                key = prof.str(lab.get(1, 0))
                labs[key] = prof.str(lab[2]) if lab.get(2) else lab.get(3, 0)
        out.append((vals, labs))
    return prof, out


def start(cmd, **kw):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                         start_new_session=True, **kw)
    line = p.stdout.readline()
    assert line.startswith("ready "), line
    return p, int(line.split()[1])


def test_labels_name_the_cpu_bound_coroutine(tmp_path):
    assert CPUBURN.exists(), "make testbin builds it"
    p, pid = start([str(CPUBURN)])
    try:
        ids = {c["name"]: c["id"] for c in json.loads(
            corodbg("dump", pid, "--format", "json").stdout)["coroutines"]}
        out = tmp_path / "cpu.pb.gz"
        r = corodbg("profile", pid, "--seconds", "2", "-o", out)
    finally:
        p.kill()
        p.wait()
    assert re.match(r"corodbg: \d+ samples from 1 thread in 2\.\d s",
                    r.stderr), r.stderr
    prof, samples = sample_labels(out.read_bytes())
    assert prof.sample_types == [("samples", "count"),
                                 ("cpu", "nanoseconds")]
    total = sum(v[0] for v, _ in samples)
    assert 50 <= total <= 260, total
    for v, _ in samples:
        assert v[1] == v[0] * 10**7          # 100 Hz: 10 ms per sample
    hasher = [(v, l) for v, l in samples if l.get("coroutine") == "hasher"]
    assert sum(v[0] for v, _ in hasher) > total * 0.8
    assert all(l["coroutine_id"] == ids["hasher"] for _, l in hasher)
    names = set()
    for (locs, _), (_, l) in zip(prof.samples, samples):
        if l.get("coroutine") == "hasher":
            names.update(f[0] for lid in locs for f in prof.frames(lid))
    assert {"hash_block", "hasher"} <= names


def test_profile_errors(tmp_path):
    r = corodbg("profile", "1", "--hz", "0", "-o", tmp_path / "x",
                check=False)
    assert r.returncode == 2 and "--hz must be from 1 to 10000" in r.stderr
    p = subprocess.Popen(["sleep", "30"])
    try:
        r = corodbg("profile", p.pid, "-o", tmp_path / "x", check=False)
    finally:
        p.kill()
        p.wait()
    assert r.returncode == 1
    assert r.stderr.startswith("corodbg: no coroutine table in process")


def test_users_story_cpu_profile(tmp_path):
    """Stripped, run and profiled as nobody, moved, symbolized with only
    the debug file, read with go tool pprof: the labels name the worker."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root (to run the program as nobody)")
    top = tempfile.mkdtemp(prefix="corodbg-prof-")
    try:
        os.chmod(top, 0o777)
        exe = os.path.join(top, "cpuburn")
        subprocess.run(["strip", "--strip-all", "-o", exe, str(CPUBURN)],
                       check=True)
        os.chmod(exe, 0o755)
        shutil.copy(CORODBG, os.path.join(top, "corodbg"))
        bid = re.search(r"Build ID: ([0-9a-f]+)", subprocess.run(
            ["readelf", "-n", exe], capture_output=True, text=True).stdout
        ).group(1)
        dev = tmp_path / "dev"
        dbg = dev / "debug" / ".build-id" / bid[:2]
        dbg.mkdir(parents=True)
        subprocess.run(["objcopy", "--only-keep-debug", str(CPUBURN),
                        str(dbg / (bid[2:] + ".debug"))], check=True)
        raw = os.path.join(top, "cpu.pb.gz")
        p, pid = start(["runuser", "-u", "nobody", "--", exe])
        try:
            r = subprocess.run(["runuser", "-u", "nobody", "--",
                                os.path.join(top, "corodbg"), "profile",
                                str(pid), "--seconds", "2", "-o", raw],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
        finally:
            os.killpg(p.pid, 9)
            p.wait()
        moved = dev / "cpu.pb.gz"
        shutil.move(raw, moved)
        out = dev / "sym.pb.gz"
        r = subprocess.run(pf.corosym_pprof() + [
            str(moved), "-o", str(out), "--debug-dir", str(dev / "debug"),
            "--no-default-debug-dir", "--no-debuginfod", "--no-cache"],
            capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        r = subprocess.run([GO, "tool", "pprof", "-traces", "-lines",
                            str(out)], capture_output=True, text=True,
                           env=pf.go_env(tmp_path), timeout=300)
        assert r.returncode == 0, r.stderr
        assert re.search(r"^ coroutine:  hasher\n(?:.*\n)*? +\S+ +hash_block "
                         r"\S+/capture/tests/cpuburn.c:\d+$", r.stdout,
                         re.M), r.stdout[:3000]
    finally:
        shutil.rmtree(top, ignore_errors=True)
