"""The `coroutine` command's subcommands (list, select, apply, leaks,
config; catch is in catch.py).  Each class is thin: its docstring is the
help, and it parses with the core's one parser and formats with the core.

Every command acts on the execution context LLDB passes it.  A user
mistake or a bad table is a one-line error; our own bugs are one line too
(`coroutine config debug on` prints the traceback).
"""
import functools
import shlex
import traceback

import lldb

from corodbg.core import errors, layout, listing, query, regs, render

from . import stacks
from . import target as T
from . import threads


def command(fn):
    """Run a command body with (process, args, result); errors become one
    line on the result."""
    @functools.wraps(fn)
    def wrapper(self, debugger, arg, exe_ctx, result):
        try:
            fn(self, debugger, arg, exe_ctx, result)
            if result.GetStatus() == lldb.eReturnStatusInvalid:
                result.SetStatus(lldb.eReturnStatusSuccessFinishResult)
        except errors.CorodbgError as e:
            result.SetError(str(e))
        except ValueError as e:  # shlex: unterminated quote
            result.SetError("bad arguments: %s" % e)
        except Exception as e:  # a bug of ours: one line unless debugging
            msg = "corodbg: internal error: %s: %s" % (type(e).__name__, e)
            if T.CONFIG.debug:
                msg += "\n" + traceback.format_exc()
            else:
                msg += " (coroutine config debug on for details)"
            result.SetError(msg)
    return wrapper


def _process(exe_ctx):
    p = exe_ctx.GetProcess()
    if not p.IsValid() or p.GetState() not in (lldb.eStateStopped,
                                               lldb.eStateCrashed,
                                               lldb.eStateSuspended):
        if p.IsValid() and p.GetState() == lldb.eStateRunning:
            raise errors.CorodbgError("The process is running: interrupt "
                                      "it first (process interrupt).")
        raise errors.NoTableError(
            "No stopped process (use process launch, process attach or "
            "target create --core first).")
    return p


def _stopped_table(debugger, exe_ctx):
    """What a command works on: (the stopped process, its session, the
    table read for this stop), with this stop's coroutine threads in
    place."""
    process = _process(exe_ctx)
    sess = T.session(process)
    tbl = sess.table()
    _ensure_plugin(debugger, process)
    return process, sess, tbl


def _ensure_plugin(debugger, process, force=False):
    """Make sure this stop's thread list has the coroutine threads.

    Call it once the table was read.  The plugin is (re)loaded when it is
    missing (corodbg imported after the target was made) or when its list
    for this stop was not made from the table: after `process attach`
    LLDB builds the first thread list before the program's modules are
    loaded.  Setting the path again reloads the plugin and flushes the
    thread list."""
    if not T.CONFIG.threads:
        return
    plug = threads.PLUGINS.get(process.GetUniqueID())
    if not force and plug is not None and \
            plug.ok_stop == process.GetStopID():
        return
    if plug is not None and not force:
        process.GetNumThreads()   # let LLDB ask the plugin for this stop
        if plug.ok_stop == process.GetStopID():
            return
    ret = lldb.SBCommandReturnObject()
    debugger.GetCommandInterpreter().HandleCommand(
        "settings set target.process.python-os-plugin-path %s"
        % quote(threads.OS_PLUGIN), ret)


def quote(path):
    return '"%s"' % path.replace('"', '\\"')


def _marker_id(process):
    th = process.GetSelectedThread()
    if not th.IsValid():
        return None
    tid = th.GetThreadID()
    cid = T.coro_id_of_tid(tid)
    if cid is not None:
        return cid
    try:
        co = T.session(process).on_threads().get(tid)
    except errors.CorodbgError:
        return None
    return co.id if co else None




class Command:
    """Base: the class docstring is the long help, its first line the
    short help."""

    def __init__(self, debugger, internal_dict):
        pass

    def get_short_help(self):
        return self.__doc__.strip().splitlines()[0]

    def get_long_help(self):
        return self.__doc__.strip()


class CoroutineList(Command):
    @command
    def __call__(self, debugger, arg, exe_ctx, result):
        q = query.parse_list_args(arg)
        process, sess, _ = _stopped_table(debugger, exe_ctx)
        result.AppendMessage("".join(
            stacks.list_lines(sess, q, _marker_id(process))).rstrip("\n"))


