"""What each path of the in-process endpoint answers, through its Unix
socket, checked against the program's known coroutines (agent_target:
N workers parked in wait_for_job, a sleeper in nap, a busy coroutine),
and every malformed request answered with a 4xx and a reason."""
import gzip
import os
import re
import shutil
import subprocess

import pytest

from agent_util import BUILD  # noqa: F401  (puts tests/symbolizer on sys.path)
import pprof_wire  # noqa: E402
from agent_util import (CORODBG, TARGET, TARGET_SAN, get, need, private_dir,
                        raw, parse, service)

N = 20


@pytest.fixture(scope="module", params=["normal", "asan"])
def svc(request):
    """The service, and the same with the agent, libcorocap, corort and
    libcorodbg under ASan + UBSan (any report aborts it: the next request
    then fails)."""
    exe = TARGET if request.param == "normal" else need(TARGET_SAN)
    d = private_dir()
    env = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
    with service(N, spec=d + "/", exe=exe, env=env) as s:
        yield s
        assert s.proc.poll() is None, s.proc.stderr.read()
    shutil.rmtree(d, ignore_errors=True)


def test_metrics_counts_and_promtool(svc):
    st, h, body = get(svc.sock, "/metrics")
    assert st == 200 and h["content-type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    vals = dict(line.rsplit(" ", 1) for line in text.splitlines()
                if not line.startswith("#"))
    assert vals['corodbg_coroutines{state="blocked"}'] == str(N + 1)
    assert vals['corodbg_coroutines_blocked{wait="chan receive"}'] == str(N)
    assert vals['corodbg_coroutines_blocked{wait="sleep"}'] == "1"
    # spawner + N workers + sleeper (+ busy is the spawner itself)
    assert int(vals["corodbg_coroutines_created_total"]) == N + 2
    assert vals["corodbg_coroutines_exited_total"] == "0"
    assert vals["corodbg_panics_total"] == "0"
    assert float(vals["corodbg_oldest_blocked_seconds"]) > 0
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: make deps (Debian package prometheus)"
    r = subprocess.run([promtool, "check", "metrics"], input=text,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_panics_are_counted():
    d = private_dir()
    try:
        with service(3, spec=d + "/", env={"AGENT_PANIC": "1"}) as s:
            text = get(s.sock, "/metrics")[2].decode()
            assert re.search(r"^corodbg_panics_total 1$", text, re.M), text
            assert re.search(r'^corodbg_coroutines\{state="panicked"\} 1$',
                             text, re.M), text
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_goroutine_debug1_groups_by_stack(svc):
    st, _, body = get(svc.sock, "/debug/pprof/goroutine?debug=1")
    text = body.decode()
    assert st == 200
    assert text.startswith("coroutine profile: total %d" % (N + 2)), text
    assert re.search(r"^%d @ " % N, text, re.M), text
    assert re.search(r"#\t0x[0-9a-f]+\twait_for_job\t\S+agent_target.c:\d+",
                     text), text


def test_goroutine_debug2_every_coroutine(svc):
    st, _, body = get(svc.sock, "/debug/pprof/goroutine?debug=2")
    text = body.decode()
    assert st == 200
    heads = re.findall(r'^coroutine (\d+) "(\w+)" \[([^\]]*)\]:$', text, re.M)
    assert len(heads) == N + 2, text[:2000]
    workers = [h for h in heads if h[1] == "worker"]
    assert len(workers) == N
    assert all(h[2].startswith("blocked, chan receive, ") for h in workers)
    # each worker's stack: wait_for_job called from worker
    assert len(re.findall(r"^wait_for_job\(\)\n\t\S+agent_target.c:\d+\n"
                          r"worker\(\)$", text, re.M)) == N, text[:2000]


def test_goroutine_debug0_is_a_pprof_with_build_ids(svc, tmp_path):
    st, h, body = get(svc.sock, "/debug/pprof/goroutine")
    assert st == 200 and h["content-type"] == "application/octet-stream"
    assert body[:2] == b"\x1f\x8b"
    path = tmp_path / "coroutine.pb.gz"
    path.write_bytes(body)
    prof = pprof_wire.read(str(path))
    assert sum(v[0] for _, v in prof.samples) == N + 2
    exe = [m for m in prof.mappings.values()
           if os.path.basename(m["filename"]).startswith("agent_target")]
    assert exe and exe[0]["build_id"], prof.mappings
    names = {fn for loc in prof.locations.values()
             for fn, _, _, _ in prof.frames(loc["id"]) if fn}
    assert "wait_for_job" in names, names


def test_leaks(svc):
    st, _, body = get(svc.sock, "/debug/pprof/leaks?min_age=0")
    text = body.decode()
    assert st == 200 and "wait_for_job" in text, text
    assert re.search(r"^\s*%d\s+blocked on chan receive" % N, text, re.M), text


def test_index_head_and_unknown_path(svc):
    st, _, body = get(svc.sock, "/debug/pprof/")
    assert st == 200 and b"/metrics" in body
    st, h, body = parse(raw(svc.sock, b"HEAD /metrics HTTP/1.1\r\n\r\n"),
                        head=True)
    assert st == 200 and body == b"" and int(h["content-length"]) > 100
    st, _, body = get(svc.sock, "/debug/pprof/heap")
    assert st == 404 and b"no such endpoint" in body


BAD = [
    (b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431,
     b"larger than 8192"),
    (b"GET /metrics HTTP/1.1\r\n" + b"X-A: b\r\n" * 70 + b"\r\n", 431,
     b"more than 64"),
    (b"POST /metrics HTTP/1.1\r\n\r\n", 405, b"only GET and HEAD"),
    (b"GET /metrics HTTP/2.0\r\n\r\n", 505, b"HTTP/1.0 and HTTP/1.1"),
    (b"GET metrics HTTP/1.1\r\n\r\n", 400, b"must be a path"),
    (b"garbage\r\n\r\n", 400, b"malformed request line"),
    (b"GET /a%zz HTTP/1.1\r\n\r\n", 400, b"percent-escape"),
    (b"GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 400,
     b"body is not accepted"),
    (b"GET /metrics HTTP/1.1\r\n folded\r\n\r\n", 400, b"folding"),
    (b"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", 400, b"malformed header"),
    (b"GET /\x00 HTTP/1.1\r\n\r\n", 400, b"NUL"),
    (b"GET /" + b"a" * 300 + b" HTTP/1.1\r\n\r\n", 414, b"longer than 255"),
    (b"GET /debug/pprof/profile?seconds=-1 HTTP/1.1\r\n\r\n", 400,
     b"seconds must be an integer in 1..3600"),
    (b"GET /debug/pprof/profile?seconds=0 HTTP/1.1\r\n\r\n", 400,
     b"seconds must be an integer in 1..3600"),
    (b"GET /debug/pprof/profile?seconds=99999999999999999999999 HTTP/1.1"
     b"\r\n\r\n", 400, b"seconds must be an integer in 1..3600"),
    (b"GET /debug/pprof/profile?seconds=abc HTTP/1.1\r\n\r\n", 400,
     b"seconds must be"),
    (b"GET /debug/pprof/profile?hz=0 HTTP/1.1\r\n\r\n", 400,
     b"hz must be an integer in 1..1000"),
    (b"GET /debug/pprof/goroutine?debug=3 HTTP/1.1\r\n\r\n", 400,
     b"debug must be an integer in 0..2"),
    (b"GET /debug/pprof/goroutine?verbose=1 HTTP/1.1\r\n\r\n", 400,
     b"unknown parameter 'verbose'"),
    (b"GET /metrics?x=1 HTTP/1.1\r\n\r\n", 400, b"unknown parameter 'x'"),
    (b"GET /debug/pprof/leaks?min_age=1m HTTP/1.1\r\n\r\n", 400,
     b"min_age must be"),
]


@pytest.mark.parametrize("request_bytes,status,why", BAD,
                         ids=[str(i) for i in range(len(BAD))])
def test_malformed_requests_get_4xx_with_a_reason(svc, request_bytes, status,
                                                  why):
    st, h, body = parse(raw(svc.sock, request_bytes))
    assert st == status, body
    assert why in body and body.endswith(b"\n") and body.count(b"\n") == 1
    # and the agent still serves
    assert get(svc.sock, "/metrics")[0] == 200


def test_curl_unix_socket(svc):
    curl = shutil.which("curl")
    assert curl, "curl missing: make deps"
    r = subprocess.run([curl, "-sS", "--fail", "--unix-socket", svc.sock,
                        "http://localhost/debug/pprof/goroutine?debug=1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "wait_for_job" in r.stdout


def test_corodbg_fetch(svc, tmp_path):
    r = subprocess.run([str(need(CORODBG)), "fetch", svc.sock, "metrics"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "corodbg_coroutines{" in r.stdout, r.stderr
    out = tmp_path / "c.pb.gz"
    r = subprocess.run([str(CORODBG), "fetch", svc.sock, "goroutine", "-o",
                        str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert gzip.decompress(out.read_bytes())
    r = subprocess.run([str(CORODBG), "fetch", svc.sock, "goroutine?debug=7"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.strip() == ("corodbg fetch: /debug/pprof/goroutine?"
                                "debug=7: HTTP 400: debug must be an integer "
                                "in 0..2"), r.stderr
    r = subprocess.run([str(CORODBG), "fetch", "/nonexistent/x.sock",
                        "metrics"], capture_output=True, text=True)
    assert r.returncode == 3 and r.stderr.count("\n") == 1, r.stderr
    assert "No such file or directory" in r.stderr


def test_fetch_finds_the_default_socket_by_pid(tmp_path):
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    env = {"XDG_RUNTIME_DIR": str(run)}
    with service(5, env=dict(env, CORODBG_AGENT="1")) as s:
        assert s.sock == "%s/corodbg/%d.sock" % (run, s.pid)
        r = subprocess.run([str(CORODBG), "fetch", str(s.pid), "metrics"],
                           capture_output=True, text=True, timeout=60,
                           env=dict(__import__("os").environ, **env))
        assert r.returncode == 0, r.stderr
        assert 'corodbg_coroutines{state="blocked"} 6' in r.stdout
