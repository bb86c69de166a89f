#!/bin/sh
# Demo part 21: the leak report from the debugger: blocked coroutines
# grouped by creation site and wait site, with ages.
set -eu
cd "$(dirname "$0")/../.."
. examples/demo/gdb-demo-lib.sh

echo "== leak: consumers wait on a channel nobody sends to"
gdb_demo build/examples/leak -- \
    "break example_checkpoint" "run" \
    "coroutine leaks" \
    "coroutine leaks -min-age 1h"
