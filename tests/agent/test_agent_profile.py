"""/debug/pprof/profile through the endpoint: a CPU profile of the
service taken from inside it (cc_profile_self), labelled by coroutine;
one at a time; a client that leaves mid-profile cancels it; and the
running coroutine's stack in a dump, copied by its own thread."""
import re
import shutil
import socket
import sys
import threading
import time

import pytest

from agent_util import ROOT, get, private_dir, service

sys.path.insert(0, str(ROOT / "tests" / "capture"))
from test_profile import sample_labels  # noqa: E402


@pytest.fixture(scope="module")
def svc():
    d = private_dir()
    with service(5, spec=d + "/", env={"AGENT_WORKERS": "2"}) as s:
        yield s
    shutil.rmtree(d, ignore_errors=True)


def names(prof, locs):
    return [fn for lid in locs for fn, _, _, _ in prof.frames(lid) if fn]


def test_cpu_profile_labelled_by_coroutine(svc):
    st, h, body = get(svc.sock, "/debug/pprof/profile?seconds=1&hz=200")
    assert st == 200 and h["content-type"] == "application/octet-stream"
    prof, samples = sample_labels(body)
    assert [t[0] for t in prof.sample_types] == ["samples", "cpu"], \
        prof.sample_types
    busy = [(v, lab) for v, lab in samples if lab.get("coroutine") ==
            "spawner"]
    total = sum(v[0] for v, _ in samples)
    assert total >= 50, total          # ~1 CPU second at 200 Hz
    assert sum(v[0] for v, _ in busy) >= 0.8 * total, samples
    assert all(lab.get("coroutine_id") == 1 for _, lab in busy)
    stacks = [s for s in prof.samples]
    assert any("burn_cpu" in names(prof, locs) for locs, _ in stacks)


def test_second_profile_is_busy(svc):
    first = {}
    th = threading.Thread(target=lambda: first.update(
        r=get(svc.sock, "/debug/pprof/profile?seconds=2")))
    th.start()
    time.sleep(0.5)
    st, _, body = get(svc.sock, "/debug/pprof/profile?seconds=1")
    th.join()
    assert st == 503 and body.startswith(b"busy"), body
    assert first["r"][0] == 200


def test_client_leaving_mid_profile_cancels_it(svc):
    c = socket.socket(socket.AF_UNIX)
    c.connect(svc.sock)
    c.sendall(b"GET /debug/pprof/profile?seconds=60 HTTP/1.1\r\n\r\n")
    time.sleep(0.5)
    c.close()
    # the 60 s profile stops: a new one is accepted within seconds
    t0 = time.monotonic()
    while True:
        st, _, body = get(svc.sock, "/debug/pprof/profile?seconds=1")
        if st == 200 or time.monotonic() - t0 > 15:
            break
        assert body.startswith(b"busy")
        time.sleep(0.2)
    assert st == 200 and time.monotonic() - t0 < 15
    assert svc.proc.poll() is None


def test_running_coroutine_has_its_stack_in_a_dump(svc):
    # spawner burns ~100 us, yields, and runs again on either worker: a
    # dump can catch it runnable (1 in 10 or so); the first dump that
    # finds it running must show its stack, asked of the thread it runs
    # on (which it may leave meanwhile: capture.c's SNAPSHOT_TRIES)
    for _ in range(20):
        st, _, body = get(svc.sock, "/debug/pprof/goroutine?debug=2")
        text = body.decode()
        assert st == 200 and 'coroutine 1 "spawner" [' in text, text[:1500]
        m = re.search(r'^coroutine 1 "spawner" \[running, thread \d+\]:\n'
                      r'((?:.*\n)*?)created by', text, re.M)
        if m:
            break
    assert m, text[:1500]
    assert re.search(r"^(burn_cpu|busy)\(\)$", m.group(1), re.M), m.group(1)
    assert re.search(r"^spawner\(\)$", m.group(1), re.M), m.group(1)
