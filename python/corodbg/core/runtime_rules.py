"""Runtime-frame rules: which frames are runtime code, and so which frame
is a coroutine's user location (-u, the wait site of `leaks`, frame
cutting in every front end).

The rule is data: a few built-in globs (libcorodbg and the C library),
the runtime's own description of its code in the table (runtime_policy),
or the user's setting, which replaces both.  capture/gen_rules.py prints
the built-in globs as a C header for the capture tool, so they are written
only here.
"""
import collections
import fnmatch
import re


# Always runtime code, whatever the runtime: libcorodbg itself and the C
# library's internals.  Everything else the runtime says about itself in
# the table (runtime_code, runtime_code_lo/hi: runtime_policy()).
DEFAULT_RUNTIME_GLOBS = ("corodbg_*", "__*")
DEFAULT_RUNTIME_FILES = ("*runtime-hooks/src/*",)


class RuntimeMatcher:
    """Decides whether a function name (or, with file globs, a source file
    path) belongs to the runtime."""

    def __init__(self, globs=DEFAULT_RUNTIME_GLOBS):
        self.set(globs)

    def set(self, globs):
        if isinstance(globs, str):
            globs = [g.strip() for g in globs.split(",") if g.strip()]
        self.globs = tuple(globs)
        rx = "|".join(fnmatch.translate(g) for g in self.globs) or "(?!)"
        self._rx = re.compile(rx)
        self._cache = {}

    def __call__(self, function):
        if not function:
            return False
        hit = self._cache.get(function)
        if hit is None:
            hit = self._cache[function] = bool(
                self._rx.match(qualified_name(function)))
        return hit


def qualified_name(function):
    """FUNCTION as the globs name it: its qualified name and signature,
    without the scope or return type a debugger may print before it.

    LLDB names a C++ file-static function '::name()'; LLDB and demanglers
    print a function template's return type, which its mangled name holds
    ('auto boost::asio::basic_stream_socket<...>::async_read_some<...>(...)'
    where GDB says 'boost::asio::...'), so 'boost::asio::*' must match
    either.  The return type ends at the last space outside <...> before
    the parameter list; an operator's name ('operator new', 'operator<')
    ends the search, as does the parameter list itself."""
    if function.startswith("::"):
        return function[2:]
    if "(" not in function or " " not in function:
        return function    # a C name, or no return type to drop
    depth, start, i, n = 0, 0, 0, len(function)
    while i < n:
        c = function[i]
        if c == "<":
            depth += 1
        elif c == ">":
            depth = max(depth - 1, 0)
        elif c == "(":
            if not function.startswith("(anonymous namespace)", i):
                break
            i += len("(anonymous namespace)")
            continue
        elif c == " " and depth == 0:
            start = i + 1
        elif depth == 0 and function.startswith("operator", i) and \
                (i == 0 or not (function[i - 1].isalnum() or
                                function[i - 1] == "_")):
            break
        i += 1
    return function[start:]


RuntimePolicy = collections.namedtuple(
    "RuntimePolicy", "name functions files lo hi start")
RuntimePolicy.__doc__ = ("What a runtime says about its own code: NAME, "
                         "function globs, source-file globs, an address "
                         "range [LO, HI) (0, 0: none) and its START "
                         "(trampoline) function address, or 0.")
NO_POLICY = RuntimePolicy("", (), (), 0, 0, 0)


def runtime_policy(table):
    """The runtime's self-description in TABLE's descriptor (corodbg.h,
    corodbg_set_runtime_code/range/start): "glob" entries name functions,
    "file:glob" entries source files."""
    code = table.get("runtime_code", "") or ""
    globs = [g.strip() for g in code.split(",") if g.strip()]
    funcs = tuple(g for g in globs if not g.startswith("file:"))
    files = tuple(g[5:] for g in globs if g.startswith("file:") and g[5:])
    lo, hi = table.get("runtime_code_lo", 0), table.get("runtime_code_hi", 0)
    if not lo < hi:
        lo = hi = 0
    return RuntimePolicy(table.get("runtime_name", "") or "", funcs, files,
                         lo, hi, table.get("runtime_start", 0) or 0)


