"""Naming code addresses: the return-address rule and its per-stop cache.

Both adapters name a pc the same way and differ only in how their debugger
looks things up, which they pass in as two callbacks:

  start(pc)          -> the entry address of the function holding PC, or None
  describe(pc, look) -> model.Location of the code at LOOK, reported for PC

The rule: a return address (a caller frame's pc, a saved context's pc) is
named by the call before it, pc - 1, since the return address may already
be the first instruction of the next line or even of the next function.
The exception is a pc that starts a function: a coroutine that never ran
is parked at its start routine, and pc - 1 would name whatever function
the linker put before it.
"""
from .model import Location


def call_site(pc, is_return, start):
    """The address whose function and line name PC (see the module doc)."""
    if is_return and start(pc) != pc:
        return pc - 1
    return pc


class SymbolCache:
    """pc -> Location, once per stop (clear() on resume, new objfiles)."""

    def __init__(self, start, describe):
        self._start = start
        self._describe = describe
        self._cache = {}

    def symbolize(self, pc, is_return=True):
        """PC's Location.  IS_RETURN: PC is a return address (see
        call_site).  A zero pc has no location."""
        if not pc:
            return Location(None, None, 0, pc)
        key = (pc, is_return)
        loc = self._cache.get(key)
        if loc is None:
            look = call_site(pc, is_return, self._start)
            loc = self._cache[key] = self._describe(pc, look)
        return loc

    def clear(self):
        self._cache.clear()
