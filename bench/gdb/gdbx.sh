# Sourced by the GDB bench scripts: gdbx ARGS... runs a batch GDB with the
# extension and bench/gdb/timecmd.py loaded, and keeps its BENCH lines.
gdbx() {
    gdb -nx -q -batch -iex 'set auto-load safe-path /' \
        -ex 'source gdb/corodbg-gdb.py' \
        -ex 'set corodbg runtime-functions fx_*,corodbg_*' \
        -ex 'source bench/gdb/timecmd.py' "$@" 2>&1 | grep '^BENCH' || true
}
