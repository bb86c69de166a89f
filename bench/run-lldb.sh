#!/bin/sh
# LLDB stop cost with N parked coroutines (default 100,000): the same stop
# (one `thread step-inst` in the acceptor of examples/server N) without and
# with corodbg's OperatingSystem plugin, then the commands.  The anchor is
# the plugin-less stop measured in the same run.
#   bench/run-lldb.sh [N]
set -e
cd "$(dirname "$0")/.."
N=${1:-100000}
PROG=build/examples/server
[ -x "$PROG" ] || { echo "run-lldb: $PROG missing (make)" >&2; exit 1; }
command -v lldb-19 >/dev/null || { echo "run-lldb: lldb-19 missing" >&2; exit 1; }
export LLDB_DEBUGSERVER_PATH=/usr/lib/llvm-19/bin/lldb-server
PYTHONPATH=$(lldb-19 -P):bench exec /usr/bin/python3 - "$PROG" "$N" <<'PY'
import os, sys, time, resource
import lldb
from lldb_session import debugger, launch

prog, n = sys.argv[1], int(sys.argv[2])
here = os.path.abspath("lldb")

def session(plugin):
    dbg, cmd = debugger("run-lldb", plugin)
    return dbg, launch(dbg, prog, [n], "example_checkpoint"), cmd

def stops(p, k=3):
    main = [p.GetThreadAtIndex(i) for i in range(p.GetNumThreads())
            if p.GetThreadAtIndex(i).GetThreadID() < (1 << 32)][0]
    p.SetSelectedThread(main)
    best = None
    for _ in range(k):
        t0 = time.perf_counter()
        p.GetSelectedThread().StepInstruction(False)
        nth = p.GetNumThreads()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return best, nth

def timed(cmd, c):
    t0 = time.perf_counter()
    out = cmd(c)
    return time.perf_counter() - t0, out

dbg, p, cmd = session(False)
base, nth0 = stops(p)
p.Kill(); lldb.SBDebugger.Destroy(dbg)

sys.stderr = open(os.devnull, "w")  # the plugin's per-stop cap warning
dbg, p, cmd = session(True)
plug, nth1 = stops(p)
sys.path.insert(0, here)
from corodbg_lldb_adapter import target as T
sess = T.session(p)
t0 = time.perf_counter()
sess.forget_table()
tbl = sess.table()
dec = time.perf_counter() - t0
lst, out = timed(cmd, "coroutine list")
total = [l for l in out.splitlines() if l.startswith(("Total", "Shown"))][0]
grp, gout = timed(cmd, "coroutine list -group start")
cmd("coroutine config runtime-functions 'corort_*,corodbg_*,recv,send,__*'")
usr, uout = timed(cmd, "coroutine list -group user")
lk, lout = timed(cmd, "coroutine leaks")
sel, _ = timed(cmd, "coroutine select %d" % (n // 2))
bt, _ = timed(cmd, "bt")
cmd("coroutine config max-threads 100000")
allt, nth2 = stops(p, 1)
p.Kill(); lldb.SBDebugger.Destroy(dbg)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

print("LLDB, %d parked coroutines (examples/server %d), lldb-19, SB API:" % (n, n))
print("  stop without plugin (anchor)  %8.4f s  %6d threads" % (base, nth0))
print("  stop with plugin (cap 2000)   %8.3f s  %6d threads  x%.1f anchor"
      % (plug, nth1, plug / base))
print("  stop with plugin, cap 100000  %8.3f s  %6d threads  x%.1f anchor"
      % (allt, nth2, allt / base))
print("  of which table decode (core)  %8.3f s  %6d entries" % (dec, len(tbl.coroutines)))
print("  coroutine list (all lines)    %8.3f s  (%s)" % (lst, total))
print("  coroutine list -group start   %8.3f s" % grp)
print("  coroutine list -group user    %8.3f s  (%d groups)" % (
    usr, len([l for l in uout.splitlines() if " at " in l])))
print("  coroutine leaks (after it)    %8.3f s" % lk)
print("  coroutine select N/2 + bt     %8.3f s" % (sel + bt))
print("  lldb+python max RSS           %8.0f MB" % rss)
PY
