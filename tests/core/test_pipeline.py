"""The shared listing pipeline, leak report, warnings, event filter
encoding, the other commands' parsers and the on-thread rule."""
import struct

import pytest

from corodbg.core import decode, errors, filter as corefilter, layout
from corodbg.core import listing, query, render, runtime_rules
from corodbg.core.model import Location
from tablegen import TableImage


class FakeFrontend(listing.Frontend):
    """Functions named after the address; coroutine 4 (running on 4242)
    sits at 'thread_fn'.  Stacks: runtime frame, then user frame."""

    def symbolize(self, pc, is_return=True):
        return Location("f%x" % pc, "/src/app.c", 5, pc)

    def frames_of(self, co, depth):
        frames = [(0, Location("corort_park", "/x/runtime/src/sched.c", 9,
                               1)),
                  (1, Location("recv", "/x/runtime/src/chan.c", 140, 2)),
                  (2, Location("user%d" % co.id, "/src/app.c", co.id, 3))]
        return frames[:depth]

    def thread_location(self, co, tid):
        return Location("thread_fn", "/src/app.c", tid % 100, 0)


def test_listing_pipeline(image):
    t = image.decode()
    fe = FakeFrontend(t)
    now = t.get("clock_ns")
    out = listing.list_lines(fe, query.parse_list_args("-state blocked,running"),
                             now, marker_id=4)
    assert out == [
        "  Id State   Wait         Age  Name     Location\n",
        "  1  blocked chan receive 6.0s consumer f401000 at app.c:5\n",
        "  2  blocked sleep        1.0s sleeper  f401000 at app.c:5\n",
        "* 4  running                   worker   thread_fn at app.c:42\n",
        "Shown 3 of 6 coroutines (1 runnable, 1 running, 2 blocked, "
        "1 panicked, 1 crashed).\n"]
    # -u skips frames by function glob and by runtime source file
    out = listing.list_lines(fe, query.parse_list_args("-u 2"), now)
    assert out[1].split() == ["2", "blocked", "sleep", "1.0s", "sleeper",
                              "user2", "at", "app.c:2"]
    out = listing.list_lines(fe, query.parse_list_args("-t 2 1"), now)
    assert out[2:4] == ["        #0   corort_park at sched.c:9\n",
                        "        #1   recv at chan.c:140\n"]
    out = listing.list_lines(fe, query.parse_list_args("-group state"), now)
    assert out[:3] == ["Grouped by state:\n",
                       "    2  blocked  [1, 2]\n",
                       "    1  crashed  [6]\n"]
    out = listing.list_lines(fe, query.parse_list_args("-loc thread_fn"),
                             now, notes=("5 more not shown", None))
    assert [l.split()[0] for l in out[1:-2]] == ["4"]
    assert out[-1] == "note: 5 more not shown\n"
    with pytest.raises(errors.UnknownCoroutineError):
        listing.list_lines(fe, query.parse_list_args("99"), now)
    with pytest.raises(errors.UnknownCoroutineError,
                       match="^no coroutines with ids 20-30$"):
        listing.list_lines(fe, query.parse_list_args("20-30"), now)
    out = listing.list_lines(fe, query.parse_list_args("1 5-8"), now)
    assert [l.split()[0] for l in out[1:-2]] == ["1", "5", "6"]
    assert out[-1] == "warning: no coroutines with ids 7-8\n"
    assert listing.list_lines(fe, query.parse_list_args("-name zz"), now)[0] \
        == "No coroutines match.\n"


def test_streamed_listing_is_the_listing(image):
    """list_lines(stream=True), what GDB writes as the lines come, has
    the text of the list, with every option, note and missing id."""
    now = image.decode().get("clock_ns")
    for args in ("", "-u", "-g -state blocked", "-t 2 1", "-group user",
                 "-limit 2", "1 5-8", "-name zz", "-loc thread_fn"):
        q = query.parse_list_args(args)
        got = [listing.list_lines(FakeFrontend(image.decode()), q, now,
                                  marker_id=4, notes=("n", None),
                                  stream=s) for s in (False, True)]
        assert isinstance(got[0], list)
        assert list(got[1]) == got[0], args


def test_leak_report_uses_runtime_files(image):
    t = image.decode()
    lines = listing.leak_report(FakeFrontend(t), t.get("clock_ns"), None)
    assert lines[1:4] == [
        "\n     1  blocked on chan receive, oldest 6.0s  [ids 1]\n",
        "        created at  f400900 at app.c:5\n",
        "        waiting at  user1 at app.c:1\n"]