CoroutineList.__doc__ = listing.list_help(
    "List the program's coroutines, like `thread list`.", "coroutine list")


def select_coroutine(debugger, process, co):
    """Select CO's thread (creating it past the thread cap)."""
    sess = T.session(process)
    if co.state != layout.STATE_RUNNING:
        regs.check_context(co)   # a '?' entry: its reason, not a bad stack
    th = sess.thread_for(co)
    plugin = threads.PLUGINS.get(process.GetUniqueID())
    parked = th is None or th.GetThreadID() >= T.CORO_TID_BASE
    why = plugin.map_problem(sess.table()) if plugin and parked else None
    if why is not None:
        raise errors.CorodbgError("register map unusable: %s" % why)
    if th is None:
        if T.coro_tid(co.id) is None:
            raise errors.CorodbgError(
                "coroutine %d has no thread: its id is too large for an LLDB"
                " thread id (id + 2^32)" % co.id)
        if co.state == layout.STATE_RUNNING:
            raise errors.CorodbgError(
                "coroutine %d runs on thread %d, which LLDB does not list"
                % (co.id, co.tid))
        raise errors.CorodbgError(
            "coroutine %d has no thread: is the OS plugin loaded? (coroutine"
            " config threads on)" % co.id)
    process.SetSelectedThread(th)
    return th


class CoroutineSelect(Command):
    """Select a coroutine's thread, like `thread select`.

Usage: coroutine select ID

A parked coroutine is a thread of its own (id 2^32+ID, named
"coro ID NAME [STATE: WAIT]"), so bt, frame select, frame variable, up and
down then show its stack and locals.  A coroutine past the thread cap gets
its thread now and keeps it.  A running coroutine selects the OS thread it
runs on.  With no ID, say which coroutine the selected thread shows."""

    @command
    def __call__(self, debugger, arg, exe_ctx, result):
        words = shlex.split(arg)
        process, sess, tbl = _stopped_table(debugger, exe_ctx)
        if not words:
            cid = _marker_id(process)
            if not cid:
                result.AppendMessage("No coroutine on the selected thread.")
                return
            co = tbl.find(cid)
            result.AppendMessage(T.describe_coroutine(sess, co) + ".")
            return
        if len(words) != 1:
            raise errors.UsageError("Usage: coroutine select ID")
        co = tbl.find(query.parse_id(words[0]))
        th = select_coroutine(debugger, process, co)
        result.AppendMessage("[Switching to thread %d (tid %d): %s]"
                             % (th.GetIndexID(), th.GetThreadID(),
                                T.describe_coroutine(sess, co)))
        ret = lldb.SBCommandReturnObject()
        debugger.GetCommandInterpreter().HandleCommand(
            "frame select 0", lldb.SBExecutionContext(th.GetSelectedFrame()), ret)
        result.AppendMessage((ret.GetOutput() or "").rstrip("\n"))


class CoroutineApply(Command):
    """Run an LLDB command on several coroutines, like `thread apply`.

Usage: coroutine apply all|ID...|-state STATE COMMAND

For each coroutine print a header line, select its thread and run COMMAND
(e.g. bt, "frame variable", "bt 3").  The table is read once; an error in
one coroutine is printed and the loop goes on.  The selected thread is
restored afterwards.

Examples:
  coroutine apply all bt
  coroutine apply 3 5-7 frame variable
  coroutine apply -state blocked bt 3"""

    @command
    def __call__(self, debugger, arg, exe_ctx, result):
        process, _, tbl = _stopped_table(debugger, exe_ctx)
        cos, cmd, missing = query.parse_apply(arg, tbl)
        interp = debugger.GetCommandInterpreter()
        saved = process.GetSelectedThread()
        out = []
        try:
            for co in cos:
                out.append(render.apply_header(co))
                try:
                    th = select_coroutine(debugger, process, co)
                except errors.CorodbgError as e:
                    out.append("error: %s\n" % e)
                    continue
                ret = lldb.SBCommandReturnObject()
                interp.HandleCommand(cmd, lldb.SBExecutionContext(th.GetSelectedFrame()), ret)
                out.append(ret.GetOutput() or "")
                if not ret.Succeeded():
                    out.append(ret.GetError() or "error: command failed\n")
        finally:
            if saved.IsValid():
                process.SetSelectedThread(saved)
        out.append(query.missing_warning(missing))
        result.AppendMessage("".join(out).rstrip("\n"))


