#!/bin/sh
# In-process CPU profile (issue 12, cc_profile_self): the throughput of a
# switch-heavy corort ping-pong (capture/tests/selfprof.c, one worker
# thread) with a 100 Hz profile of itself over the whole run, against the
# same program unprofiled, alternating in this run; best of RUNS each
# (2 noisy shared cores).  Two ratios: switches per wall second (what the
# workload sees; the profiler's thread runs beside it) and per CPU second
# of the whole process (the handler's and the profiler thread's time,
# setup and unwinding included, counted as cost).  Target: >= 0.98.
#
#   sh bench/run-selfprof.sh           (make bench runs it)
#   SECS=5 RUNS=7 HZ=100 sh bench/run-selfprof.sh   (defaults 5, 5, 100)
set -eu
cd "$(dirname "$0")/.."
B=build/capture/tests/selfprof
[ -x "$B" ] || { echo "bench: $B is not built (run make bench)" >&2; exit 1; }
secs=${SECS:-5}
hz=${HZ:-100}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
i=0
while [ "$i" -lt "${RUNS:-5}" ]; do
    "$B" bench "$secs" 0 | sed 's/^/plain /' >>"$out"
    "$B" bench "$secs" "$hz" 2>>"$out.log" | sed 's/^/profiled /' >>"$out"
    i=$((i + 1))
done
tail -n 1 "$out.log" | sed 's/^corodbg: /last profile: /'
rm -f "$out.log"
awk -v hz="$hz" -v runs="${RUNS:-5}" -v secs="$secs" '
    $7 != 0 && $1 == "profiled" { bad = 1 }
    { w = $1 "_wall"; c = $1 "_cpu"
      if ($3 > best[w]) best[w] = $3
      if ($5 > best[c]) best[c] = $5 }
    END {
        if (bad) { print "bench: a profile failed"; exit 1 }
        printf "unprofiled: %.0f switches/s, %.0f per CPU s (best of %d, %d s each)\n", best["plain_wall"], best["plain_cpu"], runs, secs
        printf "profiled at %d Hz: %.0f switches/s, %.0f per CPU s\n", hz, best["profiled_wall"], best["profiled_cpu"]
        printf "ratio profiled/unprofiled: %.3f per wall s, %.3f per CPU s (target >= 0.98)\n", best["profiled_wall"] / best["plain_wall"], best["profiled_cpu"] / best["plain_cpu"]
    }' "$out"