def test_help_text_shared():
    gdb = listing.list_help("List.", "info coroutines")
    lldb = listing.list_help("List.", "coroutine list")
    assert "Usage: info coroutines [OPTION]... [ID]..." in gdb
    assert gdb.replace("info coroutines", "X") == \
        lldb.replace("coroutine list", "X")
    assert "-min-age D" in gdb and "-group KIND" in gdb


def test_runtime_frames():
    rt = runtime_rules.RuntimeFrames()
    # Nothing about corort is built in: it comes from the table.
    assert not rt.is_runtime("corort_spawn")
    assert not rt.is_runtime("recv", "/w/runtime/src/chan.c")
    assert rt.is_runtime("corodbg_switch")   # libcorodbg's own, always
    rt.adopt(TableImage.sample().decode())
    assert rt.policy.name == "corort"
    assert rt.is_runtime("corort_spawn")
    assert rt.is_runtime("recv", "/w/runtime/src/chan.c")
    assert not rt.is_runtime("recv", "/w/app/chan.c")
    assert not rt.is_runtime(None, None)
    # the user's setting replaces the runtime's globs; "" goes back
    rt.files.set("*nothing*")
    assert not rt.is_runtime("recv", "/w/runtime/src/chan.c")
    rt.files.set("")
    assert rt.is_runtime("recv", "/w/runtime/src/chan.c")
    rt.functions.set("app_*")
    assert not rt.is_runtime("corort_spawn") and rt.is_runtime("app_x")
    rt.functions.set("")
    assert rt.is_runtime("corort_spawn")
    rt.files.set("*nothing*")
    frames = [(0, Location(None, None, 0, 5)),
              (1, Location("corodbg_x", None, 0, 6)),
              (2, Location("main", "m.c", 3, 7))]
    assert runtime_rules.user_frame(frames, rt).function == "main"
    assert runtime_rules.user_frame(frames[:2], rt).pc == 5
    assert runtime_rules.user_frame([], rt) is None


def test_no_user_frame_is_said_not_dressed_as_a_wait_site():
    # gcc -O2 sibling calls can leave only runtime frames on a stack: the
    # innermost one is shown, marked, never as if it were the wait site
    rt = runtime_rules.RuntimeFrames(("fx_*",), ())
    frames = [(1, Location("fx_trampoline", "t.c", 52, 9)),
              (2, Location("fx_start", "t.c", 60, 10))]
    loc = runtime_rules.user_frame(frames, rt)
    assert loc.note == runtime_rules.NO_USER_FRAME and loc.pc == 9
    assert render.format_location(loc) == \
        "(no user frame) fx_trampoline at t.c:52"
    # an inlined user function is a user frame, wherever it sits
    frames.insert(1, (2, Location("wait_for", "w.c", 3, 9)))
    assert runtime_rules.user_frame(frames, rt).function == "wait_for"


def test_user_rule_caches_and_agrees_with_user_frame():
    from corodbg.core.stackwalk import Frame, flatten
    rt = runtime_rules.RuntimeFrames(("fx_*",), ())
    park = Location("fx_park", "p.c", 1, 1)
    helper = Location("wait_for", "w.c", 3, 1)
    conn = Location("conn", "c.c", 9, 2)
    rule = runtime_rules.UserRule(rt)
    walks = [[Frame(1, 0, (park, helper)), Frame(2, 0, (conn,))],
             [Frame(1, 0, (park,)), Frame(2, 0, (conn,))],
             [Frame(1, 0, (park,))], []]
    for w in walks:
        assert rule.user(w) == runtime_rules.user_frame(flatten(w), rt)
    assert rule.accepts((park, helper)) and not rule.accepts((park,))
    assert rule.user(walks[2]).note == runtime_rules.NO_USER_FRAME


def test_runtime_globs_match_cxx_file_static_names():
    # LLDB names a C++ file-static function '::fx_trampoline()'
    rt = runtime_rules.RuntimeFrames(("fx_*",), ())
    assert rt.is_runtime("::fx_trampoline()")
    assert rt.is_runtime("fx_park(long)")
    assert not rt.is_runtime("::conn(co*)")


