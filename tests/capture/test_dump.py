"""`corodbg dump` on live processes and cores: every format, the running
coroutine's thread stopped briefly and released, cores with --exe."""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from capture_util import EXAMPLES, corodbg, held
import pprof_wire  # noqa: E402 (tests/symbolizer, put on the path above)

USER_SITES = {"wait_request", "send_response", "idle_timeout", "wait_drain",
              "lock_db"}


def build_id(path):
    out = subprocess.run(["readelf", "-n", str(path)], capture_output=True,
                         text=True, check=True).stdout
    return re.search(r"Build ID: ([0-9a-f]+)", out).group(1)


@pytest.fixture(scope="module")
def server():
    with held("server", 200) as pid:
        yield pid


def test_text(server):
    out = corodbg("dump", server).stdout
    heads = re.findall(r"^coroutine (\d+) \"([^\"]*)\" \[([^\]]*)\]:$", out,
                       re.M)
    assert len(heads) == 201
    assert heads[0] == ("1", "acceptor", heads[0][2])
    assert heads[0][2].startswith("running, thread ")
    # the running coroutine was unwound from its stopped thread
    block1 = out.split("\n\n")[0]
    assert "example_checkpoint()" in block1 and "acceptor()" in block1
    assert re.search(r"^coroutine 2 \"conn-1\" \[blocked, chan receive, "
                     r"[0-9.]+m?s\]:\nrecv\(\)\n\t\S+/runtime/src/chan.c:\d+\n"
                     r"corort_chan_recv\(\)\n\t\S+chan.c:\d+\n"
                     r"wait_request\(\)\n\t\S+/examples/server.c:42\n", out,
                     re.M), out[:2000]
    assert out.count("created by acceptor in coroutine 1\n") == 200
    # server 200 (no workers): its one thread runs the acceptor
    assert "201 coroutines\n1 thread, 0 running no coroutine\nmodules:\n" \
        in out
    exe = str(EXAMPLES / "server")
    assert "  %s 0x" % exe in out and build_id(EXAMPLES / "server") in out


def test_threads_are_left_running(server):
    corodbg("dump", server)
    for tid in os.listdir("/proc/%d/task" % server):
        st = open("/proc/%d/task/%s/status" % (server, tid)).read()
        assert re.search(r"^State:\s+S", st, re.M), st
        assert re.search(r"^TracerPid:\s+0$", st, re.M), st


def test_grouped(server):
    out = corodbg("dump", server, "--format", "grouped").stdout
    assert out.startswith("coroutine profile: total 201\n")
    counts = [int(c) for c in re.findall(r"^(\d+) @ ", out, re.M)]
    assert counts == [40, 40, 40, 40, 40, 1]
    states = re.findall(r"^# (blocked \([a-z ]+\)|running): (\d+)$", out, re.M)
    assert sorted(s for s, _ in states) == [
        "blocked (chan receive)", "blocked (chan send)", "blocked (mutex)",
        "blocked (sleep)", "blocked (waitgroup)", "running"]
    for site in USER_SITES:
        assert re.search(r"^#\t0x[0-9a-f]+\t%s\t\S+server.c:\d+$" % site,
                         out, re.M)


def test_json(server):
    d = json.loads(corodbg("dump", server, "--format", "json").stdout)
    assert d["pid"] == server and d["runtime"] == "corort"
    assert d["threads_stopped"] == 1 and 0 < d["max_stall_ns"] < 10**9
    cos = d["coroutines"]
    assert len(cos) == 201 and cos[0]["state"] == "running"
    by_fn = {}
    for c in cos[1:]:
        fns = [f["function"] for f in c["frames"]]
        user = [f for f in fns if f in USER_SITES]
        assert len(user) == 1, fns
        by_fn.setdefault(user[0], set()).add(c["wait"])
        assert c["age_ns"] >= 0 and c["state"] == "blocked"
    assert by_fn == {"wait_request": {"chan receive"},
                     "send_response": {"chan send"},
                     "idle_timeout": {"sleep"}, "wait_drain": {"waitgroup"},
                     "lock_db": {"mutex"}}
    mods = {m["path"]: m["build_id"] for m in d["modules"]}
    assert mods[str(EXAMPLES / "server")] == build_id(EXAMPLES / "server")


