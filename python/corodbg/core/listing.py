"""The listing pipeline and the leak report, shared by every front end.

`info coroutines` (GDB) and `coroutine list` (LLDB) are the same function
here: select -> location texts -> rows -> optional stacks -> grouping ->
total line -> warnings.  The adapter supplies a `Frontend`: how to
symbolize an address, how to unwind a coroutine, which coroutines execute
on an OS thread and where that thread is.  Nothing here touches a
debugger.
"""
from itertools import chain, count
from operator import attrgetter

from . import leaks, query, render, runtime_rules

DEFAULT_USER_DEPTH = 32
# list_lines returns lines, but a listing of at least LIST_BLOCK_MIN rows
# (no stacks) has LIST_BLOCK rows per string: same text, a million fewer
# string objects at 1M coroutines.
LIST_BLOCK = 16
LIST_BLOCK_MIN = 4096

# The long help of the listing options: every front end's command
# docstring is LIST_HELP % {"cmd": ..., "what": ...}.
LIST_HELP = """Usage: %(cmd)s [OPTION]... [ID]...

Each line shows a marker (* = the coroutine you are looking at, or the one
running on the selected thread; ? = an entry that could not be fully
read), the id, state, wait reason, age (time since it last blocked or
woke), name and a location.  A total line ends the listing.

Location shown (like Delve's goroutines -u/-r/-g/-s):
  -r          where the coroutine is now (its saved pc; the default)
  -u          the first frame outside the runtime (needs unwinding; see
              the runtime-functions and runtime-files settings)
  -g          where it was created (the spawn call)
  -s          its start function

Filters:
  -state S[,S]   only these states (runnable, running, blocked, dead,
                 panicked, crashed; unique prefixes work)
  -name GLOB     only names matching the shell glob
  -loc TEXT      only coroutines whose shown location contains TEXT
  -running       only coroutines running on an OS thread
  -wait REASON   only coroutines blocked for REASON (e.g. "chan receive")
  -min-age D     only blocked coroutines waiting at least D (1m23s, 500ms)
  -limit N       print at most N lines
  ID...          only these ids (ranges like 5-9 work; ids no coroutine
                 has are named in one warning line)

Grouping:
  -group KIND    one line per group with its count and a few sample ids;
                 KIND is user, pc, go, start, state, wait or name
  -samples N     sample ids per group (default 5)

Stacks:
  -t [DEPTH]     add each coroutine's stack (default depth 10)

Examples:
  %(cmd)s -state blocked -min-age 1m
  %(cmd)s -group go
  %(cmd)s -t 5 -name 'worker*'"""

LEAKS_HELP = """Usage: %(cmd)s [-min-age DURATION]

Each group shows how many coroutines it holds, the oldest age, a few
sample ids, where they were created (the spawn call) and where they wait
(the first frame outside the runtime).  -min-age (also --min-age) keeps
only coroutines blocked for at least DURATION (e.g. 30s, 1m23s, 500ms)."""


def list_help(summary, cmd):
    """A listing command's docstring: SUMMARY line, then LIST_HELP."""
    return "%s\n\n%s" % (summary, LIST_HELP % {"cmd": cmd})


def leaks_help(summary, cmd):
    return "%s\n\n%s" % (summary, LEAKS_HELP % {"cmd": cmd})


