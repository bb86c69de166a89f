"""corodbg for LLDB: the `coroutine` command and the coroutine threads.

Load with
    (lldb) command script import /path/to/corodbg/lldb/corodbg_lldb.py
This adds one multiword command, `coroutine` (list, select, apply, leaks,
catch, config), and sets target.process.python-os-plugin-path to
corodbg_os.py so parked coroutines appear as threads (see that file).

Every command acts on the execution context LLDB passes it, decodes the
table with corodbg's debugger-independent core (python/corodbg/core) and
formats with it; this file only adapts LLDB.  A user mistake or a bad
table is a one-line error; our own bugs are one line too (`coroutine
config debug on` prints the traceback).
"""
import functools
import os
import shlex
import sys
import traceback

import lldb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corodbg_lldb_target as T  # noqa: E402
from corodbg.core import errors, layout, listing, query, regs, render  # noqa: E402
from corodbg.core import filter as corefilter  # noqa: E402
from corodbg.core.model import Location  # noqa: E402
from corodbg.core.stackwalk import (  # noqa: E402
    FrameSizeUnwinder, Learned, flatten, shown)

OS_PLUGIN = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "corodbg_os.py")
MODULE = __name__


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
    plug = T.PLUGINS.get(process.GetUniqueID())
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
        % _quote(OS_PLUGIN), ret)


def _quote(path):
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


# ---- stacks and locations --------------------------------------------------

def _frame_location(sess, f, is_return, top):
    """Location of LLDB frame F as `bt` prints it: LLDB's function name
    (an inlined frame's is the inlined function's) and line entry.
    IS_RETURN: F's pc is a return address; TOP: F is its thread's first.  LLDB looks up the call's line
    for every frame but a thread's top one, which for a parked coroutine
    is a return address too: there the call's line is taken (where it
    waits, not the line after), unless LLDB shows inlined frames there."""
    pc = f.GetPC()
    name = f.GetFunctionName()
    if not name or name.startswith("___lldb_unnamed_symbol"):
        return sess.symbolize(pc, is_return)
    if is_return and top and not f.IsInlined():
        loc = sess.symbolize(pc, True)
        if loc.function == name:
            return loc
    path, line = None, 0
    le = f.GetLineEntry()
    if le.IsValid() and le.GetLine():
        fs = le.GetFileSpec()
        path, line = fs.fullpath or fs.GetFilename(), le.GetLine()
    return Location(name, path, line, pc)


def _real_frames(sess, th, depth, on_thread=False):
    """[stackwalk.Learned] of thread TH: at most DEPTH physical frames,
    holding every frame LLDB's `bt` shows.  LLDB lists an inlined call as
    a frame of its own at the same stack slot, innermost first, and gives
    the frames around it adjusted pcs: a slot's real pc is its innermost
    frame's.  Tail-call frames it synthesizes are "artificial" frames
    between a frame and its caller.  ON_THREAD: TH is the OS thread a
    coroutine executes on (its top frame's pc is not a return address)."""
    out = []
    shown, pc = [], None
    for i in range(th.GetNumFrames()):
        f = th.GetFrameAtIndex(i)
        loc = _frame_location(sess, f, i > 0 or not on_thread, i == 0)
        if f.IsArtificial() and out and not shown:
            out[-1].tail.append(loc)
            continue
        if pc is None:
            pc = f.GetPC()
        shown.append(loc)
        if f.IsInlined() or f.IsArtificial():
            continue
        if len(out) >= depth:
            break
        out.append(Learned(pc, f.GetSP(), shown, []))
        shown, pc = [], None
    return out


def _lldb_frames(sess, co, depth):
    """[stackwalk.Learned] of CO from LLDB's own unwinder (its thread)."""
    th = sess.thread_for(co)
    return _real_frames(sess, th, depth) if th is not None else []


