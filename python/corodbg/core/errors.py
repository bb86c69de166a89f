"""Errors raised by the corodbg core.

Adapters translate every CorodbgError into their debugger's user-error
type (gdb.GdbError, an LLDB SBCommandReturnObject error): the message is one
line meant for the user.  Anything else escaping the core is a bug.
"""


class CorodbgError(Exception):
    """Base class: a one-line, user-facing message."""


class NoTableError(CorodbgError):
    """The program has no coroutine table (not linked with libcorodbg)."""


class BadTableError(CorodbgError):
    """The descriptor is unusable: bad magic, unknown major, bad sizes."""


class MemoryReadError(CorodbgError):
    """A read of target memory failed.  ADDR and SIZE say which."""

    def __init__(self, addr, size, detail=""):
        self.addr = addr
        self.size = size
        msg = "cannot read %d bytes at 0x%x" % (size, addr)
        if detail:
            msg += " (%s)" % detail
        super().__init__(msg)


class UnknownCoroutineError(CorodbgError):
    """No live coroutine has this id."""

    def __init__(self, cid, message=None):
        self.cid = cid
        super().__init__(message or "no coroutine with id %s" % cid)


class UsageError(CorodbgError):
    """A command's arguments are wrong."""


class NoContextError(CorodbgError):
    """A coroutine has no saved registers to show (never given a context,
    or its registers are not where its runtime said)."""
