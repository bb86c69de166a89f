"""Coroutines as threads in GDB's own DAP server (`gdb -i=dap`, GDB >= 14).

GDB's DAP `threads` lists GDB's threads only.  Here each parked coroutine
becomes one more DAP thread, with the ids, names and cap of LLDB's OS
plugin (core/threads.py): id 2^32 + coroutine id, name
`coro 7 worker [blocked: chan receive]`; an OS thread a coroutine executes
on is renamed `coro 1 acceptor [running] on thread TID` (so a `catch
coroutine panic` stop, reported on that OS thread, is the panicking
coroutine's thread).  A coroutine thread's frames are those of the
coroutine view (view.py: our unwinder, no register written), so GDB's own
`stackTrace`, `scopes`, `variables` and `evaluate` code serves them.

What this relies on in gdb.dap (checked before anything is changed; when
one is missing, one warning and DAP keeps working with OS threads only):
- server._commands: request name -> callable (run on the DAP thread), and
  server.send_gdb_with_response(fn) (runs fn on GDB's thread);
- frames.set_thread and bt.set_thread: the module globals stackTrace and
  frame lookups call to switch to a DAP thread id;
- frames._get_frame_iterator(): the memoizing frame iterator of the
  selected thread, looked up by dap_frame_generator at each call;
- frames._all_frames / frames.thread_ids: frame id -> frame and -> DAP
  thread id (reassigned at every resume, so read through the module).
"""
import importlib
import os
import sys

import gdb

from corodbg.core import errors
from corodbg.core import threads as corethreads
from . import target, view
from .target import S

# The gdb.dap names the hook uses: (module, attribute).
NEEDED = (("server", "_commands"), ("server", "send_gdb_with_response"),
          ("frames", "set_thread"), ("frames", "_get_frame_iterator"),
          ("frames", "_all_frames"), ("frames", "thread_ids"),
          ("bt", "set_thread"))


class MaxThreads(gdb.Parameter):
    """How many coroutines GDB's DAP server lists as threads.

The cut keeps the coroutines the stop is about and the one being looked
at, then the most recently active; the last listed thread's name says how
many were left out.  0: no coroutine threads.  The default is 2000, or
the environment variable CORODBG_GDB_MAX_THREADS."""

    set_doc = "Set how many coroutines DAP lists as threads."
    show_doc = "Show how many coroutines DAP lists as threads."

    def __init__(self):
        super().__init__("corodbg max-threads", gdb.COMMAND_DATA,
                         gdb.PARAM_ZUINTEGER)
        env = os.environ.get("CORODBG_GDB_MAX_THREADS", "")
        self.value = int(env) if env.isdigit() \
            else corethreads.DEFAULT_MAX_THREADS

    def get_set_string(self):
        return ""

    def get_show_string(self, svalue):
        return "DAP lists at most %s coroutine threads." % svalue


_max = MaxThreads()


class _State:
    dap = None           # the gdb.dap package once hooked
    frames = {}          # DAP thread id of a coroutine -> _Memo of frames
    threads = None       # (stop key, renames, coroutine threads)
    warned_serial = None  # S.stop_serial of the last warning


_st = _State()


def _warn_once(msg):
    if _st.warned_serial != S.stop_serial:
        _st.warned_serial = S.stop_serial
        target.warn(msg)


# ---- threads ---------------------------------------------------------------

def add_coroutine_threads(body):
    """GDB's `threads` answer BODY plus the coroutine threads (GDB thread)."""
    try:
        return _add_threads(body)
    except errors.NoTableError:
        return body
    except (errors.CorodbgError, gdb.error, gdb.MemoryError) as e:
        _warn_once("coroutine threads unavailable: %s" % e)
        return body


