"""corodbg for LLDB: the `coroutine` command and the coroutine threads.

Load with
    (lldb) command script import /path/to/corodbg/lldb/corodbg_lldb.py
This adds one multiword command, `coroutine` (list, select, apply, leaks,
catch, config), and sets target.process.python-os-plugin-path to
corodbg_os.py so parked coroutines appear as threads.  The adapter itself
is the package corodbg_lldb_adapter/ next to this file.
"""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

import corodbg_lldb_adapter  # noqa: E402


def __lldb_init_module(debugger, internal_dict):
    corodbg_lldb_adapter.register(debugger, internal_dict)
