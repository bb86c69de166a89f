"""corodbg's LLDB OperatingSystem plugin: parked coroutines as threads.

Load it with
    settings set target.process.python-os-plugin-path /path/to/corodbg_os.py
(`command script import corodbg_lldb.py` does this for you).  LLDB
instantiates this module's OperatingSystemPlugIn per process; the plugin
is corodbg_lldb_adapter/threads.py.
"""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

from corodbg_lldb_adapter.threads import OperatingSystemPlugIn  # noqa: E402,F401
