# corodbg GDB extension loader.  `source` this file, or let GDB auto-load it
# through libcorodbg's .debug_gdb_scripts entry.  Loading prints nothing.
import inspect
import os
import sys

# This file's own path from its code object: __file__ names the outer
# script when a `gdb -x script.py` sources this file.
_here = os.path.dirname(os.path.realpath(
    inspect.currentframe().f_code.co_filename))
for _p in (os.path.join(_here, "..", "python"), _here):
    _p = os.path.normpath(_p)
    if _p not in sys.path:
        sys.path.insert(0, _p)

import corodbg_gdb  # noqa: E402,F401  (registers commands on import)
