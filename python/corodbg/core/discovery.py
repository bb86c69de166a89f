"""How any reader finds the coroutine table (docs/abi.md, "Finding the
table"): the symbol `corodbg_table` (exported, so it survives strip), else
the start of the allocated ELF section `.corodbg` (present in stripped
binaries and core files).  The adapters ask their debugger for the two;
what to say when neither is there is said here once."""
from . import errors

TABLE_SYMBOL = "corodbg_table"
TABLE_SECTION = ".corodbg"


def not_found():
    """The error for a program with neither the symbol nor the section."""
    return errors.NoTableError(
        "No coroutine table in this program (symbol %s and section %s not "
        "found: is it linked with libcorodbg?)" % (TABLE_SYMBOL,
                                                    TABLE_SECTION))


def no_executable():
    """The error when the debugger has no program to look in."""
    return errors.NoTableError(
        "no executable loaded: use `file PROGRAM` (the table is found "
        "through the program's symbols or its %s section)" % TABLE_SECTION)
