"""Queries as data: the one argument parser of the listing commands, the
filters, location kinds and grouping, and the other commands' arguments.
Which frames are runtime code (the user location) is runtime_rules.py.

`parse_list_args` is shared by every front end (GDB `info coroutines`, LLDB
`coroutine list`); it returns a ListQuery and never touches a debugger.
"""
import fnmatch
import re
import shlex

from . import layout
from .errors import UnknownCoroutineError, UsageError
from .model import STATE_BY_NAME, WAIT_BY_NAME

# Location kinds, like Delve's -u/-r/-g/-s.
LOC_USER = "user"      # first frame outside the runtime
LOC_PC = "pc"          # where the coroutine is now (saved pc)
LOC_GO = "go"          # creation site (the spawn call's return address)
LOC_START = "start"    # start function
LOC_KINDS = (LOC_USER, LOC_PC, LOC_GO, LOC_START)
GROUP_KINDS = LOC_KINDS + ("state", "wait", "name")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h|d)")
_UNITS = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
          "h": 3600 * 10**9, "d": 86400 * 10**9}


def parse_duration(text):
    """'1m23s', '500ms', '2h', '10' (seconds) -> nanoseconds."""
    t = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", t):
        return int(float(t) * 10**9)
    pos, total = 0, 0
    for m in _DURATION.finditer(t):
        if m.start() != pos:
            break
        total += int(float(m.group(1)) * _UNITS[m.group(2)])
        pos = m.end()
    if pos != len(t) or not t:
        raise UsageError("bad duration %r (use e.g. 1m23s, 500ms, 2h)"
                         % text)
    return total


