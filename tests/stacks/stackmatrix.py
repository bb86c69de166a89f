"""The differential test's matrix: tests/progs/stackprog.c built as C and
C++ by gcc and clang at -O0, -O2 and -O3, each program run once under GDB
and once under LLDB, and the transcripts parsed.

Everything is built and run once per session, several at a time (the
machine is shared: at most JOBS processes).  The parsers turn both
debuggers' own `bt` into each coroutine's user frame by the rule the tests
state (the first frame whose function is not runtime code), so the tests
compare our fast answers with the debugger's, not with themselves."""
import fnmatch
import os
import pathlib
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
BUILD = ROOT / "build"
OUT = BUILD / "stacks"
HOOKS_A = BUILD / "runtime-hooks" / "libcorodbg.a"
JOBS = 3
COMPILERS = {"gcc": ("gcc", "g++"), "clang": ("clang", "clang++")}
OPTS = ("O0", "O2", "O3")
LANGS = ("c", "cxx")
RUNTIME = ("fx_*", "corodbg_*")     # the test programs' runtime code
ROUNDS = 3                          # coroutines per worker kind
LLDB = shutil.which("lldb-19")
LLDB_SERVER = "/usr/lib/llvm-19/bin/lldb-server"

_FLAGS = ["-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE", "-g",
          "-I%s" % (ROOT / "runtime-hooks" / "include"),
          "-I%s" % (ROOT / "tests" / "progs")]
_LIBS = [str(HOOKS_A), "-Wl,--export-dynamic-symbol=corodbg_table",
         "-Wl,--export-dynamic-symbol=corodbg_event_hook",
         "-Wl,-u,corodbg_gdb_script", "-lpthread", "-ldl"]


def variants():
    return ["%s-%s-%s" % (lang, cc, opt) for lang in LANGS
            for cc in COMPILERS for opt in OPTS
            if shutil.which(COMPILERS[cc][lang == "cxx"])]


def _run(cmd, timeout=180, env=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors="replace", timeout=timeout, env=env,
                       stdin=subprocess.DEVNULL, cwd=str(ROOT))
    return p.returncode, p.stdout


def _build(name):
    lang, cc, opt = name.split("-")
    cfront, cxxfront = COMPILERS[cc]
    src = ROOT / "tests" / "progs"
    # the mini runtime and its register-mode runtimes (minirt.c's modes)
    runtime = [src / "minirt.c", src / "regmodes.c"]
    exe = OUT / name
    if lang == "c":
        rc, out = _run([cfront, "-std=c11", "-" + opt] + _FLAGS + [
            str(src / "stackprog.c")] + [str(r) for r in runtime] +
            ["-o", str(exe)] + _LIBS)
    else:   # the runtime stays C, the program is C++
        objs = [OUT / ("%s-%s-%s.o" % (r.stem, cc, opt)) for r in runtime]
        rc, out = 0, ""
        for r, obj in zip(runtime, objs):
            if rc == 0:
                rc, out = _run([cfront, "-std=c11", "-" + opt] + _FLAGS + [
                    "-c", str(r), "-o", str(obj)])
        if rc == 0:
            rc, out = _run([cxxfront, "-std=c++17", "-" + opt] + _FLAGS + [
                "-x", "c++", str(src / "stackprog.c"), "-x", "none"] +
                [str(o) for o in objs] + ["-o", str(exe)] + _LIBS)
    assert rc == 0, "building %s failed:\n%s" % (name, out)
    return exe


BOOST_SRC = ROOT / "tests" / "interpose" / "boost"
BOOST_LIBS = {"gen": ["-lboost_context"],
              "fibers": ["-lboost_fiber", "-lboost_context"],
              "sessions": ["-lboost_coroutine", "-lboost_context",
                           "-lpthread"]}


def boost_build(prog, build):
    """tests/interpose/boost/PROG.cpp as BUILD: "make" (the Makefile's,
    g++ -O0) or "CC-OPT" (e.g. "clang-O2"), built here once per session
    into build/stacks; its path."""
    if build == "make":
        return BUILD / "interpose" / "tests" / ("boost_" + prog)
    cc, opt = build.split("-")
    exe = OUT / ("boost_%s-%s" % (prog, build))
    if not exe.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        rc, out = _run([COMPILERS[cc][1], "-std=c++17", "-" + opt, "-g",
                        "-Wall", "-Wextra", "-Werror",
                        "-DBOOST_ALLOW_DEPRECATED_HEADERS",
                        "-DBOOST_COROUTINES_NO_DEPRECATION_WARNING",
                        str(BOOST_SRC / (prog + ".cpp")), "-o",
                        str(exe) + ".tmp"] + BOOST_LIBS[prog])
        assert rc == 0, "building %s %s failed:\n%s" % (prog, build, out)
        os.rename(str(exe) + ".tmp", str(exe))
    return exe


