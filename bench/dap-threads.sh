#!/bin/sh
# The DAP `threads` answer at N coroutines (default 100,000) with the
# default cap (2000 coroutine threads): lldb-dap-19 with corodbg's OS
# plugin (the anchor) and GDB 16's `gdb -i=dap` with corodbg's DAP hook,
# measured in the same run, and their ratio (gdb / lldb: below 1 is
# faster).  Needs node, tests/dap/node_modules (make) and GDB 16
# (scripts/build-gdb16.sh).
#   bench/dap-threads.sh [N]
set -eu
cd "$(dirname "$0")/.."
N=${1:-100000}
PROG=$PWD/build/lldb/lldbprog
[ -x "$PROG" ] || { echo "dap-threads: $PROG missing (make testbin)" >&2; exit 1; }
command -v node >/dev/null || { echo "dap-threads: node missing" >&2; exit 1; }
[ -d tests/dap/node_modules/@vscode ] ||
    { echo "dap-threads: tests/dap/node_modules missing (make)" >&2; exit 1; }
GDB16=$(scripts/build-gdb16.sh --path) ||
    { echo "dap-threads: needs GDB 16: scripts/build-gdb16.sh" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/gdb-dap.sh" <<SH
#!/bin/sh
exec $GDB16 -nx -q -i=dap -iex 'set auto-load safe-path /' -ex 'source $PWD/gdb/corodbg-gdb.py'
SH
unset CORODBG_GDB_MAX_THREADS CORODBG_LLDB_MAX_THREADS
export LLDB_DEBUGSERVER_PATH=/usr/lib/llvm-19/bin/lldb-server
lldb=$(node bench/dap_threads.js lldb lldb-dap-19 "$PROG" "$N")
gdb=$(node bench/dap_threads.js gdb "$tmp/gdb-dap.sh" "$PROG" "$N")
echo "N=$N"
echo "lldb-dap-19 + OS plugin: $lldb"
echo "gdb 16 -i=dap + hook:    $gdb"
/usr/bin/python3 - "$lldb" "$gdb" <<'PY'
import json, sys
l, g = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for k in ("first", "step", "again"):
    print("%-6s lldb %8.1f ms  gdb %8.1f ms  ratio gdb/lldb %.2f"
          % (k, l[k], g[k], g[k] / l[k] if l[k] else float("nan")))
PY
