"""The shared argument parser, filters, grouping, leaks and formatting."""
import pytest

from corodbg.core import errors, layout, leaks, query, render


def test_durations():
    assert query.parse_duration("1m23s") == 83 * 10**9
    assert query.parse_duration("500ms") == 500 * 10**6
    assert query.parse_duration("2h") == 7200 * 10**9
    assert query.parse_duration("1.5") == 1500 * 10**6
    for bad in ("", "1x", "m", "1m2"):
        with pytest.raises(errors.UsageError, match="bad duration"):
            query.parse_duration(bad)


def test_ages():
    assert render.format_age(None) == "-"
    assert render.format_age(0) == "0s"
    assert render.format_age(999) == "<1ms"
    assert render.format_age(450 * 10**6) == "450ms"
    assert render.format_age(12_340 * 10**6) == "12.3s"
    assert render.format_age(83 * 10**9) == "1m23s"
    assert render.format_age(7500 * 10**9) == "2h05m"
    assert render.format_age(3 * 86400 * 10**9 + 4 * 3600 * 10**9) == \
        "3d04h"


def test_parse_list_args():
    q = query.parse_list_args("-state blocked,runnable -name 'w*' -loc foo.c "
                              "-min-age 1m -u -group go -t 4 7 9-11")
    assert q.states == {layout.STATE_BLOCKED, layout.STATE_RUNNABLE}
    assert q.name == "w*" and q.location == "foo.c"
    assert q.min_age_ns == 60 * 10**9
    assert q.loc_kind == query.LOC_USER and q.group == query.LOC_GO
    assert q.stack_depth == 4 and q.ids == [7, 9, 10, 11]
    assert query.parse_list_args("-t").stack_depth == 10
    assert query.parse_list_args("-wait 'chan receive'").wait == \
        layout.WAIT_CHAN_RECV
    assert query.parse_list_args("-wait chan-s").wait == layout.WAIT_CHAN_SEND
    assert query.parse_list_args("-state blo -limit 3").limit == 3
    assert query.parse_list_args("-state runna").states == \
        {layout.STATE_RUNNABLE}


@pytest.mark.parametrize("arg,msg", [
    ("-bogus", "unknown option -bogus"),
    ("-state", "option -state needs a value"),
    ("-state sleepy", "unknown state 'sleepy'"),
    ("-state r", r"^ambiguous state 'r': runnable, running$"),
    ("-wait chan", r"^ambiguous wait reason 'chan': chan receive, "
                   r"chan send$"),
    ("-wait bogus", r"^unknown wait reason 'bogus' \(one of: chan send, "
                    r"chan receive, sleep, waitgroup, mutex, io, join, "
                    r"yield, other, resumed another\)$"),
    ("-bogus", r"-group KIND, -samples N, -t \[DEPTH\], -limit N\)$"),
    ("-limit -5", r"^-limit needs a number >= 1$"),
    ("-limit 0", r"^-limit needs a number >= 1$"),
    ("-limit x", r"^-limit needs a number >= 1$"),
    ("-group color", "bad group kind 'color'"),
    ("abc", "bad coroutine id 'abc'"),
    ("0", "ids start at 1"),
    ("-min-age soon", "bad duration"),
    ("-t 0", "stack depth"),
])
def test_parse_errors(arg, msg):
    with pytest.raises(errors.UsageError, match=msg):
        query.parse_list_args(arg)


def test_select_and_group(image):
    t = image.decode()
    now = t.get("clock_ns")
    sel = query.select(t.coroutines, query.parse_list_args("-state blocked"),
                       now)
    assert [c.id for c in sel] == [1, 2]
    sel = query.select(t.coroutines,
                       query.parse_list_args("-min-age 2s"), now)
    assert [c.id for c in sel] == [1]          # 2 waited only 1s
    sel = query.select(t.coroutines, query.parse_list_args("-running"), now)
    assert [c.id for c in sel] == [4]
    sel = query.select(t.coroutines, query.parse_list_args("-name '*er'"),
                       now)
    assert [c.id for c in sel] == [1, 2, 3, 4, 5, 6]
    sel = query.select(t.coroutines, query.parse_list_args("-name 'c*'"),
                       now)
    assert [c.id for c in sel] == [1, 6]
    groups, omitted = query.group(t.coroutines, "state", None, samples=1)
    assert [(k, n, s) for k, n, s, _ in groups] == [
        ("blocked", 2, [1]), ("crashed", 1, [6]), ("panicked", 1, [5]),
        ("runnable", 1, [3]), ("running", 1, [4])]
    assert omitted == 0


def test_listing_format(image):
    t = image.decode()
    now = t.get("clock_ns")
    cos = t.coroutines[:3]
    lines = render.listing_lines(
        cos, now, ["fn%d at x.c:%d" % (c.id, c.id) for c in cos],
        marker_id=2)
    assert lines == [
        "  Id State    Wait         Age  Name     Location\n",
        "  1  blocked  chan receive 6.0s consumer fn1 at x.c:1\n",
        "* 2  blocked  sleep        1.0s sleeper  fn2 at x.c:2\n",
        "  3  runnable              6.0s yielder  fn3 at x.c:3\n",
    ]
    assert render.total_line(3, t) == (
        "Shown 3 of 6 coroutines (1 runnable, 1 running, 2 blocked, "
        "1 panicked, 1 crashed).\n")
    assert render.total_line(6, t).startswith("Total: 6 coroutines (")


