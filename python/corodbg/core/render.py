"""Formatting: ages, locations, the listing, groups and totals.

Functions return strings (or lists of lines); writing them, paging and
colour are the adapter's business.
"""
import os
import re
from array import array
from itertools import chain, compress, count, islice, repeat
from operator import attrgetter, floordiv, not_, sub

from . import layout


def format_age(ns):
    """Nanoseconds -> '450ms', '12.3s', '1m23s', '2h05m', '3d04h'."""
    if ns is None:
        return "-"
    if ns < 1000000:
        return "<1ms" if ns > 0 else "0s"
    if ns < 10**9:
        return "%dms" % (ns // 10**6)
    s = ns // 10**9
    if s < 60:
        return "%.1fs" % (ns / 1e9)
    if s < 3600:
        return "%dm%02ds" % (s // 60, s % 60)
    if s < 86400:
        return "%dh%02dm" % (s // 3600, (s % 3600) // 60)
    return "%dd%02dh" % (s // 86400, (s % 86400) // 3600)


def format_location(loc, short_file=True):
    """A Location -> 'func at file.c:42', 'func+0x1a', '0x401136'."""
    if loc is None:
        return "??"
    if len(loc) > 5 and loc[5]:
        return "(%s) %s" % (loc[5], format_location(loc[:5], short_file))
    fn, path, line, pc = loc[:4]
    if path and short_file:
        path = os.path.basename(path)
    if fn and path and line:
        return "%s at %s:%d" % (fn, path, line)
    if fn:
        return fn
    if pc is None:
        return "??"
    if len(loc) > 4 and loc[4]:
        return "0x%x in %s" % (pc, loc[4])
    return "0x%x" % pc


HEADER = ("Id", "State", "Wait", "Age", "Name", "Location")


_AGE_STATES = frozenset((layout.STATE_BLOCKED, layout.STATE_RUNNABLE,
                         layout.STATE_DEAD, layout.STATE_PANICKED,
                         layout.STATE_CRASHED))
_STATE_TEXT = {v: t for _, v, t in layout.STATES}
_WAIT_TEXT = {v: t for _, v, t in layout.WAITS}


_MS = 1000000
# column_lines' age keys of rows with no millisecond to show
_UNDER_1MS, _ZERO_AGE, _NO_AGE = -1, -2, -3


def listing_lines(coroutines, now_ns, locs, marker_id=None, header=HEADER,
                  block=1, lazy=False):
    """The listing, aligned under HEADER like `info threads`: the header
    line, then one line per coroutine (marker, id, state, wait, age, name,
    location).  LOCS is the location text of each coroutine; NOW_NS None
    or 0 (no clock) shows no ages.  BLOCK > 1: the rows come BLOCK lines
    to a string (the text is the same), for a caller that only joins or
    writes them.  The coroutines' columns go to column_lines.  LAZY:
    an iterator of the lines, made as they are taken (column_lines)."""
    cos = coroutines
    sinces = list(map(attrgetter("since_ns"), cos))
    if not now_ns:
        now_ns, sinces = 0, [0] * len(cos)      # no clock: no ages
    elif None in sinces:
        sinces = [x or 0 for x in sinces]
    cols = {n: list(map(attrgetter(n), cos))
            for n in ("id", "state", "wait_reason", "name")}
    cols["since_ns"] = sinces
    bad = compress(count(), map(attrgetter("unreadable"), cos))
    lines = column_lines(cols, bad, now_ns, locs, marker_id, header, block)
    return lines if lazy else list(lines)


def column_lines(cols, bad, now_ns, locs, marker_id=None, header=HEADER,
                 block=1):
    """listing_lines from columns: COLS {field: list or array} holds id,
    state, wait_reason, since_ns (0 where unknown, no None) and name of
    each row,
    BAD the rows of unreadable entries; LOCS the location texts (any
    iterable); NOW_NS 0: no clock, no ages.  The
    1M-entry listing: the columns are turned into cells a whole column at
    a time in C (map, dict lookups of the few distinct values), the widths
    come from the distinct values, and each line is formatted once; only
    the odd rows (marked, unreadable, no age, age under 1 ms) get Python
    code of their own.  No argument is changed.

    Returns an iterator: the lines are made as they are taken (a caller
    writing them as they come keeps no million lines, 70 MB of new
    memory at 1M rows, whose page faults cost more than formatting).
    The columns must not change until it is used up."""
    ids, states, waits = cols["id"], cols["state"], cols["wait_reason"]
    sinces, names = cols["since_ns"], cols["name"]
    n = len(ids)
    if None in names:
        names = [x or "" for x in names]
    # state and wait cells: few distinct (state, wait_reason) pairs,
    # looked up as cells[state][wait] (no per-row key tuple)
    wait_set = set(waits)
    sw = {}
    blocked = layout.STATE_BLOCKED
    for st in set(states):
        state = _STATE_TEXT.get(st)
        if state is None:
            state = "state-%s" % st
        sw[st] = by_wait = {}
        for w in wait_set:
            wait = ""
            if st == blocked:
                wait = _WAIT_TEXT.get(w) or "wait-%s" % w
            by_wait[w] = (state, wait)
    # age cells: by millisecond, each formatted once from the first row
    # of its millisecond; the keys are machine integers (an int object
    # per row was 40 MB of new memory at 1M rows), the rows of no
    # millisecond (under 1 ms, no age) get negative ones
    keys = array("q", map(floordiv, map(sub, repeat(now_ns, n), sinces),
                          repeat(_MS, n)))
    for i in compress(count(), map((1).__gt__, keys)):   # under 1 ms
        keys[i] = _UNDER_1MS if now_ns > sinces[i] else _ZERO_AGE
    # no age shown: a state without one (running), or no since_ns
    noage = set(st for st in sw if st not in _AGE_STATES)
    if noage:
        for i in compress(count(), map(noage.__contains__, states)):
            keys[i] = _NO_AGE
    if 0 in sinces:
        for i in compress(count(), map(not_, sinces)):
            keys[i] = _NO_AGE
    first = dict(zip(reversed(keys), reversed(sinces)))
    ages = {}
    for k, since in first.items():
        ages[k] = "" if k == _NO_AGE else \
            format_age(max(now_ns - since, 0))
    # widths: the widest cell of each column, at least its header
    widths = [len(h) for h in header[:-1]]
    cols = (
        [len(str(max(ids)))] if ids else [],
        [len(s) for c in sw.values() for s, _ in c.values()],
        # only blocked rows show a wait (a stale wait_reason elsewhere is
        # not a cell)
        [len(sw[blocked][w][1])
         for w in set(compress(waits, map(blocked.__eq__, states)))],
        list(map(len, ages.values())),
        list(map(len, set(names))),
    )
    for k, col in enumerate(cols):
        m = max(col, default=0)
        if m > widths[k]:
            widths[k] = m
    fmt = "%s " + " ".join("%%-%ds" % w for w in widths) + " %s"
    out = [(fmt % ((" ",) + tuple(header))).rstrip() + "\n"]
    # pad the few distinct cells once; a line is then one 6-field format
    swcell = {st: {w: "%-*s %-*s " % (widths[1], s, widths[2], wt)
                   for w, (s, wt) in c.items()}
              for st, c in sw.items()}
    agecell = {k: "%-*s " % (widths[3], a) for k, a in ages.items()}
    # the marker column: ' ' but for unreadable entries and the marker
    marks = dict.fromkeys(bad, "?")
    if marker_id is not None:   # (array.index has no start in 3.9)
        for i in compress(count(), map(marker_id.__eq__, ids)):
            marks[i] = "*"
    # the cells as iterators: no list of a million cells is made
    its = [map(marks.get, count(), repeat(" ")), iter(ids),
           map(dict.__getitem__, map(swcell.__getitem__, states), waits),
           map(agecell.__getitem__, keys), iter(names), iter(locs)]
    line = "%%s %%-%dd %%s%%s%%-%ds %%s\n" % (widths[0], widths[4])
    full = n - n % block if block > 1 else 0
    rows = []
    if full:
        # BLOCK lines per string (a million fewer string objects): each
        # column's iterator appears BLOCK times in one zip; the first
        # FULL rows, and the rest from where they stopped
        part = [islice(c, full) for c in its]
        rows = map((line * block).__mod__, zip(*(part * block)))
    return chain(out, rows, map(line.__mod__, zip(*its)))


def total_line(shown, table):
    """'6 coroutines: 4 blocked, 2 runnable.' or 'Shown 2 of 6 ...'."""
    import collections
    by_value = collections.Counter(table.column("state"))
    counts = {}
    for v, n in by_value.items():
        name = _STATE_TEXT.get(v, "state-%s" % v)
        counts[name] = counts.get(name, 0) + n
    order = [t for _, _, t in layout.STATES]
    parts = ["%d %s" % (counts[s], s) for s in order if s in counts]
    parts += ["%d %s" % (n, s) for s, n in sorted(counts.items())
              if s not in order]
    total = table.size()
    what = "%d coroutine%s" % (total, "" if total == 1 else "s")
    if parts:
        what += " (%s)" % ", ".join(parts)
    if shown != total:
        return "Shown %d of %s.\n" % (shown, what)
    return "Total: %s.\n" % what


def group_lines(groups, omitted, kind, what="coroutines"):
    out = []
    width = max([len(str(n)) for _, n, _, _ in groups] + [5])
    for key, n, samples, _ in groups:
        ids = ", ".join(str(i) for i in samples)
        more = ", ..." if n > len(samples) else ""
        out.append("%*d  %s  [%s%s]\n" % (width, n, key, ids, more))
    if omitted:
        out.append("(%d more groups not shown)\n" % omitted)
    return out


def apply_header(co):
    """The line `coroutine apply` prints before each coroutine's output."""
    return '\nCoroutine %d "%s" (%s%s):\n' % (
        co.id, co.name, co.state_name,
        ", " + co.wait_name if co.wait_name else "")


def stack_lines(frames, indent="        "):
    """FRAMES: [(level, Location)] -> indented lines."""
    return ["%s#%-3d %s\n" % (indent, lvl, format_location(loc))
            for lvl, loc in frames]


_NUMBER = re.compile(r"0x[0-9a-fA-F]+|\d+")
MAX_WARNINGS = 10     # distinct warning lines shown; the rest are counted
SAMPLE_WARNINGS = 3   # values shown on a collapsed line


def collapse_warnings(warnings, samples=SAMPLE_WARNINGS):
    """Warnings that differ only in their numbers become one line: the
    first, verbatim, with the count and the numbers that vary in the next
    few, e.g. 'chunk 0: null pointer: skipped (1024 times, also for 1, 2,
    3, ...)'.  A message seen once or twice is kept as it is; the order of
    first appearance is kept."""
    groups = {}
    order = []
    for w in warnings:
        key = _NUMBER.sub("N", w)
        g = groups.get(key)
        if g is None:
            g = groups[key] = []
            order.append(key)
        g.append(w)
    out = []
    for key in order:
        g = groups[key]
        if len(g) <= 2:
            out.extend(g)
            continue
        nums = [_NUMBER.findall(w) for w in g[:samples + 1]]
        vary = [k for k in range(len(nums[0]))
                if any(n[k] != nums[0][k] for n in nums)]
        vals = []
        for n in nums[1:]:
            v = [n[k] for k in vary]
            vals.append(v[0] if len(v) == 1 else "(%s)" % ", ".join(v))
        out.append("%s (%d times, also for %s%s)" % (
            g[0], len(g), ", ".join(vals),
            ", ..." if len(g) > samples + 1 else ""))
    return out


def warning_lines(warnings, limit=MAX_WARNINGS):
    """Lines 'warning: corodbg: ...' for WARNINGS (a table's), repeated ones
    collapsed, at most LIMIT of them and a line counting the rest."""
    if hasattr(warnings, "warnings"):
        warnings = warnings.warnings
    ws = collapse_warnings(warnings)
    out = ["warning: corodbg: %s\n" % w for w in ws[:limit]]
    if len(ws) > limit:
        out.append("warning: corodbg: ... and %d more warnings like these\n"
                   % (len(ws) - limit))
    return out
