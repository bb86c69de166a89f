#!/bin/sh
# What libcorodbg-ucontext.so costs a ucontext program: the same binary,
# plain (the anchor) and preloaded, alternated 3 times in the same run;
# the minimum of each is kept, so load from other processes matters less.
# Usage: interpose/bench.sh   (after `make bench` or `make`)
set -eu
cd "$(dirname "$0")/.."
B=build/interpose
LIB=$PWD/$B/libcorodbg-ucontext.so
[ -x $B/bench_swap ] && [ -f "$LIB" ] || {
    echo "interpose/bench.sh: build first: make $B/bench_swap $LIB" >&2
    exit 1
}
for n in 1000 100000; do
    rounds=$((1000000 / n)); [ "$rounds" -ge 10 ] || rounds=10
    for i in 1 2 3; do
        echo "plain $($B/bench_swap $n $rounds)"
        echo "preload $(LD_PRELOAD=$LIB $B/bench_swap $n $rounds)"
    done
done | awk '
    { split($3, s, "="); split($4, c, "="); k = $2 SUBSEP $1
      if (!(k in sw) || s[2] < sw[k]) sw[k] = s[2]
      if (!(k in ce) || c[2] < ce[k]) ce[k] = c[2]
      if (!($2 in seen)) { seen[$2] = 1; order[++m] = $2 } }
    END { for (i = 1; i <= m; i++) { n = order[i]
        p = n SUBSEP "plain"; q = n SUBSEP "preload"
        printf "%s: swapcontext %.1f ns plain, %.1f ns preloaded (+%.1f ns, x%.2f); ", \
            n, sw[p], sw[q], sw[q] - sw[p], sw[q] / sw[p]
        printf "makecontext+run+return %.1f ns plain, %.1f ns preloaded (+%.1f ns, x%.2f)\n", \
            ce[p], ce[q], ce[q] - ce[p], ce[q] / ce[p] } }'