class RuntimeRule:
    """Globs of one kind (functions or files): the built-in ones plus the
    runtime's own, unless the user set them (`set corodbg
    runtime-functions`, `coroutine config runtime-files`), which replaces
    both; setting "" goes back to the runtime's own."""

    def __init__(self, builtin):
        self.builtin = tuple(builtin)
        self.runtime = ()
        self.user = None
        self._match = RuntimeMatcher(self.builtin)

    @property
    def globs(self):
        return self._match.globs

    def set(self, globs):
        """The user's globs (a list or a comma-separated string)."""
        if isinstance(globs, str):
            globs = [g.strip() for g in globs.split(",") if g.strip()]
        self.user = tuple(globs) or None
        self._update()

    def adopt(self, globs):
        """The runtime's own globs (from its table)."""
        if tuple(globs) != self.runtime:
            self.runtime = tuple(globs)
            self._update()

    def _update(self):
        want = self.user if self.user is not None else \
            self.builtin + tuple(g for g in self.runtime
                                 if g not in self.builtin)
        if want != self._match.globs:
            self._match.set(want)

    def __call__(self, name):
        return self._match(name)


class RuntimeFrames:
    """The one rule for "is this frame runtime code?", used for the user
    location (-u), the wait site of `leaks` and frame cutting in every
    front end: the function matches a runtime glob, its source file a
    runtime file glob (a runtime's static helpers share no name prefix,
    e.g. corort's `recv at chan.c`), or its pc lies in the runtime's
    address range.  The globs are the runtime's own description (adopt()
    it from each table), unless the user set them."""

    def __init__(self, globs=DEFAULT_RUNTIME_GLOBS,
                 files=DEFAULT_RUNTIME_FILES):
        self.functions = RuntimeRule(globs)
        self.files = RuntimeRule(files)
        self.policy = NO_POLICY

    def adopt(self, table):
        """Take the runtime's self-description from TABLE (call it for
        every freshly decoded table)."""
        p = runtime_policy(table)
        if p != self.policy:
            self.policy = p
            self.functions.adopt(p.functions)
            self.files.adopt(p.files)

    @property
    def start(self):
        """The runtime's start (trampoline) function address, or 0: a
        coroutine's stack ends there."""
        return self.policy.start

    def is_runtime(self, function, path=None, pc=None):
        p = self.policy
        return bool(function and self.functions(function)) or \
            bool(path and self.files(path)) or \
            bool(pc is not None and p.lo <= pc < p.hi)

    def location(self, loc):
        """Is Location LOC runtime code?"""
        return self.is_runtime(loc.function, loc.file, loc.pc)


class StackEnd:
    """Where a parked coroutine's `bt` ends, the one rule of both
    adapters' frame lists (GDB's frame filter and its learning walk,
    LLDB's learning walk and -t): after the frame of its entry function
    (the table's entry_fn), found by the function's start address, so C,
    C++ and stripped programs alike; or before the runtime's start
    (trampoline) function, the first frame that is no code (the zero or
    sentinel a runtime leaves at the stack bottom), whichever comes
    first.  A start function that is the first frame (a coroutine that
    never ran, or whose entry frame sibling calls removed) is shown and
    ends the stack: below it is the runtime's bottom, and a finish stub
    there is real code with a name.  Physical frames only: an inlined
    frame shares its slot's."""

    SHOW, LAST, HIDE = "show", "last", "hide"

    def __init__(self, entry_fn, start_fn):
        self.entry_fn = entry_fn or None
        self.start_fn = start_fn or None

    def check(self, pc, func_start, is_code, after_shown):
        """SHOW, LAST (shown, and nothing after it) or HIDE (past the
        end) for the frame at PC.  FUNC_START() gives the start of the
        function of its physical frame (None for an inlined frame, or
        unknown), IS_CODE() whether PC is code at all; each is asked at
        most once, only when needed.  AFTER_SHOWN: a frame was shown
        before it (a coroutine that never ran is only its start)."""
        if pc == 0:
            return self.HIDE
        start = func_start() if self.entry_fn or self.start_fn else None
        if start is not None and start == self.start_fn:
            return self.HIDE if after_shown else self.LAST
        if not is_code():
            return self.HIDE
        if start is not None and start == self.entry_fn:
            return self.LAST
        return self.SHOW


