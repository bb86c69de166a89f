#!/bin/sh
# The analyses a user reaches for when hunting a leak, as a user meets
# them: each command the first one in a fresh debugger at a new stop
# (decode, frame-size learning and symbolization included), GDB and LLDB
# on build/gdb/fixture list N, against Delve's `goroutines -group user` on
# N parked goroutines measured in the same run (bench/delve_anchor.py).
#
#   sh bench/run-analyses.sh          (make bench runs it; N=100000)
#   N=20000 N1M=0 sh bench/run-analyses.sh      (quick; N1M=0: no 1M run)
set -eu
cd "$(dirname "$0")/.."
N=${N:-100000}
N1M=${N1M:-1000000}
FX=build/gdb/fixture
[ -x "$FX" ] || { echo "run-analyses: $FX missing (make bench builds it)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
. bench/gdb/gdbx.sh
echo "corodbg analyses bench: N=$N, $(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg)"

/usr/bin/python3 bench/delve_anchor.py "$N" > "$T/delve" || true
grep -v '^BENCH' "$T/delve" || true
grep '^BENCH' "$T/delve" > "$T/results" || true

CMDS='info coroutines|info coroutines -group user|info coroutines -u|coroutine leaks'
echo "$CMDS" | tr '|' '\n' | while read -r c; do
    gdbx -ex 'break fixture_ready' -ex run \
         -ex "python timecmd('$c', 'gdb:$(echo "$c" | tr ' ' _)')" \
         --args "$FX" list "$N" >> "$T/results"
done
if [ "$N1M" -gt 0 ]; then
    FIXTURE_STACK=2048 gdbx -ex 'break fixture_ready' -ex run \
         -ex "python timecmd('info coroutines', 'gdb:info_coroutines_1M')" \
         --args "$FX" list "$N1M" >> "$T/results"
fi
if command -v lldb-19 >/dev/null 2>&1; then
    FORMAT=bench CMDS=$(echo "$CMDS" | sed 's/info coroutines/coroutine list/g') \
        N="$N" sh bench/fresh-lldb.sh >> "$T/results" 2>/dev/null || true
fi

val() { awk -v k="$1" '$2 == k { print $3 }' "$T/results"; }
dlv=$(val 'dlv:goroutines_-group_user')
row() {  # label, gdb key, lldb key, target
    g=$(val "$2"); l=$(val "$3")
    rg=$(awk -v a="$dlv" -v b="$g" 'BEGIN { if (a != "" && b > 0) printf "%.1fx", a / b; else print "-" }')
    rl=$(awk -v a="$dlv" -v b="$l" 'BEGIN { if (a != "" && b > 0) printf "%.1fx", a / b; else print "-" }')
    printf '  %-30s %8s %8s   %-9s %8s %8s\n' "$1" "${g:--}" "${l:--}" "$4" "$rg" "$rl"
}
echo "results, seconds wall (first command in a fresh debugger at a new stop):"
printf '  %-30s %8s %8s   %-9s %8s %8s\n' "command" "GDB" "LLDB" "target" "Delve/GDB" "Delve/LLDB"
row "list, N" gdb:info_coroutines lldb:coroutine_list "<= 0.3 s"
row "-group user, N" gdb:info_coroutines_-group_user lldb:coroutine_list_-group_user "<= 1 s"
row "-u, N" gdb:info_coroutines_-u lldb:coroutine_list_-u "<= 1 s"
row "leaks, N" gdb:coroutine_leaks lldb:coroutine_leaks "<= 1 s"
[ "$N1M" -gt 0 ] && row "list, N1M=$N1M" gdb:info_coroutines_1M - "<= 3 s"
if [ -n "$dlv" ]; then
    echo "  anchor: Delve $(dlv version 2>/dev/null | sed -n 's/^Version: //p') goroutines -group user on $N goroutines: $dlv s"
else
    echo "  anchor: Delve not measured (see above)"
fi
