#!/bin/sh
# Demo part 20: `info coroutines` with filters and grouping, and a parked
# coroutine's backtrace with its locals, in GDB (batch mode).
set -eu
cd "$(dirname "$0")/../.."
. examples/demo/gdb-demo-lib.sh

echo "== server: 1000 connections parked at five wait sites, under GDB"
gdb_demo build/examples/server 1000 -- \
    "break example_checkpoint" "run" \
    "info coroutines -limit 8" \
    "info coroutines -group user" \
    "info coroutines -group wait" \
    "info coroutines -wait mutex -limit 3 -g" \
    "coroutine 5" "bt" "frame 3" "info locals" \
    "coroutine apply 2 3 bt 3"
