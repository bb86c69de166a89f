"""Formatting: ages, locations, the listing, groups and totals.

Functions return strings (or lists of lines); writing them, paging and
colour are the adapter's business.
"""
import os

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
    fn, path, line, pc = loc
    if path and short_file:
        path = os.path.basename(path)
    if fn and path and line:
        return "%s at %s:%d" % (fn, path, line)
    if fn:
        return fn
    if pc is None:
        return "??"
    return "0x%x" % pc


HEADER = ("Id", "State", "Wait", "Age", "Name", "Location")


def listing_rows(coroutines, now_ns, loc_text, marker_id=None):
    """One tuple of cells per coroutine (marker, id, state, wait, age, name,
    location)."""
    rows = []
    for co in coroutines:
        mark = "*" if co.id == marker_id else " "
        if co.unreadable:
            mark = "?" if mark == " " else mark
        age = co.age_ns(now_ns) if co.state in (
            layout.STATE_BLOCKED, layout.STATE_RUNNABLE, layout.STATE_DEAD,
            layout.STATE_PANICKED, layout.STATE_CRASHED) else None
        state = co.state_name
        if co.state == layout.STATE_RUNNING and co.tid:
            state = "running"
        rows.append((mark, str(co.id), state, co.wait_name,
                     format_age(age) if age is not None else "",
                     co.name or "", loc_text(co)))
    return rows


def format_rows(rows, header=HEADER):
    """Align ROWS (from listing_rows) under HEADER like `info threads`."""
    widths = [len(h) for h in header[:-1]]
    for r in rows:
        for k in range(len(widths)):
            n = len(r[k + 1])
            if n > widths[k]:
                widths[k] = n
    fmt = "%s " + " ".join("%%-%ds" % w for w in widths) + " %s"
    out = [(fmt % ((" ",) + tuple(header))).rstrip() + "\n"]
    fmt += "\n"
    out.extend(fmt % r for r in rows)
    return out


def total_line(shown, table):
    """'6 coroutines: 4 blocked, 2 runnable.' or 'Shown 2 of 6 ...'."""
    counts = {}
    for co in table.coroutines:
        counts[co.state_name] = counts.get(co.state_name, 0) + 1
    order = [t for _, _, t in layout.STATES]
    parts = ["%d %s" % (counts[s], s) for s in order if s in counts]
    parts += ["%d %s" % (n, s) for s, n in sorted(counts.items())
              if s not in order]
    total = len(table.coroutines)
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


def stack_lines(frames, indent="        "):
    """FRAMES: [(level, Location)] -> indented lines."""
    return ["%s#%-3d %s\n" % (indent, lvl, format_location(loc))
            for lvl, loc in frames]


def warning_lines(table):
    return ["warning: corodbg: %s\n" % w for w in table.warnings]
