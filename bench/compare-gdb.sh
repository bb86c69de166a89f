#!/bin/sh
# Before/after figures as a user meets them: each command first in a
# fresh GDB at a new stop (decode, frame-size learning, symbolization
# included), the code of git revision REV and of this tree alternating
# RUNS times on the same fixture binary, so both see the same machine
# load.  Prints the median wall and GDB-process CPU seconds of each.
#
#   sh bench/compare-gdb.sh main            (N=100000 RUNS=3)
#   N=1000000 FIXTURE_STACK=2048 CMDS='info coroutines' sh bench/compare-gdb.sh main
set -eu
cd "$(dirname "$0")/.."
REV=${1:?usage: compare-gdb.sh REV}
N=${N:-100000}
RUNS=${RUNS:-3}
CMDS=${CMDS:-'info coroutines|info coroutines -group user|info coroutines -u|coroutine leaks'}
FX=build/gdb/fixture
[ -x "$FX" ] || { echo "compare-gdb: $FX missing (make all builds it)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
mkdir "$T/old"
git archive "$REV" python gdb bench | tar -x -C "$T/old" ||
    { echo "compare-gdb: cannot export revision $REV"; exit 1; }
here=$(pwd)

one() {  # tree, command -> "wall cpu"
    (cd "$1" && gdb -nx -q -batch -iex 'set auto-load python-scripts off' \
        -ex 'source gdb/corodbg-gdb.py' \
        -ex 'set corodbg runtime-functions fx_*,corodbg_*' \
        -ex 'break fixture_ready' -ex run \
        -ex "python import time; t0, c0 = time.perf_counter(), time.process_time(); gdb.execute('$2', False, True); import corodbg; print('CMP %.3f %.3f %s' % (time.perf_counter() - t0, time.process_time() - c0, corodbg.__file__))" \
        --args "$here/$FX" list "$N" 2>&1) |
        awk -v d="$1/" '$1 == "CMP" && index($4, d) == 1 { print $2, $3 }'
    # (a line only when the tree's own code ran: the fixture's auto-load
    # entry would load this tree's code for both; it is turned off)
}
med() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }

echo "compare-gdb: $REV vs this tree, N=$N, $RUNS alternating runs, load $(cut -d' ' -f1 /proc/loadavg)"
printf '  %-34s %17s %17s\n' "command (first in a fresh GDB)" "$REV wall/cpu s" "tree wall/cpu s"
echo "$CMDS" | tr '|' '\n' | while read -r c; do
    : > "$T/a"; : > "$T/b"
    i=0
    while [ $i -lt "$RUNS" ]; do
        one "$T/old" "$c" >> "$T/a"
        one "$here" "$c" >> "$T/b"
        i=$((i + 1))
    done
    aw=$(cut -d' ' -f1 "$T/a" | med); ac=$(cut -d' ' -f2 "$T/a" | med)
    bw=$(cut -d' ' -f1 "$T/b" | med); bc=$(cut -d' ' -f2 "$T/b" | med)
    printf '  %-34s %8s / %-6s %8s / %-6s\n' "$c" "$aw" "$ac" "$bw" "$bc"
done