def _walker(sess):
    """The core's FrameSizeUnwinder for this process, or None.  It walks
    most parked coroutines with one memory read each (a pread of
    /proc/PID/mem for a live local process: sess.stack_reader()), learning
    frame sizes from LLDB's unwinder on one coroutine per new pc (and
    checking them on a second), so -u, -t and leaks stay fast at 100,000
    coroutines."""
    w = getattr(sess, "walker", None)
    if w is None and not os.environ.get("CORODBG_SLOW_STACKS"):
        try:
            p = sess.table().prefix
            w = FrameSizeUnwinder(
                sess.stack_reader(),
                lambda co, depth: _lldb_frames(sess, co, depth),
                ptr_size=p["ptr_size"], endian=p["endian"])
        except Exception:
            w = False
        sess.walker = w
    return w or None


def _walk(sess, co, depth, until=None, on_ids=None):
    """[stackwalk.Frame] of CO's stack as `bt` shows it, at most DEPTH
    physical frames; with UNTIL(shown frames), a parked stack ends at the
    first frame it accepts.  ON_IDS: the ids of the coroutines on OS
    threads, when the caller has them."""
    if on_ids is None:
        on_ids = {c.id for c in sess.on_threads().values()}
    w = None if co.id in on_ids else _walker(sess)
    if w is not None:
        try:
            return w.frames(co, depth, until)
        except Exception:   # the fast path is an optimisation only
            pass
    th = sess.thread_for(co)
    if th is None:
        return []
    return shown(_real_frames(sess, th, depth, co.id in on_ids))


def frames_of(sess, co, depth):
    """[(level, Location)] of CO's stack (its coroutine thread, or its OS
    thread while it runs), at most DEPTH frames."""
    return flatten(_walk(sess, co, depth), depth)


class Frontend(listing.Frontend):
    """The core listing's view of LLDB (corodbg.core.listing)."""

    def __init__(self, sess):
        self.sess = sess
        self.runtime = T.CONFIG.runtime
        self._on_ids = None     # ids of coroutines on OS threads (this stop)
        self._rule = None
        super().__init__(sess.table())

    def symbolize(self, pc, is_return=True):
        return self.sess.symbolize(pc, is_return)

    def frames_of(self, co, depth):
        return frames_of(self.sess, co, depth)

    def user_location(self, co, depth=listing.DEFAULT_USER_DEPTH):
        """The core's rule (query.UserRule), a parked stack walked only
        down to the user frame."""
        if self._on_ids is None:
            self._on_ids = {c.id for c in self.sess.on_threads().values()}
            self._rule = query.UserRule(self.runtime)
        w = None if co.id in self._on_ids else _walker(self.sess)
        if w is not None:
            try:
                loc = self._rule.walked(w, co, depth)
            except Exception:   # the fast path is an optimisation only
                loc = False
            if loc is not False:
                return loc or self.symbolize(co.pc)
        frames = _walk(self.sess, co, depth, self._rule.accepts,
                       self._on_ids)
        return self._rule.user(frames) or self.symbolize(co.pc)

    def executing(self):
        return self.sess.on_threads()

    def thread_location(self, co, tid):
        # Executing on an OS thread: where that thread is, not the stale
        # saved context.
        th = self.sess.process.GetThreadByID(tid)
        f = th.GetFrameAtIndex(0) if th.IsValid() else None
        if f is not None and f.IsValid():
            return self.sess.symbolize(f.GetPC(), False)
        return None


def user_location(sess, co, depth=listing.DEFAULT_USER_DEPTH):
    """First frame of CO outside the runtime, else its saved pc."""
    return Frontend(sess).user_location(co, depth)


def list_lines(sess, q, marker):
    """The listing for query Q as lines (shared by `coroutine list`)."""
    tbl = sess.table()
    return listing.list_lines(Frontend(sess), q, sess.now_ns(tbl), marker,
                              warnings=True, notes=(sess.cut_note,))


# ---- the commands ----------------------------------------------------------

class _Command:
    """Base: the class docstring is the long help, its first line the
    short help."""

    def __init__(self, debugger, internal_dict):
        pass

    def get_short_help(self):
        return self.__doc__.strip().splitlines()[0]

    def get_long_help(self):
        return self.__doc__.strip()


class CoroutineList(_Command):
    @command
    def __call__(self, debugger, arg, exe_ctx, result):
        q = query.parse_list_args(arg)
        process, sess, _ = _stopped_table(debugger, exe_ctx)
        result.AppendMessage("".join(
            list_lines(sess, q, _marker_id(process))).rstrip("\n"))


