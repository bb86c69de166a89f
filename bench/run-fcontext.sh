#!/bin/sh
# The Boost.Context interposer's cost per jump_fcontext: the same binary
# (interpose/bench_fcontext.cpp) plain and with LD_PRELOAD=
# libcorodbg-fcontext.so, alternated RUNS times in the same run; the
# minimum and the median of each are printed (2 noisy shared cores).
# FC_BASELINE=/path/to/another/libcorodbg-fcontext.so adds a third
# column, alternated with the others (a build to compare against).
set -eu
cd "$(dirname "$0")/.."
B=build/interpose
LIB=$PWD/$B/libcorodbg-fcontext.so
RUNS=${RUNS:-3}
[ -x $B/bench_fcontext ] && [ -f "$LIB" ] || {
    echo "run-fcontext: build first: make $B/bench_fcontext $LIB" >&2
    exit 1
}
. bench/alternate.sh
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
i=0
while [ "$i" -lt "$RUNS" ]; do
    echo "plain $($B/bench_fcontext)" >>"$tmp"
    echo "preload $(LD_PRELOAD=$LIB $B/bench_fcontext)" >>"$tmp"
    [ -z "${FC_BASELINE:-}" ] ||
        echo "baseline $(LD_PRELOAD=$FC_BASELINE $B/bench_fcontext)" >>"$tmp"
    i=$((i + 1))
done
summarize "$tmp" | awk -v runs="$RUNS" '
    { min[$1] = $3; med[$1] = $4 }
    function row(what, k) {
        printf "  %-9s %7.2f ns %7.2f ns  (+%.2f / +%.2f ns per jump)\n", \
            what, min[k], med[k], min[k] - min["plain"], med[k] - med["plain"]
    }
    END {
        printf "jump_fcontext, %d runs:   min      median\n", runs
        printf "  %-9s %7.2f ns %7.2f ns\n", "plain", min["plain"], med["plain"]
        row("preload", "preload")
        if ("baseline" in min) row("baseline", "baseline")
    }'
