#!/bin/sh
# The cost of libcorodbg's switch hooks on runtimes that keep registers
# themselves, published in place (register modes block and frame, see
# bench/hooks/bench_modes.c), against the same runtimes without corodbg,
# measured in the same run.
# Targets (issue 9): ratio <= 1.10 and <= 2 ns added.
#
# Each binary is run RUNS times (alternating); each run prints its best
# of 41 short runs in thread CPU time (bench/hooks/cpu_clock.h).  The
# table shows the minimum and the median over the RUNS runs: 2 noisy
# shared cores.
set -eu
cd "$(dirname "$0")/.."
B=build/runtime/bench
. bench/alternate.sh
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.sum"' EXIT
alternate "$B/modes" "$B/modes-nohooks" "$tmp"
summarize "$tmp" >"$tmp.sum"

printf "%-44s %-6s %10s %10s %8s %9s\n" \
    "register modes, per switch (${RUNS:-3} runs)" "" "hooks" "no hooks" \
    "ratio" "added"
switch_row "switch, own register block (mode block)" block_yield 1 <"$tmp.sum"
switch_row "switch, fcontext-shaped frame (mode frame)" frame_yield 1 <"$tmp.sum"
