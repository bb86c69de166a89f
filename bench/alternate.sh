# Sourced by bench/run-*.sh: run a hooked and an unhooked build of one
# benchmark alternately, RUNS times, every output line prefixed "hooks "
# or "nohooks ", into the file named by $3.  The callers keep the best of
# each key: the least disturbed run on 2 noisy shared cores.
#   alternate HOOKED UNHOOKED OUTFILE
alternate() {
    for b in "$1" "$2"; do
        [ -x "$b" ] || { echo "bench: $b is not built (run make bench)" >&2; exit 1; }
    done
    i=0
    while [ "$i" -lt "${RUNS:-3}" ]; do
        "$1" | sed 's/^/hooks /'   >>"$3"
        "$2" | sed 's/^/nohooks /' >>"$3"
        i=$((i + 1))
    done
}