def test_listing_wait_column_is_blocked_waits_only():
    """A coroutine that is not blocked shows no wait, even when its entry
    still holds a wait reason: the Wait column is as wide as the waits
    shown (it was as wide as "chan receive" here)."""
    from tablegen import TableImage
    img = TableImage()
    img.add(0, 1, layout.STATE_BLOCKED, "a", wait_reason=layout.WAIT_SLEEP)
    img.add(1, 2, layout.STATE_RUNNABLE, "b",
            wait_reason=layout.WAIT_CHAN_RECV)
    t = img.decode()
    lines = render.listing_lines(t.coroutines, t.get("clock_ns"),
                                 ["L1", "L2"])
    assert lines == [
        "  Id State    Wait  Age  Name Location\n",
        "  1  blocked  sleep 6.0s a    L1\n",
        "  2  runnable       6.0s b    L2\n",
    ]
    # no clock (a core without one): no ages, the Age column its header's
    lines = render.listing_lines(t.coroutines, None, ["L1", "L2"])
    assert lines[1:] == ["  1  blocked  sleep     a    L1\n",
                         "  2  runnable           b    L2\n"]


def _listing_oracle(cos, now, locs, marker):
    """The listing the plain way (every cell, then the widest per column),
    to check the column-at-a-time listing_lines against."""
    rows = []
    for co, loc in zip(cos, locs):
        state = {v: n for _, v, n in layout.STATES}.get(
            co.state, "state-%s" % co.state)
        wait = ""
        if co.state == layout.STATE_BLOCKED:
            wait = {v: n for _, v, n in layout.WAITS}.get(
                co.wait_reason) or "wait-%s" % co.wait_reason
        age = ""
        if co.state in (layout.STATE_BLOCKED, layout.STATE_RUNNABLE,
                        layout.STATE_DEAD, layout.STATE_PANICKED,
                        layout.STATE_CRASHED) and co.since_ns and now:
            age = render.format_age(max(now - co.since_ns, 0))
        mark = "*" if co.id == marker else "?" if co.unreadable else " "
        rows.append((mark, str(co.id), state, wait, age, co.name or "", loc))
    header = ("Id", "State", "Wait", "Age", "Name")
    widths = [max([len(h)] + [len(r[k + 1]) for r in rows])
              for k, h in enumerate(header)]
    out = []
    for r in [(" ",) + header + ("Location",)] + rows:
        cells = [c.ljust(w) for c, w in zip(r[1:6], widths)]
        out.append(" ".join((r[0],) + tuple(cells) + (r[6],)))
    out[0] = out[0].rstrip()
    return "".join(line + "\n" for line in out)


def test_listing_lines_against_the_plain_way():
    import random

    class Co:
        def __init__(self, **kw):
            self.__dict__.update(kw)
    rng = random.Random(15)
    states = [v for _, v, _ in layout.STATES] + [99]
    waits = [v for _, v, _ in layout.WAITS] + [77]
    for _ in range(400):
        n = rng.choice([0, 1, 3, 20])
        now = rng.choice([None, 10**12, 10**15])
        cos = [Co(id=rng.choice([i, rng.randrange(10**6)]),
                  state=rng.choice(states), wait_reason=rng.choice(waits),
                  since_ns=rng.choice([None, 0, (now or 0) + 5,
                                       (now or 0) - rng.randrange(10**7),
                                       (now or 0) - rng.randrange(10**13)]),
                  name=rng.choice([None, "", "w", "x" * rng.randrange(20)]),
                  unreadable=rng.choice([None, None, "mid-update"]))
               for i in range(n)]
        locs = ["f%d at x.c:%d" % (i, rng.randrange(999)) for i in range(n)]
        marker = rng.choice([None, cos[0].id if cos else None])
        want = _listing_oracle(cos, now, locs, marker)
        for block in (1, 4):
            got = "".join(render.listing_lines(cos, now, locs, marker,
                                               block=block))
            assert got == want


def test_location_format():
    from corodbg.core.model import Location
    assert render.format_location(Location("f", "/a/b.c", 3, 1)) == \
        "f at b.c:3"
    assert render.format_location(Location("f", None, 0, 1)) == "f"
    assert render.format_location(Location(None, None, 0, 0x40)) == "0x40"


def test_leaks(image):
    t = image.decode()
    img2 = image
    img2.add(6, 7, layout.STATE_BLOCKED, "consumer",
             wait_reason=layout.WAIT_CHAN_RECV, since_ns=2 * 10**9)
    t = img2.decode()
    site = {"go": lambda c: "spawn at main.c:%d" % (10 if c.name ==
                                                    "consumer" else 20),
            "wait": lambda c: "wait at %s.c:1" % c.name}
    groups = leaks.leak_groups(t.coroutines, t.get("clock_ns"),
                               lambda c, k: site[k](c))
    assert [(g.count, g.ids, g.oldest_ns, g.wait) for g in groups] == [
        (2, [1, 7], 8 * 10**9, "chan receive"),
        (1, [2], 1 * 10**9, "sleep")]
    lines = leaks.leak_lines(groups, None, render.format_age)
    assert lines[0] == ("3 blocked coroutines in 2 groups (by creation "
                        "site and wait site):\n")
    assert "\n     2  blocked on chan receive, oldest 8.0s  [ids 1, 7]\n" \
        in lines
    only_old = leaks.leak_groups(t.coroutines, t.get("clock_ns"),
                                 lambda c, k: site[k](c),
                                 min_age_ns=5 * 10**9)
    assert [(g.count, g.ids) for g in only_old] == [(2, [1, 7])]