def _pick(kind, text, names, typed):
    """The one name of NAMES that TYPED equals or starts; an ambiguous or
    unknown KIND (TEXT: what the user wrote) is one error line."""
    if typed in names:
        return typed
    hits = [n for n in names if typed and n.startswith(typed)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise UsageError("ambiguous %s %r: %s"
                         % (kind, text, ", ".join(sorted(hits))))
    raise UsageError("unknown %s %r (one of: %s)"
                     % (kind, text, ", ".join(names)))


STATE_NAMES = tuple(n for _, _, n in layout.STATES if n != "free")
WAIT_REASONS = tuple(n for _, _, n in layout.WAITS if n)


def parse_state(text):
    """'blocked' (or a unique prefix) -> state value."""
    return STATE_BY_NAME[_pick("state", text, STATE_NAMES, text.lower())]


def parse_states(text):
    return frozenset(parse_state(s) for s in text.split(",") if s)


def parse_wait(text):
    """'chan receive' (also chan-receive, chan_receive, or a unique
    prefix) -> wait reason value."""
    t = text.lower().replace("-", " ").replace("_", " ")
    return WAIT_BY_NAME[_pick("wait reason", text, WAIT_REASONS, t)]


def parse_id(text):
    try:
        v = int(text, 0)
    except ValueError:
        raise UsageError("bad coroutine id %r (expected a number)" % text)
    if v <= 0:
        raise UsageError("bad coroutine id %r (ids start at 1)" % text)
    return v


def parse_ids(words):
    """IDs and ranges: '3', '5-9' -> list of ints (ranges expanded)."""
    out = []
    for w in words:
        if re.fullmatch(r"\d+-\d+", w):
            a, b = (int(x) for x in w.split("-"))
            if b < a or b - a > layout.MAX_COROUTINES:
                raise UsageError("bad id range %r" % w)
            out.extend(range(a, b + 1))
        else:
            out.append(parse_id(w))
    return out


class ListQuery:
    """What to list.  Every attribute has a neutral default."""

    def __init__(self):
        self.ids = []              # only these ids (empty: all)
        self.states = None         # frozenset of state values, or None
        self.name = None           # fnmatch glob
        self.location = None       # substring of the shown location
        self.running = False       # only RUNNING
        self.min_age_ns = None     # only waiting at least this long
        self.wait = None           # wait reason value
        self.loc_kind = LOC_PC     # location shown on each line
        self.group = None          # one of GROUP_KINDS
        self.stack_depth = None    # -t [DEPTH]
        self.max_groups = 50
        self.samples = 5           # sample ids per group
        self.limit = None          # print at most N lines


_OPTS_HELP = "-state S, -name GLOB, -loc TEXT, -running, -min-age D, " \
             "-wait REASON, -u, -r, -g, -s, -group KIND, -samples N, " \
             "-t [DEPTH], -limit N"


def parse_list_args(arg):
    """Parse `info coroutines` options.  ARG is a string or word list."""
    words = shlex.split(arg) if isinstance(arg, str) else list(arg)
    q = ListQuery()
    i = 0

    def value(opt):
        nonlocal i
        i += 1
        if i >= len(words):
            raise UsageError("option %s needs a value" % opt)
        return words[i]

    while i < len(words):
        w = words[i]
        o = w.lstrip("-") if w.startswith("-") and len(w) > 1 \
            and not w[1:].isdigit() else None
        if o is None:
            q.ids.extend(parse_ids([w]))
        elif o in ("state", "st"):
            q.states = (q.states or frozenset()) | parse_states(value(w))
        elif o in ("name", "n"):
            q.name = value(w)
        elif o in ("loc", "location", "l"):
            q.location = value(w)
        elif o in ("running",):
            q.running = True
        elif o in ("min-age", "age"):
            q.min_age_ns = parse_duration(value(w))
        elif o in ("wait", "w"):
            q.wait = parse_wait(value(w))
        elif o in ("u", "user"):
            q.loc_kind = LOC_USER
        elif o in ("r", "pc", "current"):
            q.loc_kind = LOC_PC
        elif o in ("g", "go", "created", "creation"):
            q.loc_kind = LOC_GO
        elif o in ("s", "start"):
            q.loc_kind = LOC_START
        elif o in ("group", "G"):
            g = value(w).lower()
            if g in ("current", "r"):
                g = LOC_PC
            elif g in ("creation", "created", "g"):
                g = LOC_GO
            elif g in ("u",):
                g = LOC_USER
            elif g in ("s",):
                g = LOC_START
            if g not in GROUP_KINDS:
                raise UsageError("bad group kind %r (one of: %s)"
                                 % (g, ", ".join(GROUP_KINDS)))
            q.group = g
        elif o == "t":
            q.stack_depth = 10
            if i + 1 < len(words) and words[i + 1].isdigit():
                i += 1
                q.stack_depth = int(words[i])
                if not 1 <= q.stack_depth <= 1000:
                    raise UsageError("stack depth must be 1..1000")
        elif o == "limit":
            try:
                q.limit = int(value(w))
            except ValueError:
                q.limit = 0
            if q.limit < 1:
                raise UsageError("-limit needs a number >= 1")
        elif o == "samples":
            try:
                q.samples = max(1, int(value(w)))
            except ValueError:
                raise UsageError("-samples needs a number")
        else:
            raise UsageError("unknown option %s (options: %s)"
                             % (w, _OPTS_HELP))
        i += 1
    return q


def select(coroutines, q, now_ns):
    """Apply the cheap filters (not -loc) of Q.  Returns a list."""
    out = coroutines
    if q.ids:
        want = set(q.ids)
        out = [c for c in out if c.id in want]
    if q.running:
        out = [c for c in out if c.state == layout.STATE_RUNNING]
    if q.states is not None:
        out = [c for c in out if c.state in q.states]
    if q.wait is not None:
        out = [c for c in out if c.state == layout.STATE_BLOCKED
               and c.wait_reason == q.wait]
    if q.name:
        rx = re.compile(fnmatch.translate(q.name))
        out = [c for c in out if c.name is not None and rx.match(c.name)]
    if q.min_age_ns is not None:
        m = q.min_age_ns
        out = [c for c in out if c.state == layout.STATE_BLOCKED
               and (c.age_ns(now_ns) or 0) >= m]
    return out if out is not coroutines else list(out)


def location_pc(co, kind):
    """The address a location kind names for CO (None when unknown).  The
    user location is a frame, not a field: listing.user_text_fn."""
    if kind == LOC_PC:
        return co.pc
    if kind == LOC_GO:
        return co.create_pc
    if kind == LOC_START:
        return co.entry_fn
    raise UsageError("bad location kind %r" % kind)


def group_key(co, kind, loc_text):
    if kind == "state":
        return co.state_name
    if kind == "wait":
        return co.wait_name or "(not waiting)"
    if kind == "name":
        return co.name or "(no name)"
    return loc_text(co)


def group(coroutines, kind, loc_text, max_groups=50, samples=5):
    """Group by KIND.  Returns ([(key, count, [sample ids], members)],
    omitted groups) with groups ordered by count, then key."""
    groups = {}
    for co in coroutines:
        k = group_key(co, kind, loc_text)
        g = groups.get(k)
        if g is None:
            groups[k] = [co]
        else:
            g.append(co)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    out = [(k, len(v), [c.id for c in v[:samples]], v)
           for k, v in ordered[:max_groups]]
    return out, max(0, len(ordered) - max_groups)


# ---- the other commands' arguments ----------------------------------------

APPLY_USAGE = "Usage: coroutine apply all|ID...|-state S COMMAND"
LEAKS_USAGE = "Usage: coroutine leaks [-min-age DURATION]"


def format_ids(ids, limit=10):
    """'3, 5-9, 12' for the sorted distinct IDS (at most LIMIT pieces,
    then '...')."""
    ids = sorted(set(ids))
    parts, i = [], 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        parts.append(str(ids[i]) if i == j else "%d-%d" % (ids[i], ids[j]))
        i = j + 1
    if len(parts) > limit:
        parts = parts[:limit] + ["..."]
    return ", ".join(parts)


def missing_ids(ids, table):
    """The ids of IDS no live coroutine of TABLE has, like `info threads`
    and `thread apply`: a few missing ones are a warning (see
    missing_warning), all of them missing is an error."""
    by_id = table.by_id
    missing = [i for i in ids if i not in by_id]
    if missing and len(missing) == len(ids):
        if len(set(missing)) == 1:
            raise UnknownCoroutineError(missing[0])
        raise UnknownCoroutineError("", "no coroutines with ids %s"
                                    % format_ids(missing))
    return missing


def missing_warning(missing):
    """The one warning line naming the ids of MISSING ('' when none)."""
    if not missing:
        return ""
    if len(set(missing)) == 1:
        return "warning: no coroutine with id %d\n" % missing[0]
    return "warning: no coroutines with ids %s\n" % format_ids(missing)


def parse_apply(arg, table):
    """`coroutine apply` arguments: 'all CMD' | 'ID... CMD' | '-state S
    CMD' -> (coroutines, CMD, missing ids).  Ids no coroutine has are
    skipped (missing_warning names them); none existing is an error.  A
    leading '-- ' of CMD is dropped; any other leading '-' word is an
    unknown option, refused once (not run as a command per coroutine)."""
    words = arg.split()
    if not words:
        raise UsageError(APPLY_USAGE)
    missing = []
    if words[0] == "all":
        cos, rest = list(table.coroutines), arg.split(None, 1)[1:]
    elif words[0] in ("-state", "-s"):
        if len(words) < 2:
            raise UsageError("-state needs a value")
        states = parse_states(words[1])
        cos = [c for c in table.coroutines if c.state in states]
        rest = arg.split(None, 2)[2:]
    else:
        ids, k = [], 0
        while k < len(words) and words[k][0].isdigit():
            ids.extend(parse_ids([words[k]]))
            k += 1
        if not ids:
            if words[0].startswith("-"):
                raise UsageError("coroutine apply: unknown option %s (%s)"
                                 % (words[0], APPLY_USAGE))
            raise UsageError(APPLY_USAGE)
        missing = missing_ids(ids, table)
        by_id = table.by_id
        cos = [by_id[i] for i in ids if i in by_id]
        rest = arg.split(None, k)[k:]
    if not rest or not rest[0].strip():
        raise UsageError("coroutine apply: no command to apply")
    cmd = rest[0].strip()
    if cmd == "--" or cmd.startswith("-- "):
        cmd = cmd[3:].strip()
        if not cmd:
            raise UsageError("coroutine apply: no command to apply")
    elif cmd.startswith("-"):
        raise UsageError("coroutine apply: unknown option %s (%s)"
                         % (cmd.split()[0], APPLY_USAGE))
    return cos, cmd, missing


def parse_leaks_args(arg):
    """`coroutine leaks [-min-age DURATION]` -> min age in ns, or None."""
    words = shlex.split(arg) if isinstance(arg, str) else list(arg)
    min_age = None
    i = 0
    while i < len(words):
        if words[i] in ("-min-age", "--min-age", "-age"):
            if i + 1 >= len(words):
                raise UsageError("-min-age needs a duration")
            min_age = parse_duration(words[i + 1])
            i += 2
        else:
            raise UsageError(LEAKS_USAGE)
    return min_age


class CatchQuery:
    """A state catch request: states (frozenset of values), id (0: any),
    glob ("" : any)."""

    def __init__(self, states, cid=0, glob=""):
        self.states = states
        self.cid = cid
        self.glob = glob


def parse_catch_state(words, usage):
    """`... state STATE[,STATE] [ID|NAME-GLOB] [-id ID] [-name GLOB]`
    (WORDS: what follows `state`) -> CatchQuery.  A bare number is an id,
    any other bare word a name glob."""
    if not words:
        raise UsageError(usage)
    states = parse_states(words[0])
    if not states:
        raise UsageError(usage)
    cid, glob, i = 0, "", 1
    while i < len(words):
        w = words[i]
        if w in ("-id", "--id", "-name", "--name"):
            if i + 1 >= len(words):
                raise UsageError("%s needs a value" % w)
            if w.endswith("id"):
                cid = parse_id(words[i + 1])
            else:
                glob = words[i + 1]
            i += 2
            continue
        if w.startswith("-"):
            raise UsageError("unknown catch option %s" % w)
        if cid or glob:
            raise UsageError(usage)
        if w.isdigit():
            cid = parse_id(w)
        else:
            glob = w
        i += 1
    if glob and len(glob.encode()) >= layout.FILTER_NAME_MAX:
        raise UsageError("name glob longer than %d bytes"
                         % (layout.FILTER_NAME_MAX - 1))
    return CatchQuery(states, cid, glob)