def _add_threads(body):
    if not _max.value or not target.has_target():
        return body
    # Made once per stop: an IDE asks `threads` again and again (after
    # each stackTrace, on every refresh), and nothing changes in a stop.
    key = (S.stop_serial, S.view.co.id if S.view is not None else None,
           _max.value)
    if _st.threads is None or _st.threads[0] != key:
        _st.threads = (key,) + _coroutine_threads()
    renames, extra = _st.threads[1:]
    out = body.get("threads", [])
    for t in out:
        name = renames.get(t.get("id"))
        if name is not None:
            t["name"] = name
    out.extend(dict(t) for t in extra)
    body["threads"] = out
    return body


def _coroutine_threads():
    """({GDB thread number: new name}, [DAP thread]) of this stop."""
    # columns: only the coroutines chosen are made (core/threads.py)
    tbl = target.table(columns=True)
    # OS threads a coroutine executes on keep their id and are renamed;
    # that coroutine is not listed again (its saved registers are stale).
    on = tbl.executing()
    renames = {}
    for th in gdb.selected_inferior().threads():
        tid = th.ptid[1] or th.ptid[0]
        co = on.get(tid)
        if co is not None:
            renames[th.global_num] = corethreads.running_name(S.memory, co,
                                                              tid)
    if view._map_problem(tbl):    # warned there: saved registers unusable
        return renames, []
    skip = set(c.id for c in on.values())
    must = corethreads.stop_coroutine_ids(tbl)
    if S.view is not None:
        must.add(S.view.co.id)
    chosen, cut = corethreads.choose_in(tbl, _max.value, must, skip)
    extra = [{"id": corethreads.coro_tid(co.id),
              "name": corethreads.thread_name(S.memory, co)}
             for co in chosen]
    if cut and extra:
        extra[-1]["name"] += corethreads.cut_suffix(
            cut, corethreads.GDB_COMMANDS)
        _warn_once(corethreads.cut_note(cut, _max.value,
                                        corethreads.GDB_COMMANDS))
    return renames, extra


# ---- which context a request is about --------------------------------------

def use_thread(thread_id, orig_set_thread):
    """gdb.dap's set_thread: a coroutine's id enters its view (on the
    selected OS thread); an OS thread's id leaves any view first."""
    cid = corethreads.coro_id_of_tid(thread_id)
    if cid is None:
        _leave_view()
        return orig_set_thread(thread_id)
    if S.view is not None and S.view.co.id == cid and \
            S.view.thread == gdb.selected_thread():
        return None
    try:
        tbl = target.table()
    except errors.CorodbgError as e:
        raise gdb.GdbError("corodbg: %s" % e)
    co = tbl.by_id.get(cid)
    if co is None:
        raise gdb.GdbError("corodbg: coroutine %d no longer exists" % cid)
    _leave_view()
    try:
        view.enter(co, tbl, quiet=True)
    except errors.CorodbgError as e:
        raise gdb.GdbError("corodbg: %s" % e)
    return None


def _leave_view():
    if S.view is not None:
        view.leave()


def _frame_thread(args):
    """The DAP thread id a request's frameId (or the scope its
    variablesReference names) belongs to, or None."""
    fid = args.get("frameId")
    if fid is None and isinstance(args.get("variablesReference"), int):
        try:
            ref = _module("varref").find_variable(args["variablesReference"])
            fid = getattr(ref, "frameId", None)
        except Exception:   # not ours to report: GDB answers the request
            fid = None
    if not isinstance(fid, int):
        return None
    return _module("frames").thread_ids.get(fid)


def _prepare(args):
    """Before a request about an OS thread's frame: leave any coroutine
    view, since GDB switches threads only when the frame's thread is not
    the selected one, and under a view that thread shows the coroutine.
    (A coroutine's frame always switches: its id is no GDB thread.)"""
    key = _frame_thread(args)
    if key is not None and corethreads.coro_id_of_tid(key) is None:
        _leave_view()


# ---- a coroutine thread's frames -------------------------------------------