CoroutineList.__doc__ = listing.list_help(
    "List the program's coroutines, like `thread list`.", "coroutine list")


def select_coroutine(debugger, process, co, result=None):
    """Select CO's thread (creating it past the thread cap)."""
    sess = T.session(process)
    if co.state != layout.STATE_RUNNING:
        regs.check_context(co)   # a '?' entry: its reason, not a bad stack
    th = sess.thread_for(co)
    plugin = T.PLUGINS.get(process.GetUniqueID())
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


class CoroutineSelect(_Command):
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


parse_apply = query.parse_apply


class CoroutineApply(_Command):
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
        cos, cmd, missing = parse_apply(arg, tbl)
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


class CoroutineLeaks(_Command):
    @command
    def __call__(self, debugger, arg, exe_ctx, result):
        min_age = query.parse_leaks_args(arg)
        _, sess, tbl = _stopped_table(debugger, exe_ctx)
        now = sess.now_ns(tbl)
        result.AppendMessage("".join(listing.leak_report(
            Frontend(sess), now, min_age)).rstrip("\n"))


CoroutineLeaks.__doc__ = listing.leaks_help(
    "Group blocked coroutines by creation site and wait site.",
    "coroutine leaks")


# ---- catchpoints: the in-process event filter ------------------------------

# What `coroutine catch` asked for, per target (armed at the next stop of a
# process that does not exist yet).
_PENDING = {}


class CatchSpec:
    """The filter the user asked for: flags, state mask, id, name."""

    def __init__(self):
        self.panic = False
        self.crash = False
        self.states = frozenset()
        self.cid = 0
        self.name = ""

    def values(self):
        """(mask, flags, id, glob) to arm (core filter.filter_values)."""
        return corefilter.filter_values(self.states, self.panic, self.crash,
                                        self.cid, self.name)

    def describe(self):
        parts = []
        if self.panic:
            parts.append("panic")
        if self.crash:
            parts.append("crash")
        if self.states:
            names = ",".join(layout.STATES[s][2] for s in sorted(self.states))
            what = "state %s" % names
            if self.cid:
                what += " of coroutine %d" % self.cid
            if self.name:
                what += " named %s" % self.name
            parts.append(what)
        return " and ".join(parts) or "nothing"


def _target_spec(target):
    """One CatchSpec per target (keyed by executable path)."""
    return _PENDING.setdefault(target.GetExecutable().fullpath, CatchSpec())


def hook_breakpoint(target):
    """The breakpoint (with our callback) on the runtime's event hook.

    Created from a command, never from a breakpoint callback (LLDB 19 cannot
    attach a script callback there).  By address from the table when the
    process is stopped, else by the exported name corodbg_event_hook (it is
    in .dynsym, so it survives strip)."""
    bp = _find_bp(target, "corodbg-catch")
    if bp is not None:
        return bp
    hook = None
    process = target.GetProcess()
    if process.IsValid() and process.GetState() == lldb.eStateStopped:
        try:
            hook = T.session(process).table().get("event_hook")
        except errors.CorodbgError:
            hook = None
    if hook:
        bp = target.BreakpointCreateByAddress(hook)
    else:
        bp = target.BreakpointCreateByName("corodbg_event_hook")
    bp.AddName("corodbg-catch")
    bp.SetScriptCallbackFunction("%s.on_event_hook" % MODULE)
    return bp


def arm(target, spec):
    """Write SPEC into the live process's filter (the breakpoint on the
    hook must already exist).  Returns the hook address."""
    process = target.GetProcess()
    sess = T.session(process)
    tbl = sess.table()
    hook = tbl.get("event_hook")
    if not hook:
        raise errors.CorodbgError("the table has no event_hook address")
    T.write_filter(sess, *spec.values())
    return hook


def _find_bp(target, name):
    names = lldb.SBBreakpointList(target)
    target.FindBreakpointsByName(name, names)
    return names.GetBreakpointAtIndex(0) if names.GetSize() else None


