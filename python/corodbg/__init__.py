"""corodbg: debugger front-end support for C coroutine runtimes.

The debugger-independent part lives in corodbg.core; the GDB and LLDB
adapters live outside this package (gdb/corodbg_gdb, lldb/...).
"""
