"""An LLDB session for the benchmarks (bench/run-lldb.sh,
bench/fresh-lldb.sh), through the SB API in this process: a debugger with
corodbg's plugin imported (or not), and a program run to a breakpoint."""
import os

import lldb


def debugger(who, plugin=True):
    """(SBDebugger, cmd): cmd(text) runs an LLDB command, returns its
    output and ends the benchmark with WHO's name on a failure."""
    dbg = lldb.SBDebugger.Create(False)
    dbg.SetAsync(False)
    ci = dbg.GetCommandInterpreter()

    def cmd(c):
        r = lldb.SBCommandReturnObject()
        ci.HandleCommand(c, r)
        if not r.Succeeded():
            raise SystemExit("%s: %s: %s" % (who, c, r.GetError()))
        return r.GetOutput() or ""

    if plugin:
        cmd("command script import %s/lldb/corodbg_lldb.py" % os.getcwd())
    return dbg, cmd


def launch(dbg, prog, args, breakpoint):
    """Run PROG ARGS to BREAKPOINT; the process as LLDB shows that stop
    (with the plugin, its threads are made here)."""
    t = dbg.CreateTarget(prog)
    t.BreakpointCreateByName(breakpoint)
    li = lldb.SBLaunchInfo([str(a) for a in args])
    li.SetLaunchFlags(lldb.eLaunchFlagDisableSTDIO)
    err = lldb.SBError()
    p = t.Launch(li, err)
    assert err.Success() and p.GetState() == lldb.eStateStopped, err
    p.GetNumThreads()
    return p


def connect(dbg, cmd, prog, url, breakpoint):
    """PROG started under a debug server at URL (`gdb-remote`), continued
    to BREAKPOINT; the process as LLDB shows that stop."""
    t = dbg.CreateTarget(prog)
    t.BreakpointCreateByName(breakpoint)
    cmd("gdb-remote %s" % url)
    p = t.GetProcess()
    p.Continue()
    assert p.GetState() == lldb.eStateStopped, p.GetState()
    p.GetNumThreads()
    return p
