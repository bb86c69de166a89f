"""corodbg's GDB adapter: commands, unwinder, frame filter, catchpoints.

Each module is imported on its own so that one failing module does not
take the others down (as GDB's own gdb/__init__.py does).  Importing twice
(e.g. auto-load plus `source`) registers nothing twice.
"""
import traceback

import gdb

if not getattr(gdb, "_corodbg_loaded", False):
    gdb._corodbg_loaded = True
    for _name in ("target", "view", "commands", "catch", "dap"):
        try:
            __import__("corodbg_gdb." + _name)
        except Exception:  # pragma: no cover - a bug in that module
            gdb.write("corodbg: failed to load %s:\n%s"
                      % (_name, traceback.format_exc()), gdb.STDERR)
