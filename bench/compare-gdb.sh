#!/bin/sh
# Before/after figures as a user meets them: each command first in a
# fresh GDB at a new stop (decode, frame-size learning, symbolization
# included), the code of git revision REV and of this tree alternating
# RUNS times on the same fixture binary, so both see the same machine
# load.  Prints the median wall and GDB-process CPU seconds of each.
#
#   sh bench/compare-gdb.sh main            (N=100000 RUNS=3)
#   N=1000000 FIXTURE_STACK=2048 CMDS='info coroutines' sh bench/compare-gdb.sh main
#
# OUT=string (the default) captures the output in a Python string
# (gdb.execute(..., to_string=True), as scripts and `pipe` do: GDB then
# grows a string of the whole output and hands Python a copy, about as
# much CPU again as corodbg's own at 1M lines); OUT=stdout writes it
# through GDB's pager to its stdout (a file here), as a user's terminal
# gets it.  Prints min and median of each.
set -eu
cd "$(dirname "$0")/.."
REV=${1:?usage: compare-gdb.sh REV}
N=${N:-100000}
RUNS=${RUNS:-3}
CMDS=${CMDS:-'info coroutines|info coroutines -group user|info coroutines -u|coroutine leaks'}
OUT=${OUT:-string}
case $OUT in string) TOSTR=True ;; stdout) TOSTR=False ;;
    *) echo "compare-gdb: OUT must be string or stdout"; exit 1 ;; esac
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
        -ex "python import sys, time; t0, c0 = time.perf_counter(), time.process_time(); gdb.execute('$2', False, $TOSTR); import corodbg; sys.stderr.write('CMP %.3f %.3f %s\\n' % (time.perf_counter() - t0, time.process_time() - c0, corodbg.__file__))" \
        --args "$here/$FX" list "$N" 2>&1 >"$T/stdout") |
        awk -v d="$1/" '$1 == "CMP" && index($4, d) == 1 { print $2, $3 }'
    # (a line only when the tree's own code ran: the fixture's auto-load
    # entry would load this tree's code for both; it is turned off)
}
med() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[1] " " v[int((NR + 1) / 2)]; else print "- -" }'; }

echo "compare-gdb: $REV vs this tree, N=$N, OUT=$OUT, $RUNS alternating runs, load $(cut -d' ' -f1 /proc/loadavg)"
printf '  %-30s %-25s %-25s\n' "command (first in a fresh GDB)" \
    "$REV: wall, cpu min/med s" "tree: wall, cpu min/med s"
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
    printf '  %-30s %-25s %-25s\n' "$c" "$(echo $aw | tr ' ' /), $(echo $ac | tr ' ' /)" \
        "$(echo $bw | tr ' ' /), $(echo $bc | tr ' ' /)"
done
echo "  (load at the end $(cut -d' ' -f1 /proc/loadavg))"
