#!/bin/sh
# The Boost.Context interposer's cost per jump_fcontext: the same binary
# (interpose/bench_fcontext.cpp) plain and with LD_PRELOAD=
# libcorodbg-fcontext.so, alternated RUNS times in the same run; the best
# of each is kept (2 noisy shared cores).
set -eu
cd "$(dirname "$0")/.."
B=build/interpose
LIB=$PWD/$B/libcorodbg-fcontext.so
RUNS=${RUNS:-3}
[ -x $B/bench_fcontext ] && [ -f "$LIB" ] || {
    echo "run-fcontext: build first: make $B/bench_fcontext $LIB" >&2
    exit 1
}
i=0
while [ "$i" -lt "$RUNS" ]; do
    echo "plain $($B/bench_fcontext)"
    echo "preload $(LD_PRELOAD=$LIB $B/bench_fcontext)"
    i=$((i + 1))
done | awk '
    { if (!($1 in b) || $3 < b[$1]) b[$1] = $3 }
    END { printf "jump_fcontext: %.2f ns plain, %.2f ns preloaded (+%.2f ns, x%.2f)\n", \
          b["plain"], b["preload"], b["preload"] - b["plain"], b["preload"] / b["plain"] }'
