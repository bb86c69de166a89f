#!/bin/sh
# corodbg capture tool benchmark (issue 11): dump of N parked coroutines
# (target <= 1 s) against GDB's `info coroutines -t` and eu-stack on the
# same process, and the stall of the stopped thread measured inside the
# target (target <= 1 ms), and the throughput cost of a 100 Hz CPU
# profile on a CPU-bound coroutine (target <= 2%).
#
#   sh bench/run-capture.sh            (make bench runs it)
#   N=100000 RUNS=5 sh bench/run-capture.sh
#   CORODBG_BASELINE=/tmp/old/build/capture/corodbg sh bench/run-capture.sh
#                                     (before/after, alternating runs)
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/capture/bench_capture.py "${N:-100000}" "${RUNS:-5}"
