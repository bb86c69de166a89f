#!/bin/sh
# The cost of libcorodbg's hooks inside corort, against the same runtime
# built with -DCORORT_NO_HOOKS, measured in the same run.
#
#   switch       a yield round trip between two coroutines is two context
#                switches (coroutine -> scheduler -> coroutine); per switch
#                = per yield / 2.  Targets: ratio <= 1.10, <= 2 ns added.
#   create+exit  spawn, first switch, return, exit, stack reuse.
#   transition   one corodbg_switch() state change while a filter is armed
#                but does not match (target <= 5 ns added).
#
# Each binary is run RUNS times (alternating).  The switch row shows the
# minimum and the median over the runs (each run prints its best of 41
# short runs in thread CPU time, bench/hooks/cpu_clock.h); the other rows
# the minimum (each run keeps its best of 7): the machine has 2 noisy
# cores, and the minimum is the least disturbed measurement.
set -eu
cd "$(dirname "$0")/.."
B=build/runtime/bench
. bench/alternate.sh
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.sum"' EXIT
alternate "$B/hooks" "$B/hooks-nohooks" "$tmp"
summarize "$tmp" >"$tmp.sum"

printf "%-44s %-6s %10s %10s %8s %9s\n" \
    "corort hooks (${RUNS:-3} runs)" "" "hooks" "no hooks" "ratio" "added"
switch_row "context switch (yield/2)" yield 2 <"$tmp.sum"
awk '
{ best[$1 " " $2] = $3 }
END {
    hc = best["hooks create_exit"]; nc = best["nohooks create_exit"]
    tu = best["hooks transition_unarmed"]
    ta = best["hooks transition_armed_miss"]
    tm = best["hooks transition_mask_miss"]
    printf "%-44s %-6s %7.2f ns %7.2f ns %8.2f %6.2f ns\n", \
        "create + run + exit, per coroutine", "min", hc, nc, hc / nc, hc - nc
    printf "%-44s %-6s %7.2f ns %10s %8.2f %6.2f ns\n", \
        "transition, no filter (anchor)", "min", tu, "-", 1.0, 0.0
    printf "%-44s %-6s %7.2f ns %10s %8.2f %6.2f ns  %s\n", \
        "transition, filter armed, id does not match", "min", ta, "-", \
        ta / tu, ta - tu, (ta - tu <= 5.0) ? "target met" : \
        "target: <=5 ns: MISSED"
    printf "%-44s %-6s %7.2f ns %10s %8.2f %6.2f ns\n", \
        "transition, filter armed, state not in mask", "min", tm, "-", \
        tm / tu, tm - tu
}' "$tmp.sum"