GDB_CMDS = ["info coroutines -group user -samples 100",
            "coroutine leaks", "coroutine apply all bt"]
LLDB_CMDS = ["coroutine list -group user -samples 100",
             "coroutine leaks", "thread backtrace all", "coroutine list -t 30"]


def run_gdb(exe, bottom="sentinel", one_by_one=False):
    """ONE_BY_ONE: stacks read through GDB one coroutine at a time, as
    through gdbserver or from a core file (each read only as long as
    the walk can use), not a thousand at a time from /proc/PID/mem."""
    cmd = ["gdb", "-nx", "-q", "-batch", "-iex", "set auto-load safe-path /",
           "-ex", "source %s" % (ROOT / "gdb" / "corodbg-gdb.py"),
           "-ex", "set corodbg runtime-functions %s" % ",".join(RUNTIME),
           "-ex", "break stack_ready", "-ex", "run"]
    for c in GDB_CMDS:
        cmd += ["-ex", "echo <<<%s>>>\\n" % c, "-ex", c]
    cmd += ["--args", str(exe), str(ROUNDS), bottom]
    env = dict(os.environ, LC_ALL="C")
    if one_by_one:
        env["CORODBG_NO_PROC_MEM"] = "1"
    return _split(_run(cmd, env=env)[1])


def run_lldb(exe, bottom="sentinel"):
    cmd = [LLDB, "--no-lldbinit", "-b",
           "-o", "command script import %s" % (ROOT / "lldb" /
                                               "corodbg_lldb.py"),
           "-o", "coroutine config runtime-functions %s" % ",".join(RUNTIME),
           "-o", "b stack_ready", "-o", "run %d %s" % (ROUNDS, bottom)]
    for c in LLDB_CMDS:
        cmd += ["-o", "script print('<<<%s>>>')" % c, "-o", c]
    cmd += [str(exe)]
    env = dict(os.environ, LLDB_DEBUGSERVER_PATH=LLDB_SERVER)
    return _split(_run(cmd, env=env)[1])


def _split(text):
    """{command: its output} from the <<<command>>> markers."""
    assert "Traceback" not in text and "internal error" not in text, text
    parts = {"": text}
    cur = None
    for line in text.splitlines():
        m = re.match(r"^<<<(.*)>>>$", line)
        if m:
            cur = m.group(1)
            parts[cur] = []
        elif cur is not None and not line.startswith("(lldb) "):
            parts[cur].append(line)
    return {k: v if isinstance(v, str) else "\n".join(v)
            for k, v in parts.items()}


def build_and_run_all():
    """{variant: {"exe": path, "gdb": {...}, "lldb": {...} or None}}, plus
    "gdb-zero" and "lldb-zero" (a stack bottom of zero instead of the
    sentinel), "gdb-stub" and "lldb-stub" (a finish stub there, and the
    trampoline described as the runtime's start) and "gdb-one-by-one"
    (run_gdb's ONE_BY_ONE) for two."""
    OUT.mkdir(parents=True, exist_ok=True)
    names = variants()
    with ThreadPoolExecutor(JOBS) as pool:
        exes = dict(zip(names, pool.map(_build, names)))
        jobs = {}
        for n in names:
            jobs[(n, "gdb")] = pool.submit(run_gdb, exes[n])
            if LLDB:
                jobs[(n, "lldb")] = pool.submit(run_lldb, exes[n])
        for n in ("c-gcc-O2", "cxx-clang-O0"):
            if n in exes:
                for bottom in ("zero", "stub"):
                    jobs[(n, "gdb-" + bottom)] = pool.submit(
                        run_gdb, exes[n], bottom)
                    if LLDB:
                        jobs[(n, "lldb-" + bottom)] = pool.submit(
                            run_lldb, exes[n], bottom)
                jobs[(n, "gdb-one-by-one")] = pool.submit(
                    run_gdb, exes[n], "sentinel", True)
        out = {n: {"exe": exes[n]} for n in names}
        for (n, dbg), fut in jobs.items():
            out[n][dbg] = fut.result()
    return out


