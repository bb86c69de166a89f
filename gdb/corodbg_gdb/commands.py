"""The corodbg commands.  Each class is thin: its docstring is the help,
invoke() parses with the core's parser and calls one worker."""
import fnmatch
import gc
import shlex

import gdb

from corodbg.core import errors, layout, query, render, leaks, decode
from . import target, view
from .target import S, gdb_errors, write_lines


def _loc_text_fn(tbl, kind):
    """co -> location text for a location kind, cached per stop."""
    if kind == query.LOC_USER:
        return lambda co: render.format_location(
            view.user_location(co, tbl))
    is_ret = kind != query.LOC_START
    cache = {}
    field = {query.LOC_PC: None, query.LOC_GO: "create_pc",
             query.LOC_START: "entry_fn"}[kind]

    def text(co):
        if field is None:
            if co.tid:
                # on a thread now: its saved registers are stale
                frames = view.frames_of(co, tbl, 1)
                if frames:
                    return render.format_location(frames[0][1])
            pc = co.pc
        else:
            pc = getattr(co, field)
        t = cache.get(pc)
        if t is None:
            t = cache[pc] = render.format_location(
                target.symbolize(pc, is_ret)) if pc else "??"
        return t
    return text


def _loc_texts(cos, tbl, kind, loc_text):
    """Location text of every coroutine in COS: each distinct address is
    symbolized and formatted once, the per-coroutine part runs in C."""
    if kind == query.LOC_USER:
        return [loc_text(co) for co in cos]
    field = {query.LOC_PC: "pc", query.LOC_GO: "create_pc",
             query.LOC_START: "entry_fn"}[kind]
    pcs = [getattr(co, field) for co in cos] if field != "pc" else \
        [co.pc for co in cos]
    is_ret = kind != query.LOC_START
    texts = {}
    for pc in set(pcs):
        texts[pc] = render.format_location(
            target.symbolize(pc, is_ret)) if pc else "??"
    out = list(map(texts.__getitem__, pcs))
    if kind == query.LOC_PC:
        for i, co in enumerate(cos):
            if co.tid:  # on a thread now: saved registers are stale
                out[i] = loc_text(co)
    return out


def _marker_id(tbl):
    if view.VIEW is not None and gdb.selected_thread() == view.VIEW.thread:
        return view.VIEW.co.id
    co = tbl.by_tid.get(target.current_lwp())
    return co.id if co else None


def list_coroutines(arg):
    q = query.parse_list_args(arg)
    tbl = target.table()
    now = target.now_ns(tbl)
    cos = query.select(tbl.coroutines, q, now)
    if q.ids:
        known = tbl.by_id
        for cid in q.ids:
            if cid not in known:
                raise errors.UnknownCoroutineError(cid)
    loc_text = _loc_text_fn(tbl, q.loc_kind)
    if q.location:
        sub = q.location
        cos = [c for c in cos if sub in loc_text(c)]
    if q.group:
        gtext = _loc_text_fn(tbl, q.group) if q.group in query.LOC_KINDS \
            else loc_text
        groups, omitted = query.group(cos, q.group, gtext, q.max_groups,
                                      q.samples)
        lines = ["Grouped by %s:\n" % q.group]
        lines += render.group_lines(groups, omitted, q.group)
        lines.append(render.total_line(len(cos), tbl))
        write_lines(lines)
        return
    if q.limit is not None:
        cos = cos[:q.limit]
    if not cos:
        write_lines(["No coroutines match.\n" if tbl.coroutines
                     else "No coroutines.\n", render.total_line(0, tbl)])
        return
    rows = render.listing_rows(cos, now, loc_text, _marker_id(tbl),
                               _loc_texts(cos, tbl, q.loc_kind, loc_text))
    lines = render.format_rows(rows)
    if q.stack_depth:
        lines = _with_stacks(lines, cos, tbl, q.stack_depth)
    lines = list(lines)
    lines.append(render.total_line(len(cos), tbl))
    write_lines(lines)


def _with_stacks(lines, cos, tbl, depth):
    yield lines[0]
    for line, co in zip(lines[1:], cos):
        yield line
        for l in render.stack_lines(view.frames_of(co, tbl, depth)):
            yield l


