# Shared by the GDB demo parts (20-23): run gdb in batch mode, echoing each
# command as `(gdb) CMD` before its output, like an interactive session.
#   gdb_demo PROGRAM [ARGS...] -- CMD...
#   gdb_quiet PROGRAM [ARGS...] -- CMD...   (no output)
# The extension is loaded with `source gdb/corodbg-gdb.py`; programs linked
# with libcorodbg also auto-load it once their path is in GDB's
# `auto-load safe-path`.
gdb_run() {
    quiet=$1; shift
    prog=$1; shift
    pargs=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do pargs="$pargs $1"; shift; done
    [ $# -gt 0 ] && shift
    : > "${TMPDIR:-/tmp}/corodbg-demo.$$"
    for c in "$@"; do
        if [ "$quiet" = 0 ]; then
            printf 'echo (gdb) %s\\n\n' "$c" >> "${TMPDIR:-/tmp}/corodbg-demo.$$"
        fi
        printf '%s\n' "$c" >> "${TMPDIR:-/tmp}/corodbg-demo.$$"
    done
    if [ "$quiet" = 0 ]; then
        echo "\$ gdb -batch -ex 'source gdb/corodbg-gdb.py' ... --args $prog$pargs"
        # shellcheck disable=SC2086
        gdb -nx -q -batch -iex "add-auto-load-safe-path $(pwd)/build" -ex 'source gdb/corodbg-gdb.py' \
            -ex 'set confirm off' -x "${TMPDIR:-/tmp}/corodbg-demo.$$" \
            --args "$prog" $pargs 2>&1 | grep -v '^\[Thread debugging\|^Using host libthread_db\|^\[Inferior 1 .* killed\]'
    else
        # shellcheck disable=SC2086
        gdb -nx -q -batch -iex "add-auto-load-safe-path $(pwd)/build" -ex 'source gdb/corodbg-gdb.py' \
            -ex 'set confirm off' -x "${TMPDIR:-/tmp}/corodbg-demo.$$" \
            --args "$prog" $pargs >/dev/null 2>&1
    fi
    rm -f "${TMPDIR:-/tmp}/corodbg-demo.$$"
    [ "$quiet" = 1 ] || echo
}
gdb_demo() { gdb_run 0 "$@"; }
gdb_quiet() { gdb_run 1 "$@"; }