class CoroutineLeaks(Command):
    @command
    def __call__(self, debugger, arg, exe_ctx, result):
        min_age = query.parse_leaks_args(arg)
        _, sess, tbl = _stopped_table(debugger, exe_ctx)
        now = sess.now_ns(tbl)
        result.AppendMessage("".join(listing.leak_report(
            stacks.Frontend(sess), now, min_age)).rstrip("\n"))


CoroutineLeaks.__doc__ = listing.leaks_help(
    "Group blocked coroutines by creation site and wait site.",
    "coroutine leaks")


class CoroutineConfig(Command):
    """Show or change corodbg's LLDB settings.

Usage: coroutine config
       coroutine config max-threads N
       coroutine config threads on|off
       coroutine config runtime-functions GLOB[,GLOB]...
       coroutine config runtime-files GLOB[,GLOB]...
       coroutine config describe-stops on|off
       coroutine config debug on|off

max-threads       most coroutine threads the OS plugin lists (default 2000;
                  the coroutine of the stop and selected ones are always
                  listed; also env CORODBG_LLDB_MAX_THREADS)
threads           list parked coroutines as threads at all; "on" also
                  reloads the plugin, which refreshes the thread list (after
                  `process attach` LLDB lists threads before the program's
                  modules are loaded: any coroutine command does the same)
runtime-functions globs naming the runtime's functions: the user location
                  (coroutine list -u, coroutine leaks) is the first frame
                  matching none of them; default (or ''): the globs the
                  runtime wrote into its table, plus corodbg_* and __*
runtime-files     globs naming the runtime's source files: a frame in one
                  of them is runtime code too (static helpers); default
                  (or ''): the runtime's own, plus libcorodbg's
describe-stops    report a catch as a one-instruction step whose stop reason
                  is the event (what IDEs show); off: a plain breakpoint stop
debug             print tracebacks of corodbg's internal errors"""

    @command
    def __call__(self, debugger, arg, exe_ctx, result):
        words = shlex.split(arg)
        c = T.CONFIG
        if not words:
            result.AppendMessage(
                "max-threads: %d\nthreads: %s\nruntime-functions: %s\n"
                "runtime-files: %s\n"
                "describe-stops: %s\ndebug: %s" % (
                    c.max_threads, _onoff(c.threads),
                    ",".join(c.runtime.functions.globs),
                    ",".join(c.runtime.files.globs), _onoff(c.describe_stops),
                    _onoff(c.debug)))
            return
        if len(words) != 2:
            raise errors.UsageError("Usage: coroutine config SETTING VALUE")
        key, val = words
        if key == "max-threads":
            if not val.isdigit() or not 1 <= int(val) <= 10**7:
                raise errors.UsageError("max-threads needs a number >= 1")
            c.max_threads = int(val)
        elif key == "threads":
            c.threads = _parse_bool(val)
            p = exe_ctx.GetProcess()
            if c.threads and p.IsValid() and \
                    p.GetState() == lldb.eStateStopped:
                _ensure_plugin(debugger, p, force=True)
        elif key == "debug":
            c.debug = _parse_bool(val)
        elif key == "describe-stops":
            c.describe_stops = _parse_bool(val)
        elif key == "runtime-functions":
            c.runtime.functions.set(val)
        elif key == "runtime-files":
            c.runtime.files.set(val)
        else:
            raise errors.UsageError("unknown setting %r (max-threads, "
                                    "threads, runtime-functions, "
                                    "runtime-files, "
                                    "describe-stops, debug)" % key)
        result.AppendMessage("%s: %s" % (key, val))


def _onoff(b):
    return "on" if b else "off"


def _parse_bool(v):
    if v.lower() in ("on", "1", "true", "yes"):
        return True
    if v.lower() in ("off", "0", "false", "no"):
        return False
    raise errors.UsageError("expected on or off, not %r" % v)
