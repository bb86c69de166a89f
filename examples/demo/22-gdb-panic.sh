#!/bin/sh
# Demo part 22: panic-catch stops in the panicking coroutine, with its
# locals; then a crash (SIGSEGV) inside a coroutine is named.
set -eu
cd "$(dirname "$0")/../.."
. examples/demo/gdb-demo-lib.sh

echo "== panic: worker-3 panics three calls deep"
gdb_demo build/examples/panic -- \
    "catch coroutine panic" "run" "bt 5" "info locals" "info coroutines"

echo "== segv: parser-2 dereferences NULL"
gdb_demo build/examples/segv -- "run" "coroutine crashed" "bt 4"