class _Memo:
    """Frames generated once per coroutine and stop, replayed after."""

    def __init__(self, gen):
        self._gen = gen
        self._seen = []

    def __iter__(self):
        for item in self._seen:
            yield item
        for item in self._gen:
            self._seen.append(item)
            yield item


def _coroutine_frames(key):
    """(frame id, elided?, decorator) of the viewed coroutine, registered
    in gdb.dap's frame tables under DAP thread KEY."""
    fr = _module("frames")
    try:
        it = gdb.frames.frame_iterator(gdb.newest_frame(), 0, -1)
    except gdb.error:
        return

    def each(decs, elided):
        for dec in decs:
            num = len(fr._all_frames)
            fr._all_frames.append(dec)
            fr.thread_ids[num] = key
            yield (num, elided, dec)
            more = dec.elided()
            if more is not None:
                yield from each(more, True)

    yield from each(it, False)


def frame_iterator(orig):
    """gdb.dap's _get_frame_iterator: under a coroutine view, that
    coroutine's frames (memoized under its own DAP thread id)."""
    v = S.view
    if v is None or v.thread != gdb.selected_thread():
        return orig()
    key = corethreads.coro_tid(v.co.id)
    memo = _st.frames.get(key)
    if memo is None:
        memo = _st.frames[key] = _Memo(_coroutine_frames(key))
    return memo


def _on_cont(_ev):
    _st.frames = {}


# ---- installing ------------------------------------------------------------

def _module(name):
    """gdb.dap's submodule NAME, by its import name: the package's own
    attribute `server` is rebound to the Server instance by gdb.dap.run()."""
    return sys.modules.get("gdb.dap." + name)


def _missing():
    for mod, name in NEEDED:
        m = _module(mod)
        if m is None or not hasattr(m, name):
            return "gdb.dap.%s.%s" % (mod, name)
    if not hasattr(gdb, "frames") or \
            not hasattr(gdb.frames, "frame_iterator"):
        return "gdb.frames.frame_iterator"
    return None


def install():
    """Hook GDB's DAP server if it runs in this GDB.  Returns True when
    hooked (now or before)."""
    if _st.dap is not None:
        return True
    dap = sys.modules.get("gdb.dap")
    if dap is None:
        return False
    for name in ("gdb.frames", "gdb.dap.varref"):  # gdb.dap imports them
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    why = _missing()
    if why is not None:
        target.warn("GDB's DAP server has no %s: coroutines are not shown "
                    "as DAP threads (this GDB is newer than corodbg knows)"
                    % why)
        _st.dap = False
        return True
    _st.dap = dap
    server, frames, bt = _module("server"), _module("frames"), _module("bt")
    send = server.send_gdb_with_response

    orig_set = frames.set_thread

    def set_thread(thread_id):
        return use_thread(thread_id, orig_set)

    frames.set_thread = set_thread
    bt.set_thread = set_thread
    orig_iter = frames._get_frame_iterator
    frames._get_frame_iterator = lambda: frame_iterator(orig_iter)

    cmds = server._commands
    orig_threads = cmds.get("threads")
    if orig_threads is not None:
        def threads(**args):
            body = orig_threads(**args)
            return send(lambda: add_coroutine_threads(body))
        cmds["threads"] = threads
    for name, cmd in list(cmds.items()):
        if name != "threads":
            cmds[name] = _preparing(cmd, send)
    gdb.events.cont.connect(_on_cont)
    return True


def _preparing(cmd, send):
    """CMD, first leaving a coroutine view when its frame is an OS
    thread's (on GDB's thread, as every request's work is)."""
    def run(**args):
        if "frameId" in args or "variablesReference" in args:
            send(lambda: _prepare(args))
        return cmd(**args)
    return run


def _retry(_ev):
    """gdb.dap imported after corodbg: hook it at the next objfile."""
    if install():
        gdb.events.new_objfile.disconnect(_retry)


if not install():
    gdb.events.new_objfile.connect(_retry)
