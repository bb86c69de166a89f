"""The corodbg commands.  Each class is thin: its docstring is the help,
invoke() parses with the core's parser and calls one worker."""
import gc

import gdb

from corodbg.core import errors, listing, query, render
from . import target, view
from .target import S, gdb_errors, write_lines


def _marker_id(tbl):
    if S.view is not None and gdb.selected_thread() == S.view.thread:
        return S.view.co.id
    co = tbl.on_thread(target.current_lwp(), target.current_sp())
    return co.id if co else None


def list_coroutines(arg):
    q = query.parse_list_args(arg)
    tbl = target.table(columns=listing.is_plain(q))
    now = target.now_ns(tbl)
    write_lines(listing.list_lines(view.Frontend(tbl), q, now,
                                   _marker_id(tbl), stream=True))


class InfoCoroutines(gdb.Command):
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


InfoCoroutines.__doc__ = listing.list_help(
    "List the coroutines of the program, like `info threads`.",
    "info coroutines")
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
        view.print_selected_frame(from_tty)


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
        had = S.view is not None
        view.leave()
        if had:
            gdb.write("[Back to thread %d's own stack]\n"
                      % gdb.selected_thread().num)


CoroutineOff()


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
        cos, cmd, missing = query.parse_apply(arg, tbl)
        saved = view.save_selection()
        try:
            for co in cos:
                gdb.write(render.apply_header(co))
                try:
                    view.enter(co, tbl)
                    gdb.execute(cmd, from_tty)
                except (gdb.error, errors.CorodbgError) as e:
                    gdb.write("error: %s\n" % e, gdb.STDERR)
        finally:
            view.restore_selection(saved)
        if missing:
            gdb.write(query.missing_warning(missing), gdb.STDERR)


CoroutineApply()


class CoroutineLeaks(gdb.Command):
    def __init__(self):
        super().__init__("coroutine leaks", gdb.COMMAND_STATUS)

    @gdb_errors
    def invoke(self, arg, from_tty):
        self.dont_repeat()
        min_age = query.parse_leaks_args(arg)
        tbl = target.table()
        now = target.now_ns(tbl)
        write_lines(listing.leak_report(view.Frontend(tbl), now, min_age))


CoroutineLeaks.__doc__ = listing.leaks_help(
    "Group blocked coroutines by creation site and wait site.",
    "coroutine leaks")
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
        view.print_selected_frame(from_tty)


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
whose function matches none of them.  Empty (the default): the globs the
runtime wrote into its table (corodbg_set_runtime_code), plus corodbg_*
and __*.  Setting globs replaces those."""

    set_doc = "Set the globs naming the coroutine runtime's functions."
    show_doc = "Show the globs naming the coroutine runtime's functions."

    def __init__(self):
        super().__init__("corodbg runtime-functions", gdb.COMMAND_DATA,
                         gdb.PARAM_STRING)
        self.value = ""

    def get_set_string(self):
        S.runtime.functions.set(self.value or "")
        return ""

    def get_show_string(self, svalue):
        return "Runtime functions: %s%s" % (
            ",".join(S.runtime.functions.globs),
            "" if svalue else " (the runtime's own)")


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
runtime whose static helpers share no name prefix).  Empty (the default):
the runtime's own "file:" globs from its table, plus libcorodbg's
sources.  Setting globs replaces those."""

    set_doc = "Set the globs naming the coroutine runtime's source files."
    show_doc = "Show the globs naming the coroutine runtime's source files."

    def __init__(self):
        super().__init__("corodbg runtime-files", gdb.COMMAND_DATA,
                         gdb.PARAM_STRING)
        self.value = ""

    def get_set_string(self):
        S.runtime.files.set(self.value or "")
        return ""

    def get_show_string(self, svalue):
        return "Runtime source files: %s%s" % (
            ",".join(S.runtime.files.globs),
            "" if svalue else " (the runtime's own)")


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

Returns "runnable", "running", "blocked", "dead", "panicked" or
"crashed".  An ID no live coroutine has is an error, like `coroutine ID`.
With no ID: the state of the coroutine being looked at, or "none" when
there is none.  Example:
  if $_streq($_coroutine_state(3), "blocked")"""

    def __init__(self):
        super().__init__("_coroutine_state")

    def invoke(self, cid=None):
        if cid is None:
            cid = view.current_coroutine_id()
            if not cid:
                return "none"
        else:
            cid = _id_number(cid)
        try:
            return target.table().find(cid).state_name
        except errors.CorodbgError as e:
            raise gdb.GdbError(str(e))


def _id_number(value):
    """A convenience function's ID argument (a gdb.Value) -> int, or one
    clean error line (a string or a pointer is no id)."""
    code = value.type.strip_typedefs().code
    if code not in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_CHAR,
                    gdb.TYPE_CODE_BOOL, gdb.TYPE_CODE_ENUM):
        raise gdb.GdbError("$_coroutine_state: ID must be a coroutine id "
                           "number")
    return int(value)


CoroutineIdFn()
CoroutineStateFn()