def test_collapse_warnings():
    ws = ["chunk %d: null pointer: skipped" % i for i in range(1, 1025)]
    ws.insert(0, "nchunks 4294967295 exceeds the table maximum (1024)")
    ws += ["chunk 7 at 0xbad is unreadable", "chunk 9 at 0xbad is unreadable"]
    assert render.collapse_warnings(ws) == [
        "nchunks 4294967295 exceeds the table maximum (1024)",
        "chunk 1: null pointer: skipped (1024 times, also for 2, 3, 4, ...)",
        "chunk 7 at 0xbad is unreadable", "chunk 9 at 0xbad is unreadable"]
    three = ["chunk %d repeats chunk 0 at 0x10 (cycle): skipped" % i
             for i in (1, 2, 3)]
    assert render.collapse_warnings(three) == [
        "chunk 1 repeats chunk 0 at 0x10 (cycle): skipped (3 times, also "
        "for 2, 3)"]
    many = ["problem %s" % c for c in "abcdefghijklm"]
    lines = render.warning_lines(many)
    assert len(lines) == 11
    assert lines[-1] == "warning: corodbg: ... and 3 more warnings like " \
        "these\n"


def test_filter_encode(image):
    t = image.decode()
    data = bytes(image.desc)
    mask, flags, fid, glob = corefilter.filter_values(
        {layout.STATE_BLOCKED}, panic=True, cid=7, glob="work*")
    assert mask == 1 << layout.STATE_BLOCKED
    assert flags == layout.FILTER_ARMED | layout.FILTER_PANIC
    writes = corefilter.encode(t, data, mask, flags, fid, glob)
    recs = image.dfields
    assert [a for a, _ in writes] == [
        t.addr + recs[n][0] for n in corefilter.FILTER_FIELDS]
    by = dict(zip(corefilter.FILTER_FIELDS, (raw for _, raw in writes)))
    assert by["filter_name"] == b"work*".ljust(recs["filter_name"][1], b"\0")
    size = recs["filter_flags"][1]
    assert struct.unpack("<" + decode.UINT_CODES[size],
                         by["filter_flags"])[0] == flags
    assert corefilter.filter_values(panic=True) == (0, layout.FILTER_PANIC,
                                                    0, "")
    with pytest.raises(errors.UsageError, match="longer than"):
        corefilter.encode(t, data, 1, 1, 0, "x" * 40)


def test_other_parsers(image):
    t = image.decode()
    cos, cmd, missing = query.parse_apply("3 5-6 bt 3", t)
    assert [c.id for c in cos] == [3, 5, 6] and cmd == "bt 3"
    assert missing == []
    cos, cmd, _ = query.parse_apply("-state blocked -- frame variable", t)
    assert [c.id for c in cos] == [1, 2] and cmd == "frame variable"
    # missing ids are skipped and named once, like `thread apply`
    cos, cmd, missing = query.parse_apply("5-9 11 bt 1", t)
    assert [c.id for c in cos] == [5, 6] and cmd == "bt 1"
    assert query.missing_warning(missing) == \
        "warning: no coroutines with ids 7-9, 11\n"
    assert query.missing_warning([8]) == "warning: no coroutine with id 8\n"
    with pytest.raises(errors.UnknownCoroutineError,
                       match="^no coroutines with ids 7-9$"):
        query.parse_apply("7-9 bt", t)
    # an unknown leading option is refused once, not run per coroutine
    for bad in ("all -q bt 1", "1-3 -q bt", "-state blocked -c bt", "-q bt"):
        with pytest.raises(errors.UsageError,
                           match=r"^coroutine apply: unknown option -[qc] "
                                 r"\(Usage: coroutine apply all\|ID"):
            query.parse_apply(bad, t)
    assert len(query.parse_apply("all bt", t)[0]) == 6
    for bad, msg in (("", "Usage: coroutine apply"), ("all", "no command"),
                     ("bt", "Usage: coroutine apply")):
        with pytest.raises(errors.UsageError, match=msg):
            query.parse_apply(bad, t)
    with pytest.raises(errors.UnknownCoroutineError):
        query.parse_apply("42 bt", t)
    assert query.parse_leaks_args("-min-age 1m") == 60 * 10**9
    assert query.parse_leaks_args("") is None
    with pytest.raises(errors.UsageError, match="needs a duration"):
        query.parse_leaks_args("-min-age")
    with pytest.raises(errors.UsageError, match="Usage: coroutine leaks"):
        query.parse_leaks_args("x")
    cq = query.parse_catch_state(["blocked,dead", "7"], "U")
    assert cq.states == {layout.STATE_BLOCKED, layout.STATE_DEAD}
    assert (cq.cid, cq.glob) == (7, "")
    cq = query.parse_catch_state(["running", "-name", "w*", "-id", "3"], "U")
    assert (cq.cid, cq.glob) == (3, "w*")
    assert query.parse_catch_state(["blocked", "w*"], "U").glob == "w*"
    for words, msg in (([], "U"), (["blocked", "-x", "1"], "unknown catch "
                                   "option -x"),
                       (["blocked", "-id"], "-id needs a value"),
                       (["blocked", "a", "b"], "U"),
                       (["blocked", "x" * 40], "longer than")):
        with pytest.raises(errors.UsageError, match=msg):
            query.parse_catch_state(words, "U")


