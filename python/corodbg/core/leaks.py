"""Leak analysis: blocked coroutines grouped by (creation site, wait site).

A coroutine that waits forever usually shares both sites with many others
(the same leaking spawn, blocked on the same channel operation), so the
groups read like a heap profiler's "leaked by" report.
"""
from . import layout


class LeakGroup:
    """COUNT blocked coroutines with the same creation and wait sites."""

    __slots__ = ("create_site", "wait_site", "wait", "count", "oldest_ns",
                 "ids")

    def __init__(self, create_site, wait_site, wait):
        self.create_site = create_site
        self.wait_site = wait_site
        self.wait = wait
        self.count = 0
        self.oldest_ns = None
        self.ids = []


def leak_groups(coroutines, now_ns, site_text, min_age_ns=None,
                samples=5):
    """Group blocked coroutines.

    SITE_TEXT(co, kind) -> text, kind in ("go", "wait").  Returns the
    groups sorted by count then oldest age, largest first.
    """
    groups = {}
    for co in coroutines:
        if co.state != layout.STATE_BLOCKED:
            continue
        age = co.age_ns(now_ns)
        if min_age_ns is not None and (age is None or age < min_age_ns):
            continue
        key = (site_text(co, "go"), site_text(co, "wait"), co.wait_name)
        g = groups.get(key)
        if g is None:
            g = groups[key] = LeakGroup(*key)
        g.count += 1
        if age is not None and (g.oldest_ns is None or age > g.oldest_ns):
            g.oldest_ns = age
        if len(g.ids) < samples:
            g.ids.append(co.id)
    return sorted(groups.values(),
                  key=lambda g: (-g.count, -(g.oldest_ns or 0),
                                 g.create_site, g.wait_site))


def leak_lines(groups, min_age_ns, format_age):
    out = []
    if not groups:
        cond = "" if min_age_ns is None else \
            " waiting at least %s" % format_age(min_age_ns)
        return ["No blocked coroutines%s.\n" % cond]
    n = sum(g.count for g in groups)
    out.append("%d blocked coroutine%s in %d group%s (by creation site and "
               "wait site):\n" % (n, "" if n == 1 else "s", len(groups),
                                  "" if len(groups) == 1 else "s"))
    for g in groups:
        ids = ", ".join(str(i) for i in g.ids)
        if g.count > len(g.ids):
            ids += ", ..."
        out.append("\n%6d  blocked on %s, oldest %s  [ids %s]\n"
                   % (g.count, g.wait or "?", format_age(g.oldest_ns), ids))
        out.append("        created at  %s\n" % g.create_site)
        out.append("        waiting at  %s\n" % g.wait_site)
    return out
