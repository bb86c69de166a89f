#!/bin/sh
# corosym benchmark (see bench/symbolizer/bench.py).  Installs Debian's
# python3.11-dbg when missing (its size is printed first), then measures
# corosym against llvm-symbolizer-19 and addr2line on:
#   - the debug file of /usr/bin/python3.11 (-O3 -flto, DWARF 5)
#   - /usr/bin/python3.11d (-O0 debug interpreter, DWARF in the binary)
# Usage: bench/run-symbolizer.sh [--quick]
set -eu
cd "$(dirname "$0")/.."
COROSYM=build/symbolizer/corosym
[ -x "$COROSYM" ] || make --no-print-directory "$COROSYM"

if ! dpkg-query -W -f='${Status}' python3.11-dbg 2>/dev/null | grep -q "ok installed"; then
    sz=$(apt-cache show python3.11-dbg 2>/dev/null | awk '/^Installed-Size/{print $2; exit}')
    echo "bench: python3.11-dbg missing; installed size ${sz:-?} kB" >&2
    if [ "$(id -u)" != 0 ]; then
        echo "bench: run as root: apt-get install python3.11-dbg" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3.11-dbg >/dev/null
fi

bid=$(readelf -n /usr/bin/python3.11 | awk '/Build ID/{print $3; exit}')
dbg=/usr/lib/debug/.build-id/$(echo "$bid" | cut -c1-2)/$(echo "$bid" | cut -c3-).debug
[ -f "$dbg" ] || { echo "bench: $dbg not found (python3.11-dbg does not match python3.11?)" >&2; exit 1; }

echo "# corosym benchmark  ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores)"
exec /usr/bin/python3 bench/symbolizer/bench.py "$COROSYM" "$@" \
    "python3.11 debug file (-O3 LTO)=$dbg" \
    "python3.11d (-O0)=/usr/bin/python3.11d"