def test_on_thread_rule():
    from tablegen import TableImage
    img = TableImage.sample()
    # 7 crashed on thread 5151 and still names it; 8 panicked with its tid
    # cleared, its stack holding the thread's sp; 9 is dead on 6161.
    img.add(6, 7, layout.STATE_CRASHED, "c2", tid=5151, signal=11)
    img.add(7, 8, layout.STATE_PANICKED, "p2")
    img.add(8, 9, layout.STATE_DEAD, "gone", tid=6161)
    t = img.decode()
    assert t.on_thread(4242).id == 4
    assert t.on_thread(5151).id == 7
    assert t.on_thread(6161) is None
    # ...unless a thread's sp is in its stack: stopped in its exit (a
    # DEAD catchpoint), it executes there, whatever tid it names
    sp9 = 0x7f0000000000 + 9 * 0x10000 + 0x80
    assert t.on_thread(6161, sp9).id == 9
    assert t.on_thread(7777, sp9).id == 9
    assert t.on_thread(6161, 0x10) is None
    sp8 = 0x7f0000000000 + 8 * 0x10000 + 0x80
    assert t.on_thread(7777) is None
    assert t.on_thread(7777, sp8).id == 8
    assert t.on_thread(7777, 0x10) is None
    assert {tid: c.id for tid, c in t.executing().items()} == {4242: 4,
                                                               5151: 7}


def test_id_column_width(image):
    """The id column is as wide as the largest id."""
    image.add(6, 12345, layout.STATE_BLOCKED, "wide",
              wait_reason=layout.WAIT_SLEEP)
    t = image.decode()
    lines = render.listing_lines(t.coroutines, t.get("clock_ns"),
                                 ["x"] * len(t.coroutines), 4)
    assert lines[0].startswith("  Id    State ")
    assert lines[7].startswith("  12345 blocked  sleep ")


def test_on_thread_live_owner_beats_dead():
    """A stack reused before the old owner's exit was reported: the live
    coroutine on it wins over the dead entry, in whichever slot order."""
    from tablegen import TableImage
    shared = dict(stack_lo=0x7f00000a0000, stack_hi=0x7f00000b0000)
    sp = 0x7f00000a0080
    for dead_slot, live_slot in ((6, 7), (7, 6)):
        img = TableImage.sample()
        img.add(dead_slot, 9, layout.STATE_DEAD, "gone", **shared)
        img.add(live_slot, 10, layout.STATE_RUNNING, "new", **shared)
        t = img.decode()
        assert t.on_thread(8888, sp).id == 10
    img = TableImage.sample()
    img.add(6, 9, layout.STATE_DEAD, "gone", **shared)
    assert img.decode().on_thread(8888, sp).id == 9


def test_nested_resume_is_a_wait():
    """corodbg_resume: the outer coroutine is blocked on the inner one
    (wait_addr = its entry), listed as "resumed another", not running."""
    img = TableImage.sample()
    inner = img.entry_addr(2)
    img.add(6, 7, layout.STATE_BLOCKED, "outer",
            wait_reason=layout.WAIT_RESUME, wait_addr=inner)
    img.set_desc("live_count", 7)
    t = img.decode()
    co = t.by_id[7]
    assert co.wait_name == "resumed another"
    assert co.wait_addr == t.by_id[3].addr
    q = query.parse_list_args("-wait 'resumed another'")
    assert [c.id for c in query.select(t.coroutines, q, 0)] == [7]
