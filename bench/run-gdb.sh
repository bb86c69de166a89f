#!/bin/sh
# corodbg GDB front end benchmark (issue 3 section 8).  Each measure is
# timed inside GDB (python bench/gdb/timecmd.py), output captured to a
# string as through `pipe`, caches cold (as after a resume).  Prints wall
# and CPU seconds; ratios are against anchors measured in this same run.
#
#   sh bench/run-gdb.sh            (make bench runs it)
#   N=100000 N1M=1000000 CHURN=500000 COND=20000 sh bench/run-gdb.sh
set -eu
cd "$(dirname "$0")/.."
N=${N:-100000}
N1M=${N1M:-1000000}
CHURN=${CHURN:-500000}     # block+wake pairs: 2*CHURN transitions
COND=${COND:-20000}        # pairs for the conditional-breakpoint anchor
FX=build/gdb/fixture
[ -x "$FX" ] || { echo "run-gdb: $FX missing (make bench builds it)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM

. bench/gdb/gdbx.sh
field() { awk -v k="$1" -v f="$2" '$2 == k { print $f }' "$T/results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }

echo "corodbg GDB bench: $(gdb --version | head -1), $(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg)"
: > "$T/results"

# 1. listing, stacks, grouping and leaks at N coroutines (fixture -O0:
#    consumer/sleeper/yielder, 3 frames each).
gdbx -ex 'break fixture_ready' -ex run \
     -ex "python timecold('info coroutines', 'list_N', 3)" \
     -ex "python timecold('info coroutines -t 10', 't10_N', 1)" \
     -ex "python timecold('info coroutines -group user', 'group_user_N', 1)" \
     -ex "python timecold('coroutine leaks', 'leaks_N', 1)" \
     --args "$FX" list "$N" >> "$T/results"
# (each command first in a fresh GDB, as a user meets it, against Delve:
#  bench/run-analyses.sh)
# apply runs one GDB command per coroutine (GDB's cost, ~0.4 ms each): N/10
gdbx -ex 'break fixture_ready' -ex run \
     -ex "python timecold('coroutine apply all frame 1', 'apply_all_N10', 1)" \
     --args "$FX" list "$((N / 10))" >> "$T/results"

# 2. listing at N1M coroutines (2 KiB stacks keep memory near 2 GB),
#    the first command in a fresh GDB: captured in a string (as `pipe`
#    and scripts get it), and written to GDB's stdout (a file), as a
#    user's terminal gets it: the target is for the latter (docs/
#    performance.md, "Speed round 4"); GDB's capture string costs more.
FIXTURE_STACK=2048 gdbx -ex 'break fixture_ready' -ex run \
     -ex "python timecold('info coroutines', 'list_1M', 1)" \
     --args "$FX" list "$N1M" >> "$T/results"
FIXTURE_STACK=2048 gdb -nx -q -batch -iex 'set auto-load safe-path /' \
     -ex 'source gdb/corodbg-gdb.py' -ex 'source bench/gdb/timecmd.py' \
     -ex 'break fixture_ready' -ex run \
     -ex "python timecold('info coroutines', 'list_1M_stdout', 1, '$T/results')" \
     --args "$FX" list "$N1M" > "$T/stdout_1M" 2>&1 || true
rm -f "$T/stdout_1M"

# 3. a catchpoint that never matches, over 2*CHURN transitions, against
#    no catchpoint, and against a GDB conditional breakpoint on the hook
#    (the filter armed for every blocked transition; COND pairs).
gdbx -ex 'break fixture_ready' -ex run \
     -ex "python timecont('churn_plain')" \
     --args "$FX" churn "$CHURN" >> "$T/results"
gdbx -ex 'break fixture_ready' -ex run \
     -ex 'catch coroutine state blocked 999999' \
     -ex "python timecont('churn_catch')" \
     --args "$FX" churn "$CHURN" >> "$T/results"
gdbx -ex 'break fixture_ready' -ex run \
     -ex 'set var corodbg_table.filter_state_mask = 8' \
     -ex 'set var corodbg_table.filter_flags = 1' \
     -ex 'break corodbg_event_hook if corodbg_table.event_id == 999999' \
     -ex "python timecont('churn_cond')" \
     --args "$FX" churn "$COND" >> "$T/results"

# 4. Go's runtime-gdb.py `info goroutines` on N parked goroutines.
GOSCRIPT=$(ls /usr/lib/go/src/runtime/runtime-gdb.py 2>/dev/null || true)
if command -v go >/dev/null 2>&1 && [ -n "$GOSCRIPT" ]; then
    mkdir -p "$T/go"
    cp bench/gdb/goroutines.go "$T/go/main.go"
    if (cd "$T/go" && GOCACHE="$T/gocache" GOPATH="$T/gopath" \
        GO111MODULE=off GOFLAGS= go build -o goroutines main.go) 2>"$T/gobuild"; then
        gdb -nx -q -batch -ex "source $GOSCRIPT" \
            -ex 'source bench/gdb/timecmd.py' -ex run \
            -ex "python timecmd('info goroutines', 'go_info_goroutines_N')" \
            --args "$T/go/goroutines" "$N" 2>&1 | grep '^BENCH' >> "$T/results" || true
    else
        echo "run-gdb: go build failed, Go anchor skipped: $(head -1 "$T/gobuild")"
    fi
else
    echo "run-gdb: golang-go (go, runtime-gdb.py) not installed: Go anchor skipped"
fi

pr() {  # label, key, target
    w=$(field "$2" 3); c=$(field "$2" 5 | sed 's/cpu=//'); n=$(field "$2" 4)
    [ -n "$w" ] || { printf '  %-44s (not measured)\n' "$1"; return; }
    printf '  %-44s %7.3f s wall %7s s cpu  %8s lines  target %s\n' "$1" "$w" "${c:--}" "$n" "$3"
}
echo "results (N=$N, N1M=$N1M):"
pr "info coroutines, N" list_N "<= 0.3 s"
pr "info coroutines -t 10, N" t10_N "<= 3 s"
pr "info coroutines -group user, N" group_user_N "-"
pr "coroutine leaks, N" leaks_N "-"
pr "coroutine apply all frame 1, N/10" apply_all_N10 "O(n)"
pr "info coroutines, N1M, to stdout" list_1M_stdout "<= 3 s"
pr "info coroutines, N1M, captured" list_1M "- (GDB's string)"
plain=$(field churn_plain 3); catch=$(field churn_catch 3); cond=$(field churn_cond 3)
if [ -n "$catch" ] && [ -n "$cond" ]; then
    per_catch=$(awk -v t="$catch" -v p="$plain" -v n="$CHURN" 'BEGIN { printf "%.3f", (t - p) * 1e9 / (2 * n) }')
    per_cond=$(awk -v t="$cond" -v n="$COND" 'BEGIN { printf "%.0f", t * 1e9 / (2 * n) }')
    note=$(awk -v x="$per_catch" 'BEGIN { if (x < 20) print " (within run-to-run noise)" }')
    printf '  %-44s %7.3f s (plain run %.3f s): %s ns extra per transition%s\n' \
        "catch coroutine state, never matching, $((2 * CHURN)) transitions" "$catch" "$plain" "$per_catch" "$note"
    printf '  %-44s %7.3f s for %d transitions: %s ns per transition\n' \
        "GDB conditional breakpoint on the hook" "$cond" "$((2 * COND))" "$per_cond"
    cond_1m=$(awk -v c="$per_cond" -v n="$CHURN" 'BEGIN { printf "%.1f", c * 2 * n / 1e9 }')
    printf '  ratio: the conditional breakpoint would take %s s for the same %d transitions, %sx the catchpoint run\n' \
        "$cond_1m" "$((2 * CHURN))" "$(ratio "$cond_1m" "$catch")"
fi
go=$(field go_info_goroutines_N 3); ours=$(field list_N 3)
if [ -n "$go" ] && [ -n "$ours" ]; then
    printf '  %-44s %7.3f s   ratio Go / corodbg: %sx\n' \
        "Go runtime-gdb.py info goroutines, N" "$go" "$(ratio "$go" "$ours")"
fi