class Frontend:
    """What the listing needs from a debugger.  Adapters subclass it.

    symbolize(pc, is_return) -> model.Location   (required; cache it)
    frames_of(co, depth) -> [(level, Location)]  (stacks, -u, leaks)
    executing() -> {tid: coroutine} of coroutines on OS threads now
    thread_location(co, tid) -> Location of the thread's frame 0, or None
    runtime: runtime_rules.RuntimeFrames (which frames are runtime code)
    """

    runtime = None

    def __init__(self, table):
        self.table = table
        if self.runtime is None:
            self.runtime = runtime_rules.RuntimeFrames()
        self.runtime.adopt(table)   # the runtime's own description

    def symbolize(self, pc, is_return=True):
        raise NotImplementedError

    def frames_of(self, co, depth):
        return []

    def executing(self):
        return self.table.executing()

    def thread_location(self, co, tid):
        return None

    def user_location(self, co, depth=DEFAULT_USER_DEPTH):
        """The first frame of CO outside the runtime, else its top frame,
        else its saved pc (None for pc 0: no context yet)."""
        loc = runtime_rules.user_frame(self.frames_of(co, depth), self.runtime)
        if loc is None and co.pc:
            loc = self.symbolize(co.pc)
        return loc


def user_text_fn(fe):
    """co -> text of its user location (formatted once per location)."""
    fmt = render.format_location
    texts = {}

    def text(co):
        loc = fe.user_location(co)
        t = texts.get(loc)
        if t is None:
            t = texts[loc] = fmt(loc)
        return t
    return text


def loc_text_fn(fe, kind):
    """co -> location text for a location kind (cached per address)."""
    fmt = render.format_location
    if kind == query.LOC_USER:
        return user_text_fn(fe)
    is_ret = kind != query.LOC_START
    cache = {}
    on = {}
    if kind == query.LOC_PC:
        on = {id(c): tid for tid, c in fe.executing().items()}

    def text(co):
        tid = on.get(id(co)) if on else None
        if tid is not None:
            # on a thread now: its saved registers are stale
            loc = fe.thread_location(co, tid)
            if loc is not None:
                return fmt(loc)
        pc = query.location_pc(co, kind)
        t = cache.get(pc)
        if t is None:
            t = cache[pc] = fmt(fe.symbolize(pc, is_ret)) if pc else "??"
        return t
    return text


def loc_texts(fe, cos, kind, loc_text):
    """Location text of every coroutine in COS: each distinct address is
    symbolized and formatted once, the per-coroutine part runs in C."""
    if kind == query.LOC_USER:
        return [loc_text(co) for co in cos]
    field = {query.LOC_PC: "pc", query.LOC_GO: "create_pc"}.get(kind,
                                                              "entry_fn")
    out = pc_texts(fe, list(map(attrgetter(field), cos)),
                   kind != query.LOC_START)
    if kind == query.LOC_PC:
        thread_texts(fe, out, cos.index, loc_text)
    return out


def pc_texts(fe, pcs, is_ret=True):
    """The location text of each address of PCS ('??' for 0), each
    distinct one symbolized and formatted once."""
    return list(map(pc_text_map(fe, pcs, is_ret).__getitem__, pcs))


def pc_text_map(fe, pcs, is_ret=True):
    """{address: its location text} for the distinct addresses of PCS."""
    fmt = render.format_location
    texts = {}
    for pc in set(pcs):
        texts[pc] = fmt(fe.symbolize(pc, is_ret)) if pc else "??"
    return texts


def thread_texts(fe, out, row_of, loc_text):
    """Give the few coroutines on a thread their thread's location in OUT
    (texts by row: a list, or a dict of the rows to override): each
    found by ROW_OF(co) (ValueError: not listed), not by a Python pass
    over every coroutine."""
    for co in fe.executing().values():
        try:
            i = row_of(co)
        except ValueError:
            continue
        out[i] = loc_text(co)


_PLAIN = vars(query.ListQuery())


def is_plain(q):
    """Is Q a listing with no option (what plain_lines lists)?"""
    return vars(q) == _PLAIN


