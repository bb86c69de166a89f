#!/bin/sh
# Demo part 23: the same listing from a core file (gcore, then core-file:
# no live process; the coroutine view needs no register writes).
set -eu
cd "$(dirname "$0")/../.."
. examples/demo/gdb-demo-lib.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM

echo "== server: dump a core at the checkpoint, then read it"
gdb_quiet build/examples/server 1000 -- \
    "break example_checkpoint" "run" "gcore $T/server.core" "kill"
gdb_demo build/examples/server -- \
    "core-file $T/server.core" \
    "info coroutines -group user" "coroutine 5 bt"

echo "== segv: the crash named from the core"
gdb_quiet build/examples/segv -- "run" "gcore $T/segv.core" "kill"
gdb_demo build/examples/segv -- \
    "core-file $T/segv.core" "info coroutines" "coroutine crashed"
