#!/bin/sh
# make bench's remote part (issue 10's targets through a server on
# loopback, at N=100000): GDB through gdbserver, then LLDB through
# lldb-server, each command the first in a fresh debugger at a new stop.
# Targets: `info coroutines` <= 1 s, `-group user` and `leaks` <= 5 s.
# The local figures and the Delve anchor of the same run are
# bench/run-analyses.sh's.  GDB's commands run three times each (one
# fresh gdbserver and GDB a run): the median is the figure, and each
# run's "cal" shows whether the VM ran slow then (bench/remote-gdb.sh).
set -eu
cd "$(dirname "$0")/.."
echo "remote targets: info coroutines <= 1 s; -group user, leaks <= 5 s"
REPEAT=${REPEAT:-3} sh bench/remote-gdb.sh
sh bench/remote-lldb.sh
