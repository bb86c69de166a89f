"""Debugger-independent core of corodbg.  See README.md in this directory.

Nothing here imports gdb or lldb: an adapter supplies memory reads, the
table address, symbolization and a clock, and the core decodes, validates,
filters, groups and formats.
"""
from .errors import (CorodbgError, NoTableError, BadTableError,  # noqa: F401
                     MemoryReadError, UnknownCoroutineError, UsageError)
from .reader import MemoryReader, CachingReader  # noqa: F401
from .decode import decode_table, read_entry  # noqa: F401
from .model import Coroutine, Table, Location  # noqa: F401