def labels(prof_bytes):
    """Sample labels (key, str) per sample, from the wire."""
    import gzip
    data = gzip.decompress(prof_bytes)
    prof = pprof_wire.Profile(prof_bytes)
    out = []
    for field, _, val in pprof_wire._fields(data):
        if field != 2:
            continue
        labs = {}
        for f, _, v in pprof_wire._fields(val):
            if f == 3:
                lab = dict((lf, lv) for lf, _, lv in pprof_wire._fields(v))
                labs[prof.str(lab.get(1, 0))] = prof.str(lab.get(2, 0))
        out.append(labs)
    return out


def test_pprof(server, tmp_path):
    path = tmp_path / "co.pb.gz"
    corodbg("dump", server, "--format", "pprof", "-o", path)
    raw = path.read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    p = pprof_wire.Profile(raw)
    assert p.sample_types == [("coroutines", "count")]
    assert sum(v[0] for _, v in p.samples) == 201
    assert sorted(v[0] for _, v in p.samples) == [1, 40, 40, 40, 40, 40]
    labs = labels(raw)
    assert sorted(l.get("wait", "") for l in labs) == [
        "", "chan receive", "chan send", "mutex", "sleep", "waitgroup"]
    assert all(l["state"] in ("blocked", "running") for l in labs)
    for m in p.mappings.values():
        assert re.fullmatch(r"[0-9a-f]{40}", m["build_id"]), m
    exe = [m for m in p.mappings.values()
           if m["filename"] == str(EXAMPLES / "server")][0]
    assert exe["has_functions"] and exe["has_line_numbers"]
    names = set()
    for locs, _ in p.samples:
        for lid in locs:
            names.update(f[0] for f in p.frames(lid))
    assert USER_SITES <= names and "acceptor" in names


def test_stripped_no_symbols(tmp_path):
    with held("server-stripped", 20) as pid:
        out = corodbg("dump", pid).stdout
        nosym = corodbg("dump", pid, "--no-symbolize").stdout
    exe = str(EXAMPLES / "server-stripped")
    assert re.search(r"^\?\?\(\)\n\t%s\+0x[0-9a-f]+$" % re.escape(exe), out,
                     re.M)
    assert "build-id %s" % build_id(EXAMPLES / "server") in out
    assert nosym.count("??()") >= out.count("??()")