def plain_lines(fe, now, marker_id):
    """The lines of a plain listing (no option) of a table given as
    columns (model.Table.columns), without making a Coroutine for any
    entry but those on a thread, as an iterator (render.column_lines);
    None when it cannot be done so."""
    tbl = fe.table
    cols = tbl.columns
    if cols is None or not now or not cols["id"]:
        return None   # (columns hold machine integers: no None)
    pcs = cols["pc"]
    texts = pc_text_map(fe, pcs)
    on_thread = {}   # row -> its thread's location
    thread_texts(fe, on_thread, tbl.row_of, loc_text_fn(fe, query.LOC_PC))
    # (made as the lines are: no list of a million references)
    locs = map(on_thread.get, count(), map(texts.__getitem__, pcs))
    n = len(pcs)
    return render.column_lines(cols, tbl.bad_rows(), now, locs, marker_id,
                               block=1 if n < LIST_BLOCK_MIN
                               else LIST_BLOCK)


def list_lines(fe, q, now, marker_id=None, warnings=False, notes=(),
               stream=False):
    """The whole listing for query Q as lines.  WARNINGS: start with the
    table's warnings (collapsed); NOTES: extra 'note:' lines at the end.
    STREAM: an iterable that may make the lines as they are taken (for a
    caller that writes them as they come), else a list."""
    tbl = fe.table
    out = render.warning_lines(tbl.warnings) if warnings else []
    lines = plain_lines(fe, now, marker_id) if is_plain(q) else None
    if lines is not None:
        end = _with_notes([render.total_line(tbl.size(), tbl)], notes)
        if stream:
            return chain(out, lines, end)
        return out + list(lines) + end
    # (no ids asked for: no by_id, a million-entry dict, to build)
    missing = query.missing_ids(q.ids, tbl) if q.ids else []
    cos = query.select(tbl.coroutines, q, now)
    loc_text = loc_text_fn(fe, q.loc_kind)
    if q.location:
        sub = q.location
        cos = [c for c in cos if sub in loc_text(c)]
    if q.group:
        gtext = loc_text_fn(fe, q.group) if q.group in query.LOC_KINDS \
            else loc_text
        groups, omitted = query.group(cos, q.group, gtext, q.max_groups,
                                      q.samples)
        out.append("Grouped by %s:\n" % q.group)
        out += render.group_lines(groups, omitted, q.group)
        out.append(render.total_line(len(cos), tbl))
        if missing:
            out.append(query.missing_warning(missing))
        return out
    if q.limit is not None:
        cos = cos[:q.limit]
    if not cos:
        out.append("No coroutines match.\n" if tbl.coroutines
                   else "No coroutines.\n")
        out.append(render.total_line(0, tbl))
        if missing:
            out.append(query.missing_warning(missing))
        return out
    # without stacks, a big listing's rows come LIST_BLOCK to a string
    lines = render.listing_lines(cos, now,
                                 loc_texts(fe, cos, q.loc_kind, loc_text),
                                 marker_id, block=1 if q.stack_depth or
                                 len(cos) < LIST_BLOCK_MIN else LIST_BLOCK,
                                 lazy=stream and not q.stack_depth)
    end = [render.total_line(len(cos), tbl)]
    if missing:
        end.append(query.missing_warning(missing))
    end = _with_notes(end, notes)
    if q.stack_depth:
        out.append(lines[0])
        stack_lines = render.stack_lines
        for line, co in zip(lines[1:], cos):
            out.append(line)
            out += stack_lines(fe.frames_of(co, q.stack_depth))
    elif stream:
        return chain(out, lines, end)
    else:
        out += lines
    return out + end


def _with_notes(out, notes):
    for n in notes:
        if n:
            out.append("note: %s\n" % n)
    return out


def leak_report(fe, now, min_age):
    """`coroutine leaks`: blocked coroutines by creation and wait site."""
    fmt = render.format_location
    user_text = user_text_fn(fe)
    created = {}

    def site(co, kind):
        if kind == "go":
            pc = co.create_pc
            t = created.get(pc)
            if t is None:
                t = created[pc] = fmt(fe.symbolize(pc, True))
            return t
        return user_text(co)
    groups = leaks.leak_groups(fe.table.coroutines, now, site, min_age)
    return leaks.leak_lines(groups, min_age, render.format_age)
