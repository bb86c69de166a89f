"""Zero code, end to end: a Boost.Fiber program that knows nothing of
corodbg, with the fcontext interposer and the agent preloaded, serves its
fibers' stacks and counts over the agent's socket."""
import os
import re
import shutil
import subprocess

from agent_util import AGENT_SO, BUILD, get, need, private_dir

FIBERS = BUILD / "interpose" / "tests" / "boost_fibers"
FCLIB = BUILD / "interpose" / "libcorodbg-fcontext.so"


def test_boost_fibers_through_the_agent():
    d = private_dir()
    env = dict(os.environ, BOOST_HOLD="1", CORODBG_AGENT=d + "/",
               LD_PRELOAD="%s:%s" % (need(FCLIB), need(AGENT_SO)))
    p = subprocess.Popen([str(need(FIBERS))], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env,
                         start_new_session=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("holding "), (line, p.stderr.read())
        sock = "%s/%s.sock" % (d, line.split()[1])
        st, _, body = get(sock, "/debug/pprof/goroutine?debug=1")
        text = body.decode()
        assert st == 200 and text.startswith("coroutine profile: total 7")
        for fn in ("wait_request", "lock_table", "wait_ready"):
            # two fibers wait at each site, grouped by their stack
            assert re.search(r"^2 @ .*\n# \w+: 2\n(?:#\t.*\n)*?#\t0x[0-9a-f]+\t"
                             r"%s\(int\)\t\S+/fibers.cpp:\d+$" % fn, text,
                             re.M), (fn, text[:3000])
        metrics = get(sock, "/metrics")[2].decode()
        assert re.search(r'^corodbg_coroutines\{state="runnable"\} 7$',
                         metrics, re.M), metrics
    finally:
        os.killpg(p.pid, 9)
        p.wait()
        shutil.rmtree(d, ignore_errors=True)
