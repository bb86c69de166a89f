#!/bin/sh
# What libcorodbg-ucontext.so costs a ucontext program: the same binary,
# plain (the anchor) and preloaded, measured in the same run.
# Usage: interpose/bench.sh   (after `make bench` or `make`)
set -eu
cd "$(dirname "$0")/.."
B=build/interpose
LIB=$PWD/$B/libcorodbg-ucontext.so
for n in 1000 100000; do
    rounds=$((2000000 / n)); [ "$rounds" -ge 10 ] || rounds=10
    plain=$($B/bench_swap $n $rounds)
    pre=$(LD_PRELOAD=$LIB $B/bench_swap $n $rounds)
    echo "plain:     $plain"
    echo "preloaded: $pre"
    echo "$plain $pre" | awk '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[i] = kv[2] }
        printf "n=%s  switch +%.1f ns (x%.2f)  create+exit +%.1f ns (x%.2f)\n",
               v[1], v[5] - v[2], v[5] / v[2], v[6] - v[3], v[6] / v[3] }'
done
