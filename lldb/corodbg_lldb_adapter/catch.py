"""`coroutine catch`: stop on a panic, a crash or a state change.

The debugger writes a filter into the program's coroutine table (the core
computes it: filter.py) and puts one breakpoint on the runtime's event
hook; the runtime calls the hook only for transitions that match.  At the
stop, on_event_hook prints the event and reports the stop as a scripted
one-instruction step (EventStop) whose description is the event, which is
what IDEs show.  LLDB finds these callbacks by name (this module's
__name__; the loader puts the package where LLDB looks them up).
"""
import shlex
import sys

import lldb

from corodbg.core import errors, query
from corodbg.core import filter as corefilter
from corodbg.core.model import state_name

from . import target as T
from .commands import Command, command


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
            names = ",".join(state_name(s) for s in sorted(self.states))
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
    bp.SetScriptCallbackFunction("%s.on_event_hook" % __name__)
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
                cid, co.name, state_name(old), state_name(new))
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
            err = frame.GetThread().StepUsingScriptedThreadPlan(
                "%s.EventStop" % __name__, lldb.SBStructuredData(), False)
            return not err.Success()  # the plan stops; else stop here
        except Exception:
            return True
    return True


class EventStop:
    """A scripted thread plan of one instruction that stops with the event's
    description (see on_event_hook, which keeps it as the session's
    last_event)."""

    def __init__(self, thread_plan, args_data=None, internal_dict=None):
        self.plan = thread_plan
        try:
            text = T.session(thread_plan.GetThread().GetProcess()).last_event
        except Exception:   # never break LLDB's stop handling
            text = None
        self.text = text or "corodbg event"

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


class CoroutineCatch(Command):
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
        bp.SetScriptCallbackFunction("%s.on_entry" % __name__)
    return bp


def _entry_address(target):
    m = target.GetModuleAtIndex(0)
    if not m.IsValid():
        return None
    a = m.GetObjectFileEntryPointAddress()
    return a if a.IsValid() else None