class InfoCoroutines(gdb.Command):
    """List the coroutines of the program, like `info threads`.

Usage: info coroutines [OPTION]... [ID]...

Each line shows a marker (* = the coroutine you are looking at or the one
running on the selected thread, ? = an entry that could not be fully
read), the id, state, wait reason, age (time since it last blocked or
woke), name and a location.  A total line ends the listing.

Location shown (like Delve's goroutines -u/-r/-g/-s):
  -r          where the coroutine is now (its saved pc; the default)
  -u          the first frame outside the runtime (needs unwinding)
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
  ID...          only these ids (ranges like 5-9 work)

Grouping:
  -group KIND    one line per group with its count and a few sample ids;
                 KIND is user, pc, go, start, state, wait or name
  -samples N     sample ids per group (default 5)

Stacks:
  -t [DEPTH]     add each coroutine's stack (default depth 10)

Examples:
  info coroutines -state blocked -min-age 1m
  info coroutines -group go
  info coroutines -t 5 -name 'worker*'"""

    def __init__(self):
        super().__init__("info coroutines", gdb.COMMAND_STATUS)

    @gdb_errors
    def invoke(self, arg, from_tty):
        self.dont_repeat()
        enabled = gc.isenabled()
        gc.disable()  # see decode.decode_table: many objects, no cycles
        try:
            list_coroutines(arg)
        finally:
            if enabled:
                gc.enable()


InfoCoroutines()


def _run_in_view(co, tbl, cmd, from_tty, header=None):
    saved = view.save_selection()
    try:
        msg = view.enter(co, tbl)
        if header:
            gdb.write(header)
        elif from_tty is None:
            gdb.write(msg + "\n")
        gdb.execute(cmd, from_tty)
    finally:
        view.restore_selection(saved)


class CoroutineCmd(gdb.Command):
    """Select a coroutine, or run a command in its view.

Usage: coroutine [ID [COMMAND]]

With no argument, show the coroutine being looked at.
With ID, select that coroutine: bt, frame N, up, down, info locals,
info frame and print then show its stack.  Its frames start at #1 (#0 is
the thread's real frame, hidden from bt).  Selecting a coroutine that is
running selects its OS thread instead.  The view is dropped when the
program resumes and by `coroutine off`.
With ID COMMAND, run COMMAND in that coroutine's view and come back.

Subcommands: apply, break, crashed, leaks, off."""

    def __init__(self):
        super().__init__("coroutine", gdb.COMMAND_STACK, prefix=True)

    @gdb_errors
    def invoke(self, arg, from_tty):
        self.dont_repeat()
        words = arg.split(None, 1)
        if not words:
            cid = view.current_coroutine_id()
            if not cid:
                gdb.write("No coroutine selected, and none runs on the "
                          "selected thread.\n")
                return
            co = target.table().find(cid)
            gdb.write("[Current coroutine is %d \"%s\" (%s)]\n"
                      % (co.id, co.name, co.state_name))
            return
        cid = query.parse_id(words[0])
        tbl = target.table()
        co = tbl.find(cid)
        if len(words) > 1:
            _run_in_view(co, tbl, words[1], from_tty)
            return
        msg = view.enter(co, tbl)
        gdb.write(msg + "\n")
        gdb.execute("frame", from_tty)


CoroutineCmd()


class CoroutineOff(gdb.Command):
    """Drop the coroutine view and return to the thread's own stack.

Usage: coroutine off"""

    def __init__(self):
        super().__init__("coroutine off", gdb.COMMAND_STACK)

    @gdb_errors
    def invoke(self, arg, from_tty):
        if arg.strip():
            raise errors.UsageError("coroutine off takes no argument")
        had = view.VIEW is not None
        view.leave()
        if had:
            gdb.write("[Back to thread %d's own stack]\n"
                      % gdb.selected_thread().num)


CoroutineOff()


