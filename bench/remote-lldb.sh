#!/bin/sh
# LLDB through lldb-server on loopback (`gdb-remote`), as a user meets it:
# for each command a fresh `lldb-server gdbserver` and a fresh LLDB, the
# program continued to fixture_ready, and the command the first after
# that stop (the OS plugin decodes the table at the stop: measured
# separately).  Each command twice: "loopback", where the plugin finds
# the same process in /proc/PID/mem and reads stacks there, and "remote",
# with CORODBG_LLDB_NO_PROC_MEM=1 as on another host or in another PID
# namespace: stacks through the server, a round trip per window.  The
# same program and commands as bench/remote-gdb.sh.
#
#   sh bench/remote-lldb.sh          (N=100000)
set -eu
cd "$(dirname "$0")/.."
N=${N:-100000}
CMDS=${CMDS:-'coroutine list|coroutine list -group user|coroutine leaks'}
FX=build/gdb/fixture
SERVER=/usr/lib/llvm-19/bin/lldb-server
[ -x "$FX" ] || { echo "remote-lldb: $FX missing (make all builds it)"; exit 1; }
[ -x "$SERVER" ] || { echo "remote-lldb: $SERVER missing (lldb-19)"; exit 1; }
port=$((40000 + $$ % 20000))
echo "remote-lldb: N=$N, load $(cut -d' ' -f1 /proc/loadavg)"
echo "$CMDS" | tr '|' '\n' | while read -r c; do
  for how in loopback remote; do
    port=$((port + 1))
    "$SERVER" gdbserver "127.0.0.1:$port" -- "$FX" list "$N" \
        >/dev/null 2>&1 &
    srv=$!
    sleep 1
    noproc=; [ "$how" = remote ] && noproc=1
    CORODBG_LLDB_NO_PROC_MEM=$noproc PYTHONPATH=$(lldb-19 -P):bench \
        /usr/bin/python3 - "$FX" "$port" "$c" "$how" \
        2>/dev/null <<'PY' || echo "  $c ($how): failed"
import sys, time
from lldb_session import debugger, connect

prog, port, command, how = sys.argv[1:5]
dbg, cmd = debugger("remote-lldb")
cmd("coroutine config runtime-functions 'fx_*,corodbg_*'")
w0 = time.perf_counter()
p = connect(dbg, cmd, prog, "127.0.0.1:" + port, "fixture_ready")
w1, c1 = time.perf_counter(), time.process_time()
out = cmd(command)
w2, c2 = time.perf_counter(), time.process_time()
print("  %-28s %-8s continue+stop %6.3f  command %6.3f / %-6.3f s "
      "wall/cpu  %d lines" % (command, how, w1 - w0, w2 - w1, c2 - c1,
                              out.count("\n")))
p.Kill()
PY
    kill "$srv" 2>/dev/null || true
    wait "$srv" 2>/dev/null || true
  done
done