# ---- parsing ---------------------------------------------------------------

def base_name(fn):
    """'::conn(co*)', 'conn(self=0x1)', 'prog`conn' -> 'conn'; LLDB's
    'prog`caller [inlined] park' -> 'park' (the inlined function)."""
    fn = fn.split("`", 1)[-1].split(" [inlined] ")[-1].strip()
    fn = re.sub(r"\(.*$", "", fn)
    return fn[2:] if fn.startswith("::") else fn


def is_runtime(fn):
    return any(fnmatch.fnmatchcase(base_name(fn), g) for g in RUNTIME)


def user_key(functions, runtime=is_runtime):
    """The user frame's key by the tests' rule, from a `bt`'s functions:
    the first that is not runtime code (RUNTIME(fn)), else '(no user
    frame) ' + the innermost one.  A frame no symbol names (GDB's '??',
    LLDB's placeholder for an unnamed eh_frame range) is not a user
    frame."""
    for fn in functions:
        if fn != "??" and "___lldb_unnamed_symbol" not in fn and \
                not runtime(fn):
            return base_name(fn)
    return "(no user frame) " + base_name(functions[0]) if functions \
        else "(no frames)"


def gdb_bts(text, function=None):
    """{coroutine id: [function names of its bt]} from `coroutine apply
    all bt`.  FUNCTION(rest of a frame line after the pc): the name to
    record (default: the text before the first " (")."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r'^Coroutine (\d+) "', line)
        if m:
            cur = out.setdefault(int(m.group(1)), [])
            continue
        m = re.match(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(.+)$", line)
        if m and cur is not None:
            rest = m.group(1)
            cur.append(function(rest) if function else
                       re.match(r"(.+?)(?: \(.*)?$", rest).group(1))
    return out


def listed_stacks(text):
    """{coroutine id: [function names]} from a `-t` listing: each row (an
    id first) followed by its frames, `#N   function at file:line`."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^\s*\*?\s*(\d+)\s+(?:running|runnable|blocked|dead|"
                     r"panicked|crashed)\b", line)
        if m:
            cur = out.setdefault(int(m.group(1)), [])
            continue
        m = re.match(r"^\s+#\d+\s+(.+?)(?: at \S+:\d+)?$", line)
        if m and cur is not None:
            cur.append(m.group(1))
    return out


def lldb_bts(text):
    """{coroutine id: [function names]} from `thread backtrace all` (the
    coroutine threads are named 'coro ID ...')."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^\s*\*? ?thread #\d+, name = '(?:coro (\d+) )?", line)
        if m:
            cur = out.setdefault(int(m.group(1)), []) if m.group(1) \
                else None
            continue
        m = re.match(r"^\s*\*? ?frame #\d+: 0x[0-9a-f]+ (\S+?`.+?)"
                     r"(?: at |$| \+ \d+)", line)
        if m and cur is not None:
            cur.append(m.group(1))
    return out


def key_of_location(text):
    """Our location text ('tail_worker(co*) at stackprog.c:103', '(no
    user frame) fx_trampoline at t.c:52') -> a key comparable with
    user_key."""
    m = re.match(r"^(\(no user frame\) )?(.+?)(?: at \S+:\d+)?$",
                 text.strip())
    return (m.group(1) or "") + base_name(m.group(2))


def groups_of_listing(text):
    """{key: ids} from `-group user -samples 100`."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^\s*\d+\s+(.+?)\s+\[([\d, ]+)\]$", line)
        if m:
            ids = {int(i) for i in m.group(2).split(",")}
            out.setdefault(key_of_location(m.group(1)), set()).update(ids)
    return out


def groups_of_leaks(text):
    """{key of the wait site: ids} from `coroutine leaks` (at most 5 ids
    a group: compared as subsets)."""
    out, ids = {}, None
    for line in text.splitlines():
        m = re.search(r"\[ids ([\d, ]+)(, \.\.\.)?\]", line)
        if m:
            ids = {int(i) for i in m.group(1).split(",")}
            continue
        m = re.match(r"^\s+waiting at\s+(.+)$", line)
        if m and ids is not None:
            out.setdefault(key_of_location(m.group(1)), set()).update(ids)
            ids = None
    return out


def groups_of_bts(bts, ids=None, runtime=is_runtime):
    out = {}
    for cid, fns in bts.items():
        if ids is None or cid in ids:
            out.setdefault(user_key(fns, runtime), set()).add(cid)
    return out