def _parse_apply(arg, tbl):
    """'all CMD' | 'ID... CMD' | '-state S CMD' -> (coroutines, CMD)."""
    words = arg.split()
    if not words:
        raise errors.UsageError(
            "Usage: coroutine apply all|ID...|-state S COMMAND")
    if words[0] == "all":
        cos, rest = list(tbl.coroutines), arg.split(None, 1)[1:]
    elif words[0] in ("-state", "-s"):
        if len(words) < 2:
            raise errors.UsageError("-state needs a value")
        states = query.parse_states(words[1])
        cos = [c for c in tbl.coroutines if c.state in states]
        rest = arg.split(None, 2)[2:]
    else:
        ids, k = [], 0
        while k < len(words) and (words[k][0].isdigit()):
            ids.extend(query.parse_ids([words[k]]))
            k += 1
        if not ids:
            raise errors.UsageError(
                "Usage: coroutine apply all|ID...|-state S COMMAND")
        cos = [tbl.find(i) for i in ids]
        rest = arg.split(None, k)[k:]
    if not rest or not rest[0].strip():
        raise errors.UsageError("coroutine apply: no command to apply")
    return cos, rest[0]


class CoroutineApply(gdb.Command):
    """Run a command in the view of several coroutines.

Usage: coroutine apply all|ID...|-state STATE COMMAND

Like `thread apply`: for each selected coroutine print a header line and
run COMMAND (e.g. bt, info locals, "frame 2") in its view.  The table is
read once, so this is O(n) in the number of coroutines.  An error in one
coroutine is printed and the loop goes on.

Examples:
  coroutine apply all bt
  coroutine apply 3 5-7 info locals
  coroutine apply -state blocked bt 3"""

    def __init__(self):
        super().__init__("coroutine apply", gdb.COMMAND_STACK)

    @gdb_errors
    def invoke(self, arg, from_tty):
        self.dont_repeat()
        tbl = target.table()
        cos, cmd = _parse_apply(arg, tbl)
        saved = view.save_selection()
        try:
            for co in cos:
                gdb.write("\nCoroutine %d \"%s\" (%s%s):\n"
                          % (co.id, co.name, co.state_name,
                             ", " + co.wait_name if co.wait_name else ""))
                try:
                    view.enter(co, tbl)
                    gdb.execute(cmd, from_tty)
                except (gdb.error, errors.CorodbgError) as e:
                    gdb.write("error: %s\n" % e, gdb.STDERR)
        finally:
            view.restore_selection(saved)


CoroutineApply()


class CoroutineLeaks(gdb.Command):
    """Group blocked coroutines by creation site and wait site.

Usage: coroutine leaks [-min-age DURATION]

Each group shows how many coroutines it holds, the oldest age, a few
sample ids, where they were created (the spawn call) and where they wait.
-min-age (also --min-age) keeps only coroutines blocked for at least
DURATION (e.g. 30s, 1m23s, 500ms)."""

    def __init__(self):
        super().__init__("coroutine leaks", gdb.COMMAND_STATUS)

    @gdb_errors
    def invoke(self, arg, from_tty):
        self.dont_repeat()
        words = shlex.split(arg)
        min_age = None
        i = 0
        while i < len(words):
            if words[i] in ("-min-age", "--min-age", "-age"):
                if i + 1 >= len(words):
                    raise errors.UsageError("-min-age needs a duration")
                min_age = query.parse_duration(words[i + 1])
                i += 2
            else:
                raise errors.UsageError(
                    "Usage: coroutine leaks [-min-age DURATION]")
        tbl = target.table()
        now = target.now_ns(tbl)

        def site(co, kind):
            if kind == "go":
                return render.format_location(
                    target.symbolize(co.create_pc, True))
            return render.format_location(view.user_location(co, tbl))
        groups = leaks.leak_groups(tbl.coroutines, now, site, min_age)
        write_lines(leaks.leak_lines(groups, None, min_age,
                                     render.format_age))


CoroutineLeaks()


class CoroutineCrashed(gdb.Command):
    """Select the coroutine that crashed (fatal signal or panic).

Usage: coroutine crashed

Looks for the coroutine recorded by the crash handler (descriptor
crashed_id), else one in state crashed, else one running on a thread that
stopped on a fatal signal, else a panicked one; then selects it like
`coroutine ID` and says which signal and fault address."""

    def __init__(self):
        super().__init__("coroutine crashed", gdb.COMMAND_STACK)

    @gdb_errors
    def invoke(self, arg, from_tty):
        from . import catch
        tbl = target.table()
        co, line = catch.crashed_coroutine(tbl)
        if co is None:
            raise errors.CorodbgError("No coroutine crashed.")
        gdb.write(line + "\n")
        msg = view.enter(co, tbl)
        gdb.write(msg + "\n")
        gdb.execute("frame", from_tty)


