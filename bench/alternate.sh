# Sourced by bench/run-*.sh: run a hooked and an unhooked build of one
# benchmark alternately, RUNS times, every output line prefixed "hooks "
# or "nohooks ", into the file named by $3.
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

# One line per key of alternate's OUTFILE ($1): "BUILD KEY MIN MEDIAN N"
# over the runs.  The minimum is the least disturbed run on 2 noisy
# shared cores; the median says how typical it was.
summarize() {
    sort -k1,1 -k2,2 -k3,3g "$1" | awk '
    { k = $1 " " $2; if (k != last) { flush(); last = k } v[++n] = $3 }
    function flush() {
        if (n) printf "%s %s %s %d\n", last, v[1],
            (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, n
        n = 0
    }
    END { flush() }'
}

# A row of run-hooks.sh / run-modes.sh from summarize's lines on stdin:
#   switch_row LABEL KEY DIVISOR
# the hooked and unhooked time per switch (value / DIVISOR), ratio and
# added ns, at the minimum and at the median of the runs, against the
# issue 9 targets (ratio <= 1.10 and <= 2 ns added).
switch_row() {
    awk -v label="$1" -v key="$2" -v div="$3" '
    $2 == key { min[$1] = $3 / div; med[$1] = $4 / div; n = $5 }
    END {
        if (!("hooks" in min) || !("nohooks" in min)) {
            printf "%s: no measurement\n", label; exit 1 }
        ok = 1
        for (s = 0; s < 2; s++) {
            h = s ? med["hooks"] : min["hooks"]
            u = s ? med["nohooks"] : min["nohooks"]
            printf "%-44s %-6s %7.2f ns %7.2f ns %8.2f %6.2f ns", \
                s ? "" : label, s ? "median" : "min", h, u, h / u, h - u
            if (h / u > 1.10 || h - u > 2.0) ok = 0
            printf "%s\n", s ? (ok ? "  target met" : \
                "  target: <=1.10 and <=2 ns: MISSED") : ""
        }
    }'
}
