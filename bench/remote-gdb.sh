#!/bin/sh
# GDB through gdbserver on loopback, as a user meets it: for each command
# a fresh gdbserver and a fresh GDB (`target remote`), the program run to
# fixture_ready, and the command the first after that stop.  With REV,
# the code of git revision REV and of this tree alternate (as
# bench/compare-gdb.sh does locally).  Prints wall and GDB CPU seconds,
# and "cal": a fixed pure-Python loop timed in the same GDB just before
# the command (about 70 ms on this VM when it runs at full speed).  This
# VM's CPU sometimes runs 1.5x slower for seconds, mostly after it idled;
# cal shows when a run met that, and REPEAT runs each command that many
# times (each in a fresh gdbserver and GDB) and prints their median.
#
#   sh bench/remote-gdb.sh [REV]          (N=100000, REPEAT=1)
set -eu
cd "$(dirname "$0")/.."
REV=${1:-}
N=${N:-100000}
CMDS=${CMDS:-'info coroutines|info coroutines -group user|coroutine leaks'}
REPEAT=${REPEAT:-1}
FX=build/gdb/fixture
[ -x "$FX" ] || { echo "remote-gdb: $FX missing (make all builds it)"; exit 1; }
command -v gdbserver >/dev/null || { echo "remote-gdb: gdbserver missing"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
here=$(pwd)
trees=$here
if [ -n "$REV" ]; then
    mkdir "$T/old"
    git archive "$REV" python gdb | tar -x -C "$T/old"
    trees="$T/old $here"
fi
port=$((20000 + $$ % 20000))

one() {  # tree, command -> "wall cpu cal"
    port=$((port + 1))
    gdbserver --once "127.0.0.1:$port" "$here/$FX" list "$N" \
        >/dev/null 2>&1 &
    srv=$!
    sleep 1
    (cd "$1" && gdb -nx -q -batch -iex 'set auto-load python-scripts off' \
        -ex 'source gdb/corodbg-gdb.py' \
        -ex 'set corodbg runtime-functions fx_*,corodbg_*' \
        -ex "file $here/$FX" -ex "target remote 127.0.0.1:$port" \
        -ex 'break fixture_ready' -ex continue \
        -ex "python import time
def cal():
    t = time.perf_counter()
    s = 0
    for k in range(3000000):
        s += k
    return time.perf_counter() - t
k = cal()
t0, c0 = time.perf_counter(), time.process_time()
gdb.execute('$2', False, True)
print('CMP %.3f %.3f %.3f' % (time.perf_counter() - t0, time.process_time() - c0, k))" \
        -ex kill 2>&1) | awk '$1 == "CMP" { print $2, $3, $4 }'
    wait "$srv" 2>/dev/null || true
}

echo "remote-gdb: N=$N, load $(cut -d' ' -f1 /proc/loadavg)"
echo "$CMDS" | tr '|' '\n' | while read -r c; do
    for tr in $trees; do
        name=tree
        [ "$tr" = "$here" ] || name=$REV
        walls=
        i=0
        while [ "$i" -lt "$REPEAT" ]; do
            i=$((i + 1))
            r=$(one "$tr" "$c")
            # shellcheck disable=SC2086  # "wall cpu cal": split on purpose
            set -- $r
            if [ $# -eq 3 ]; then
                printf '  %-34s %-8s %s / %s s wall/cpu  cal %s s\n' \
                    "$c" "$name" "$1" "$2" "$3"
                walls="$walls $1"
            else
                printf '  %-34s %-8s failed\n' "$c" "$name"
            fi
        done
        if [ "$REPEAT" -gt 1 ] && [ -n "$walls" ]; then
            # shellcheck disable=SC2086  # one wall time a word
            printf '  %-34s %-8s median %s s wall\n' "$c" "$name" \
                "$(printf '%s\n' $walls | sort -n |
                   awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
        fi
    done
done