CoroutineCrashed()


# ---- settings ----------------------------------------------------------------

class SetCorodbg(gdb.Command):
    """Settings of the corodbg extension.

Usage: set corodbg SETTING VALUE"""

    def __init__(self):
        super().__init__("set corodbg", gdb.COMMAND_DATA, prefix=True)


class ShowCorodbg(gdb.Command):
    """Show settings of the corodbg extension.

Usage: show corodbg SETTING"""

    def __init__(self):
        super().__init__("show corodbg", gdb.COMMAND_DATA, prefix=True)


SetCorodbg()
ShowCorodbg()


class RuntimeFunctions(gdb.Parameter):
    """Comma-separated globs naming the runtime's functions.

The user location (info coroutines -u, coroutine leaks) is the first frame
whose function matches none of them."""

    set_doc = "Set the globs naming the coroutine runtime's functions."
    show_doc = "Show the globs naming the coroutine runtime's functions."

    def __init__(self):
        super().__init__("corodbg runtime-functions", gdb.COMMAND_DATA,
                         gdb.PARAM_STRING)
        self.value = ",".join(query.DEFAULT_RUNTIME_GLOBS)

    def get_set_string(self):
        S.runtime.set(self.value or "")
        return ""

    def get_show_string(self, svalue):
        return "Runtime functions: %s" % svalue


class DebugParam(gdb.Parameter):
    """Print Python tracebacks of corodbg's internal errors."""

    set_doc = "Set corodbg debugging output."
    show_doc = "Show corodbg debugging output."

    def __init__(self):
        super().__init__("corodbg debug", gdb.COMMAND_MAINTENANCE,
                         gdb.PARAM_BOOLEAN)
        self.value = False

    def get_set_string(self):
        S.debug = bool(self.value)
        return ""

    def get_show_string(self, svalue):
        return "corodbg debugging output is %s." % svalue


class RuntimeFiles(gdb.Parameter):
    """Comma-separated globs naming the runtime's source files.

A frame whose source file matches one of them is runtime code too (for a
runtime whose static helpers share no name prefix)."""

    set_doc = "Set the globs naming the coroutine runtime's source files."
    show_doc = "Show the globs naming the coroutine runtime's source files."

    def __init__(self):
        super().__init__("corodbg runtime-files", gdb.COMMAND_DATA,
                         gdb.PARAM_STRING)
        self.value = ",".join(query.DEFAULT_RUNTIME_FILES)

    def get_set_string(self):
        S.runtime_files.set(self.value or "")
        return ""

    def get_show_string(self, svalue):
        return "Runtime source files: %s" % svalue


RuntimeFunctions()
RuntimeFiles()
DebugParam()


# ---- convenience functions ---------------------------------------------------

class CoroutineIdFn(gdb.Function):
    """$_coroutine_id() - id of the coroutine being looked at (0 if none).

Usage: $_coroutine_id()

The coroutine selected with `coroutine ID`, else the one running on the
selected thread, else 0.  Useful in conditions:
  break handler if $_coroutine_id() == 7"""

    def __init__(self):
        super().__init__("_coroutine_id")

    def invoke(self):
        try:
            return view.current_coroutine_id()
        except errors.CorodbgError:
            return 0


class CoroutineStateFn(gdb.Function):
    """$_coroutine_state(ID) - state of coroutine ID as a string.

Usage: $_coroutine_state(ID)

Returns "runnable", "running", "blocked", "dead", "panicked", "crashed",
or "none" when no live coroutine has that id.  Example:
  if $_streq($_coroutine_state(3), "blocked")"""

    def __init__(self):
        super().__init__("_coroutine_state")

    def invoke(self, cid=None):
        if cid is None:
            cid = view.current_coroutine_id()
        try:
            co = target.table().by_id.get(int(cid))
        except errors.CorodbgError as e:
            raise gdb.GdbError(str(e))
        return co.state_name if co else "none"


CoroutineIdFn()
CoroutineStateFn()