def on_event_hook(frame, bp_loc, extra_args=None, internal_dict=None):
    """Breakpoint callback on corodbg_event_hook: say what happened, stop.

    Runs inside LLDB's stop handling: it must never raise."""
    try:
        process = frame.GetThread().GetProcess()
        sess = T.session(process)
        kind, cid, old, new, seq = T.event_record(sess)
        tbl = sess.table()
        co = tbl.by_id.get(cid)
        if co is None:
            text = "corodbg: %s event on coroutine %s (no longer live)" % (
                kind, cid)
        elif kind == "state":
            text = 'corodbg: coroutine %d "%s" %s -> %s' % (
                cid, co.name, layout.STATES[old][2] if old < len(
                    layout.STATES) else old,
                layout.STATES[new][2] if new < len(layout.STATES) else new)
        else:
            text = "corodbg: " + T.describe_coroutine(sess, co)
        sess.last_event = text
        print(text)
        sys.stdout.flush()
    except Exception as e:  # never break LLDB's stop handling
        print("corodbg: cannot read the event: %s" % e)
        return True
    # Report the stop as the completion of a one-instruction scripted step
    # whose stop description is TEXT: IDEs (lldb-dap) show a breakpoint stop
    # as "breakpoint N.M" but a plan's stop with its own description.
    if T.CONFIG.describe_stops:
        try:
            global _STOP_TEXT
            _STOP_TEXT = text
            err = frame.GetThread().StepUsingScriptedThreadPlan(
                "%s.EventStop" % MODULE, lldb.SBStructuredData(), False)
            return not err.Success()  # the plan stops; else stop here
        except Exception:
            return True
    return True


_STOP_TEXT = None


class EventStop:
    """A scripted thread plan of one instruction that stops with the event's
    description (see on_event_hook)."""

    def __init__(self, thread_plan, args_data=None, internal_dict=None):
        self.plan = thread_plan
        self.text = _STOP_TEXT or "corodbg event"

    def explains_stop(self, event):
        return True

    def should_stop(self, event):
        self.plan.SetPlanComplete(True)
        return True

    def should_step(self):
        return True

    def is_stale(self):
        return False

    def stop_description(self, stream):
        stream.Print(self.text)


def on_entry(frame, bp_loc, extra_args=None, internal_dict=None):
    """One-shot breakpoint at program entry: arm a pending catch, go on."""
    try:
        target = frame.GetThread().GetProcess().GetTarget()
        spec = _target_spec(target)
        if spec.values()[1]:
            arm(target, spec)
    except Exception as e:
        print("corodbg: cannot arm the catchpoint: %s" % e)
        return True
    return False


CATCH_STATE_USAGE = ("Usage: coroutine catch state STATE[,STATE] "
                     "[-id ID] [-name GLOB]")


