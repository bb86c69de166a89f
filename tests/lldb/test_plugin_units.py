"""Unit tests of the OS plugin's choices that need no process: the thread
cap's selection and the thread names.  They run in a child Python with
LLDB's module path (`lldb-19 -P`), since the plugin imports lldb."""
import subprocess
import textwrap

from lldbutil import LLDB, lldb_env

SCRIPT = textwrap.dedent(r'''
    import sys
    sys.path.insert(0, sys.argv[1])
    import corodbg_lldb_adapter.threads as O
    from corodbg.core import layout

    class Co:
        def __init__(self, cid, state, since, wait=0, name="w"):
            self.id, self.state, self.since_ns = cid, state, since
            self.wait_reason, self.name = wait, name
            self.regs = (1, 2, 3)
            self.unreadable = None
        state_name = property(lambda s: layout.STATES[s.state][2])
        wait_name = property(lambda s: layout.WAITS[s.wait_reason][2]
                             if s.state == layout.STATE_BLOCKED else "")

    B, R, RUN = layout.STATE_BLOCKED, layout.STATE_RUNNABLE, \
        layout.STATE_RUNNING
    cos = [Co(i, B if i % 2 else R, 1000 + i) for i in range(1, 101)]
    cos.append(Co(101, RUN, 5000))          # running: never a parked thread
    cos[9].since_ns = 10**9                  # id 10: the most recent of all

    # Under the cap: every parked coroutine, in id order.
    got, cut = O.choose(cos, 500, set())
    assert [c.id for c in got] == list(range(1, 101)) and cut == 0

    # Over the cap: the stop's coroutine (id 3) first, then the most
    # recently active (id 10, then the newest since_ns), in id order.
    got, cut = O.choose(cos, 4, {3})
    assert [c.id for c in got] == [3, 10, 99, 100], [c.id for c in got]
    assert cut == 96

    # MUST beyond the cap still wins.
    got, cut = O.choose(cos, 1, {3, 7})
    assert [c.id for c in got] == [3, 7] and cut == 98

    # The same rule over a table's columns, with ids to skip (coroutines
    # on an OS thread): id 10 skipped, the next most recent fill in.
    from corodbg.core import threads as CT

    class Tbl:
        column = staticmethod(lambda name: [getattr(c, name) for c in cos])
        coroutine_at = staticmethod(lambda row: cos[row])
    got, cut = CT.choose_in(Tbl(), 4, {3}, skip={10})
    assert [c.id for c in got] == [3, 98, 99, 100], [c.id for c in got]
    assert cut == 95
    got, cut = CT.choose_in(Tbl(), 500, set())
    assert [c.id for c in got] == list(range(1, 101)) and cut == 0

    # Names.
    class S:  # a session stand-in: no panic text to read here
        reader = None
    c = Co(4, B, 1, layout.WAIT_CHAN_RECV, "consumer")
    assert O.thread_name(S(), c) == "coro 4 consumer [blocked: chan receive]"
    c = Co(3, R, 1, 0, "yielder")
    assert O.thread_name(S(), c) == "coro 3 yielder [runnable]"
    c.unreadable = "mid-update"
    assert O.thread_name(S(), c) == "coro 3 yielder [runnable; ? mid-update]"
    print("OK")
''')


def test_choose_and_names(lldb_dir):
    py = subprocess.run([LLDB, "-P"], stdout=subprocess.PIPE, text=True,
                        check=True).stdout.strip()
    env = lldb_env()
    env["PYTHONPATH"] = py
    p = subprocess.run(["/usr/bin/python3", "-c", SCRIPT, str(lldb_dir)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=env, timeout=60)
    assert p.stdout.strip().endswith("OK"), p.stdout
