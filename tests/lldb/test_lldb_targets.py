"""corodbg in LLDB on the other targets: the reference runtime's examples
(panic-catch, M:N workers), and Debian's libpcl under the LD_PRELOAD
ucontext interposer (no change to the library or the program)."""
import re

import pytest

CORO = 1 << 32


def need(path, what):
    if not path.exists():
        pytest.skip("%s missing (%s): built by `make`" % (path, what))


def test_example_panic_catch(run_lldb, build):
    prog = build / "examples" / "panic"
    need(prog, "examples/examples.mk")
    t = run_lldb(["file %s" % prog, "coroutine catch panic", "run",
                  "thread list", "bt 8", "coroutine list"])
    msg = 'Coroutine 3 "worker-3" panicked: request 42: invalid ' \
          'Content-Length -1 (limit 65536)'
    assert "corodbg: " + msg in t.text
    tl = t["thread list"]
    assert "stop reason = corodbg: " + msg in tl
    assert re.search(r"^\* thread #\d+: tid = (\d+), .*name = 'coro 3 "
                     r"worker-3 \[panicked: request 42: invalid "
                     r"Content-Length -1 \(limit 65536\)\] on thread \1'",
                     tl, re.M), tl
    for cid in (1, 2, 4):
        assert "tid = %d," % (CORO + cid) in tl
        assert "name = 'coro %d worker-%d [blocked: chan receive]'" \
            % (cid, cid) in tl
    frames = re.findall(r"frame #\d+: 0x[0-9a-f]+ panic`(\w+)", t["bt 8"])
    assert "check_content_length" in frames and "parse_headers" in frames
    listing = t["coroutine list"]
    assert re.search(r"^\* 3\s+panicked\s+\S+\s+worker-3 ", listing, re.M)


def test_example_server_mn_workers(run_lldb, build):
    prog = build / "examples" / "server"
    need(prog, "examples/examples.mk")
    t = run_lldb(["file %s" % prog, "b example_checkpoint", "run 1000 2",
                  "coroutine list -running", "coroutine list -group user",
                  "thread list"], timeout=120)
    running = t["coroutine list -running"]
    assert re.search(r"^\* 1\s+running\s+acceptor\s+example_checkpoint at "
                     r"common.c:\d+$", running, re.M), running
    g = t["coroutine list -group user"]
    # Channel waits too: corort's static recv/send (runtime/src/chan.c)
    # are runtime frames by their source file, as in GDB.
    for site in ("idle_timeout at server.c:", "lock_db at server.c:",
                 "wait_drain at server.c:", "wait_request at server.c:",
                 "send_response at server.c:"):
        assert re.search(r"^\s+200  %s\d+  \[" % re.escape(site), g, re.M), g
    assert g.splitlines()[-1] == \
        "Total: 1001 coroutines (1 running, 1000 blocked)."
    assert "chan.c" not in g, g
    tl = t["thread list"]
    assert re.search(r"tid = (\d+), .*name = 'coro 1 acceptor \[running\] "
                     r"on thread \1', stop reason = breakpoint 1.1", tl), tl
    assert len(re.findall(r"name = 'coro \d+ conn-\d+ \[blocked", tl)) == 1000


def test_libpcl_under_interposer(run_lldb, build):
    preload = build / "interpose" / "libcorodbg-ucontext.so"
    demo = build / "interpose" / "tests" / "pcl_demo"
    need(preload, "interpose/interpose.mk")
    need(demo, "interpose/interpose.mk")
    t = run_lldb(["coroutine config runtime-functions 'co_*,uc_*'",
                  "file %s" % demo,
                  "settings set target.env-vars LD_PRELOAD=%s" % preload,
                  "b pcl_checkpoint", "br modify -c 'phase == 2' 1", "run",
                  "coroutine list -u", "coroutine apply all bt"])
    listing = t["coroutine list -u"]
    assert re.search(r"pcl:producer\s+producer at pcl_demo.c:\d+$", listing,
                     re.M), listing
    assert re.search(r"pcl:consumer\s+consumer at pcl_demo.c:\d+$", listing,
                     re.M), listing
    ap = t["coroutine apply all bt"]
    assert re.search(r"name = 'coro \d+ pcl:producer \[runnable\]'", ap)
    assert re.search(r"pcl_demo`producer\(arg=.*\) at pcl_demo.c:\d+", ap)
    assert re.search(r"pcl_demo`consumer\(arg=.*\) at pcl_demo.c:\d+", ap)