class CoroutineCatch(_Command):
    """Stop when a coroutine panics, crashes or enters a state.

Usage: coroutine catch panic
       coroutine catch crash
       coroutine catch state STATE[,STATE] [-id ID] [-name GLOB]
       coroutine catch off
       coroutine catch info

The debugger writes a filter into the program's coroutine table and puts
one breakpoint on the runtime's event hook; the runtime calls the hook only
for transitions that match, so a non-matching transition costs nanoseconds,
not a debugger stop.  At the stop the event is printed (e.g. 'coroutine 7
"panicker" panicked: bad request 7') and the stopped thread is the one the
coroutine runs on.  Given before the process exists, the catch is armed at
program entry.  Catches add up until `coroutine catch off`."""

    @command
    def __call__(self, debugger, arg, exe_ctx, result):
        words = shlex.split(arg)
        target = exe_ctx.GetTarget()
        if not target.IsValid():
            target = debugger.GetSelectedTarget()
        if not target.IsValid():
            raise errors.CorodbgError("No target: use target create first.")
        spec = _target_spec(target)
        if not words:
            raise errors.UsageError("Usage: coroutine catch panic|crash|"
                                    "state STATES|off|info")
        what = words[0]
        if what == "info":
            self._info(target, spec, result)
            return
        process = target.GetProcess()
        stopped = process.IsValid() and process.GetState() in (
            lldb.eStateStopped, lldb.eStateSuspended)
        # before any breakpoint: a core has no code to put one in
        if stopped and what != "off" and T.session(process).is_core():
            raise errors.CorodbgError("cannot catch events in a core file")
        if what == "panic" and len(words) == 1:
            spec.panic = True
        elif what == "crash" and len(words) == 1:
            spec.crash = True
        elif what == "off" and len(words) == 1:
            _PENDING[target.GetExecutable().fullpath] = spec = CatchSpec()
        elif what == "state":
            if len(words) < 2:
                raise errors.UsageError("coroutine catch state needs states "
                                        "(e.g. blocked,panicked)")
            cq = query.parse_catch_state(words[1:], CATCH_STATE_USAGE)
            states, cid, name = cq.states, cq.cid, cq.glob
            spec.states, spec.cid, spec.name = states, cid, name
        else:
            raise errors.UsageError("Usage: coroutine catch panic|crash|"
                                    "state STATES|off|info")
        if what == "off":  # disable ours, create none
            for name in ("corodbg-catch", "corodbg-arm"):
                bp = _find_bp(target, name)
                if bp is not None:
                    bp.SetEnabled(False)
        else:
            hook_breakpoint(target).SetEnabled(True)
            # Every new process of this target starts with a clear filter:
            # a one-shot-per-run breakpoint at the entry point arms it again.
            _entry_breakpoint(target).SetEnabled(True)
        if stopped and not T.session(process).is_core():
            hook = arm(target, spec)
            if what == "off":
                result.AppendMessage("Not catching anything; filter "
                                     "disarmed.")
                return
            result.AppendMessage("Catching %s (filter armed in the table; "
                                 "breakpoint on the event hook at 0x%x)."
                                 % (spec.describe(), hook))
            return
        if what == "off":
            result.AppendMessage("Not catching anything.")
            return
        result.AppendMessage("Catching %s: the filter will be armed when "
                             "the program starts." % spec.describe())

    @staticmethod
    def _info(target, spec, result):
        lines = ["Catching %s." % spec.describe()]
        process = target.GetProcess()
        if process.IsValid() and process.GetState() == lldb.eStateStopped:
            try:
                tbl = T.session(process).table()
                lines.append("In the table: filter_flags 0x%x, state mask "
                             "0x%x, id %d, name %r; hook called %d times, "
                             "%d transitions filtered out." % (
                                 tbl.get("filter_flags", 0),
                                 tbl.get("filter_state_mask", 0),
                                 tbl.get("filter_id", 0),
                                 tbl.get("filter_name", ""),
                                 tbl.get("hook_calls", 0),
                                 tbl.get("filtered", 0)))
            except errors.CorodbgError as e:
                lines.append("(table unreadable: %s)" % e)
        result.AppendMessage("\n".join(lines))


def _entry_breakpoint(target):
    """The breakpoint at the program's entry point that arms the filter in
    each new process (its callback continues at once)."""
    bp = _find_bp(target, "corodbg-arm")
    if bp is None:
        entry = _entry_address(target)
        bp = target.BreakpointCreateBySBAddress(entry) \
            if entry is not None else target.BreakpointCreateByName("main")
        bp.AddName("corodbg-arm")
        bp.SetScriptCallbackFunction("%s.on_entry" % MODULE)
    return bp


def _entry_address(target):
    m = target.GetModuleAtIndex(0)
    if not m.IsValid():
        return None
    a = m.GetObjectFileEntryPointAddress()
    return a if a.IsValid() else None


class CoroutineConfig(_Command):
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


COMMANDS = (("list", CoroutineList), ("select", CoroutineSelect),
            ("apply", CoroutineApply), ("leaks", CoroutineLeaks),
            ("catch", CoroutineCatch), ("config", CoroutineConfig))


def __lldb_init_module(debugger, internal_dict):
    interp = debugger.GetCommandInterpreter()
    ret = lldb.SBCommandReturnObject()

    def run(cmd):
        ret.Clear()
        interp.HandleCommand(cmd, ret)
        return ret.Succeeded()

    run("command container delete coroutine")
    run('command container add -h "Inspect and control coroutines '
        '(corodbg)." -H "Subcommands: list, select, apply, leaks, catch, '
        'config.  See help coroutine SUBCOMMAND." coroutine')
    for name, cls in COMMANDS:
        run("command script add -o -c %s.%s coroutine %s"
            % (MODULE, cls.__name__, name))
    if T.CONFIG.threads:
        run("settings set target.process.python-os-plugin-path %s"
            % _quote(OS_PLUGIN))
