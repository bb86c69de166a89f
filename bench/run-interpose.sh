#!/bin/sh
# The LD_PRELOAD ucontext interposer's cost against plain glibc
# swapcontext/makecontext, measured in the same run (interpose/bench.sh).
set -eu
cd "$(dirname "$0")/.."
exec sh interpose/bench.sh