NO_USER_FRAME = "no user frame"


def is_user(loc, runtime):
    """Is Location LOC a user frame: named, and not runtime code?"""
    return bool(loc.function) and not runtime.location(loc)


def user_frame(frames, runtime):
    """The first Location of FRAMES ([(level, Location)], every frame
    `bt` shows, inlined and tail-call frames included) that has a function
    name and is not runtime code.  When there is none (gcc -O2 sibling
    calls can leave only runtime frames), the innermost frame marked
    NO_USER_FRAME, never a runtime function posing as the wait site.
    None for no frames."""
    for _, loc in frames:
        if is_user(loc, runtime):
            return loc
    return frames[0][1]._replace(note=NO_USER_FRAME) if frames else None


def walk_hint(co, live, data=None):
    """What the stack walker may take as CO's wait site without reading
    its stack (stackwalk.FrameSizeUnwinder.user_frame_at's VIA):
    co.wait_hint, where reading costs a round trip (a LIVE target, no
    stack window DATA already read), for an entry the table's own checks
    passed whose saved sp lies inside its stack; else None.  A core file
    is read locally and may lack the stack pages `bt` needs (a truncated
    core, MADV_DONTDUMP): there the walk decides alone."""
    if not live or data is not None or co.unreadable is not None:
        return None
    sp, lo, hi = co.sp, co.stack_lo or 0, co.stack_hi
    if not sp or (hi and not lo <= sp < hi):
        return None
    return co.wait_hint


class UserRule:
    """user_frame for one command over many coroutines, with the
    answers cached: per shown frame, per tuple of frames a stack slot
    shows (the stack walker hands out the same tuples again and again).
    accepts(shown) is the walker's UNTIL; user(frames) the user frame of
    a walk ([stackwalk.Frame])."""

    def __init__(self, runtime):
        self.runtime = runtime
        self._first = {}
        self._index_fn = self._index    # one object: the walker's memo key

    def _index(self, shown):
        i = self._first.get(shown)
        if i is None:
            i = -1
            for k, loc in enumerate(shown):
                if is_user(loc, self.runtime):
                    i = k
                    break
            self._first[shown] = i
        return i

    def accepts(self, shown):
        return self._index(shown) >= 0

    def walked(self, walker, co, depth):
        """The user frame of parked CO by WALKER's (a stackwalk
        FrameSizeUnwinder) fast path, as user(walker.frames(co, depth,
        self.accepts)) gives it; None for no frames; False when CO needs
        the general walk."""
        return self.walked_at(walker, co.pc, co.sp, co.stack_hi, depth)

    def walked_at(self, walker, pc, sp, hi, depth, data=None, via=None):
        """walked() of a parked coroutine given by its saved PC, SP and
        stack top HI (walker.user_frame_at; DATA its window if read, VIA
        walk_hint())."""
        got = walker.user_frame_at(pc, sp, hi, depth, self._index_fn, data,
                                   via)
        if got is None:
            return False
        shown, i = got
        if i >= 0:
            return shown[i]
        return shown[0]._replace(note=NO_USER_FRAME) if shown else None

    def user(self, frames):
        """The user frame of FRAMES (a walk, top first), else the
        innermost frame marked NO_USER_FRAME, else None."""
        for f in frames:
            i = self._index(f.shown)
            if i >= 0:
                return f.shown[i]
        for f in frames:
            if f.shown:
                return f.shown[0]._replace(note=NO_USER_FRAME)
        return None
