"""Catchpoints and crash reporting (placeholder filled in step 5)."""
import gdb

from corodbg.core import layout
from . import target


def crashed_coroutine(tbl):
    cid = tbl.get("crashed_id", 0)
    co = tbl.by_id.get(cid) if cid else None
    if co is None:
        for c in tbl.coroutines:
            if c.state == layout.STATE_CRASHED:
                co = c
                break
    if co is None:
        return None, None
    return co, "Coroutine %d \"%s\" crashed: signal %d, fault address 0x%x" % (
        co.id, co.name, co.signal or 0, co.fault_addr or 0)