def gcore(pid, path):
    r = subprocess.run(["gcore", "-o", str(path), str(pid)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return pathlib_first(path, pid)


def pathlib_first(path, pid):
    p = "%s.%d" % (path, pid)
    assert os.path.exists(p), p
    return p


def test_core_same_as_live(tmp_path):
    with held("server", 100) as pid:
        live = corodbg("dump", pid, "--format", "grouped").stdout
        core = gcore(pid, tmp_path / "core")
    dead = corodbg("dump", core, "--format", "grouped").stdout

    def shape(text):
        return re.findall(r"^(?:\d+ @|# [a-z].*|#\t.*)$", text, re.M)
    # the same groups, counts, states and frames (gcore stopped the running
    # thread elsewhere: compare the parked ones)
    assert [s for s in shape(dead) if "running" not in s][:30] == \
        [s for s in shape(live) if "running" not in s][:30]
    assert dead.startswith("coroutine profile: total 101\n")


def test_core_with_moved_exe(tmp_path):
    """A core of a stripped program whose executable moved: --exe."""
    with held("server-stripped", 30) as pid:
        core = gcore(pid, tmp_path / "core")
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.copy(EXAMPLES / "server-stripped", moved / "server-stripped")
    # the core names build/examples/server-stripped; pretend it is gone by
    # giving the copy explicitly
    r = corodbg("dump", core, "--exe", moved / "server-stripped",
                "--format", "json")
    d = json.loads(r.stdout)
    assert len(d["coroutines"]) == 31
    paths = [m["path"] for m in d["modules"]]
    assert str(moved / "server-stripped") in paths
    blocked = [c for c in d["coroutines"] if c["state"] == "blocked"]
    # runtime frames, the user's wait, and `connection`, where `bt` ends
    # (found by its CFI: the program is stripped)
    assert all(len(c["frames"]) >= 3 for c in blocked)
    assert all(c["frames"][-1]["module"] == str(moved / "server-stripped")
               for c in blocked)


def test_kill_corodbg_while_a_thread_is_stopped():
    """SIGKILL corodbg while it holds the running coroutine's thread
    stopped: the kernel lets the thread go, the program runs on."""
    with held("server", 50) as pid:
        env = dict(os.environ, CORODBG_TEST_HOLD_STOPPED_MS="5000")
        p = subprocess.Popen([str(EXAMPLES.parent / "capture" / "corodbg"),
                              "dump", str(pid)], env=env,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        tids = os.listdir("/proc/%d/task" % pid)
        deadline = time.monotonic() + 20
        stopped = None
        while time.monotonic() < deadline and stopped is None:
            for tid in tids:
                st = open("/proc/%d/task/%s/status" % (pid, tid)).read()
                if re.search(r"^State:\s+t", st, re.M):
                    stopped = tid
            time.sleep(0.02)
        assert stopped, "corodbg never stopped the running thread"
        p.kill()
        p.wait()
        time.sleep(0.2)
        st = open("/proc/%d/task/%s/status" % (pid, stopped)).read()
        assert re.search(r"^State:\s+S", st, re.M), st
        assert re.search(r"^TracerPid:\s+0$", st, re.M), st
        # and it still answers
        assert len(json.loads(corodbg("dump", pid, "--format",
                                      "json").stdout)["coroutines"]) == 51


def test_process_exits_mid_capture():
    """The target dies while its thread is held: partial output, a note,
    exit status 3."""
    # (2000: more than one batch of stack reads, so some are read after)
    with held("server", 2000) as pid:
        env = dict(os.environ, CORODBG_TEST_HOLD_STOPPED_MS="1500")
        p = subprocess.Popen([str(EXAMPLES.parent / "capture" / "corodbg"),
                              "dump", str(pid)], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.7)
        os.kill(pid, 9)
        out, err = p.communicate(timeout=60)
    assert p.returncode == 3, (out, err)
    assert "process %d exited during the capture" % pid in err
    assert len(err.strip().splitlines()) == 1
    assert out.startswith('coroutine 1 "acceptor" [running')
    assert "2001 coroutines" in out
    assert "(no stack" in out


def test_json_keeps_utf8():
    """A name in UTF-8 reaches the JSON as its characters (JSON is
    UTF-8), not one \\u00XX escape per byte; a byte that is no UTF-8 is
    U+FFFD, as the debuggers show it."""
    entry = "((struct corodbg_entry *)((unsigned long *)" \
        "corodbg_table.chunk_dir)[0])[1]"
    name = b"caf\xc3\xa9 \xe2\x86\x92 \xff"
    with held("leak") as pid:
        sets = []
        for i, b in enumerate(name + b"\0"):
            sets += ["-ex", "set var %s.name[%d] = %d" % (entry, i, b)]
        r = subprocess.run(["gdb", "-nx", "-q", "-batch", "-p", str(pid)] +
                           sets + ["-ex", "detach"], capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        raw = corodbg("dump", pid, "--format", "json").stdout
        text = corodbg("dump", pid).stdout
    d = json.loads(raw)
    co = {c["id"]: c for c in d["coroutines"]}[2]
    assert co["name"] == "caf\u00e9 \u2192 \ufffd", co["name"]
    assert 'coroutine 2 "caf\u00e9 \u2192 \ufffd" [' in text
