"""corodbg's LLDB adapter: how LLDB asks for memory, symbols, registers
and commands, over the debugger-independent core (python/corodbg/core).

    target.py    the Session of a process: memory reads, the table,
                 symbolization, thread ids, the clock, per-stop caches
    threads.py   the OperatingSystem plugin: parked coroutines as threads
    stacks.py    coroutine stacks as `bt` shows them; the core listing's
                 view of LLDB (listing.Frontend)
    commands.py  `coroutine list|select|apply|leaks|config`
    catch.py     `coroutine catch`: the in-process event filter

LLDB loads it through two files next to this folder: corodbg_lldb.py
(`command script import`, calls register) and corodbg_os.py (the plugin
path).  This package is not named corodbg_lldb because a package shadows
a module of the same name in its folder: `command script import
.../corodbg_lldb.py` would then import the package, not that file.
"""
import os
import sys

# The core: ../python next to lldb/ in the source tree and in the installed
# layout (share/corodbg/{lldb,python}).
_LLDB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (os.path.join(_LLDB_DIR, "..", "python"),
           os.path.join(_LLDB_DIR, "python")):
    _p = os.path.normpath(_p)
    if os.path.isdir(os.path.join(_p, "corodbg")) and _p not in sys.path:
        sys.path.insert(0, _p)


def register(debugger, internal_dict):
    """Add the `coroutine` multiword command and the OS plugin path.

    LLDB finds a command class, a breakpoint callback or a thread plan by
    a dotted name looked up in its session dictionary (INTERNAL_DICT), not
    in sys.modules: the package is put there so that each module can name
    its own callbacks by __name__."""
    import lldb
    from . import catch, commands, threads

    internal_dict[__name__] = sys.modules[__name__]
    table = (("list", commands.CoroutineList),
             ("select", commands.CoroutineSelect),
             ("apply", commands.CoroutineApply),
             ("leaks", commands.CoroutineLeaks),
             ("catch", catch.CoroutineCatch),
             ("config", commands.CoroutineConfig))
    interp = debugger.GetCommandInterpreter()
    ret = lldb.SBCommandReturnObject()

    def run(cmd):
        ret.Clear()
        interp.HandleCommand(cmd, ret)
        return ret.Succeeded()

    run("command container delete coroutine")
    run('command container add -h "Inspect and control coroutines '
        '(corodbg)." -H "Subcommands: %s.  See help coroutine SUBCOMMAND."'
        ' coroutine' % ", ".join(name for name, _ in table))
    for name, cls in table:
        run("command script add -o -c %s.%s coroutine %s"
            % (cls.__module__, cls.__name__, name))
    if commands.T.CONFIG.threads:
        run("settings set target.process.python-os-plugin-path %s"
            % commands.quote(threads.OS_PLUGIN))
