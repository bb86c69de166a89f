#!/bin/sh
# Demo part 10: the in-process leak report, no debugger needed.
# `make demo` has already built everything; this only runs the examples.
set -eu
cd "$(dirname "$0")/../.."
EX=build/examples

echo "== leak: three consumers wait on a channel nobody sends to"
echo "\$ $EX/leak"
"$EX/leak"
echo
echo "== spawn-loop: a dispatcher spawns handlers that never finish"
echo "\$ $EX/spawn-loop 4"
"$EX/spawn-loop" 4
echo
