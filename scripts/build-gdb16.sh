#!/bin/sh
# Build GDB 16 (Debian trixie's source package) once per machine, for the
# tests of `gdb -i=dap` (GDB >= 14) and the GDB suite on a newer GDB.
#
#   scripts/build-gdb16.sh          build if not cached; print the gdb path
#   scripts/build-gdb16.sh --path   print the gdb path if built, else fail
#
# Cache: $CORODBG_GDB16_CACHE (default /var/cache/corodbg/gdb16 as root,
# ~/.cache/corodbg/gdb16 otherwise), owner-only.  The result is
# CACHE/bin/gdb, a wrapper that runs the build tree's gdb with its own
# data-directory (`make install-gdb` stops at the man page, see FACTS).
# Use it with:  make test-gdb16  (CORODBG_TEST_GDB=CACHE/bin/gdb for the suite;
# CORODBG_GDB is taken: it names the corodbg-gdb.py libcorodbg auto-loads)
#
# Needs root once (apt-get): the build packages below from bookworm, and the
# source from trixie through a temporary deb-src entry that is removed again.
# About 15 minutes of `make -j2 all-gdb` on a 2-core machine.
set -eu

if [ -n "${CORODBG_GDB16_CACHE:-}" ]; then
    cache=$CORODBG_GDB16_CACHE
elif [ "$(id -u)" = 0 ]; then
    cache=/var/cache/corodbg/gdb16
else
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/corodbg/gdb16
fi
wrapper=$cache/bin/gdb

if [ "${1:-}" = --path ]; then
    [ -x "$wrapper" ] || { echo "corodbg: GDB 16 is not built; run scripts/build-gdb16.sh" >&2; exit 1; }
    echo "$wrapper"; exit 0
fi
[ $# -eq 0 ] || { echo "usage: scripts/build-gdb16.sh [--path]" >&2; exit 2; }

build=$cache/build
write_wrapper() {
    # The build tree's gdb with its data-directory, and Debian's separate
    # debug files (/usr/lib/debug: libc6-dbg, as GDB 13 reads them; this
    # build's own default is its prefix's, /usr/local/lib/debug).
    mkdir -p "$cache/bin"
    printf '#!/bin/sh\nexec "%s/gdb/gdb" --data-directory="%s/gdb/data-directory" -iex "set debug-file-directory /usr/lib/debug" "$@"\n' \
        "$build" "$build" > "$wrapper.tmp"
    chmod 700 "$wrapper.tmp"
    mv "$wrapper.tmp" "$wrapper"
}
if [ -x "$build/gdb/gdb" ] && [ -x "$wrapper" ]; then
    write_wrapper; echo "$wrapper"; exit 0
fi

# The packages bookworm has for building gdb (FACTS: GDB 16.3 recipe).
BUILD_DEPS="texinfo libgmp-dev libmpfr-dev python3-dev bison flex libexpat1-dev
 libreadline-dev libncurses-dev zlib1g-dev libzstd-dev liblzma-dev gcc g++ make
 xz-utils dpkg-dev"

umask 077
mkdir -p "$cache"
chmod 700 "$cache"
# One build at a time per cache (several worktrees may ask at once).
exec 9>"$cache/.lock"
if command -v flock >/dev/null; then flock 9; fi
if [ -x "$build/gdb/gdb" ] && [ -x "$wrapper" ]; then
    write_wrapper; echo "$wrapper"; exit 0
fi

missing=""
for p in $BUILD_DEPS; do
    case "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
need_root() {
    [ "$(id -u)" = 0 ] || { echo "corodbg: building GDB 16 needs root for: $1" >&2; exit 1; }
}
if [ -n "$missing" ]; then
    need_root "apt-get install$missing"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2
fi

src=$cache/src
if ! ls "$src"/gdb_16*.orig.tar.* >/dev/null 2>&1; then
    need_root "a temporary trixie deb-src entry"
    mkdir -p "$src"
    list=/etc/apt/sources.list.d/corodbg-trixie-src.sources
    uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources | head -n1)
    uri=${uri:-http://deb.debian.org/debian}
    # The entry must not outlive the download: trixie binaries must never
    # be installed on this bookworm machine by accident.
    trap 'rm -f "$list"; apt-get update -q >/dev/null 2>&1 || true' EXIT
    printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$uri" > "$list"
    chmod 644 "$list"
    apt-get update -q >&2
    (cd "$src" && apt-get source --download-only gdb/trixie >&2)
    rm -f "$list"; apt-get update -q >/dev/null 2>&1 || true
    trap - EXIT
fi

tree=$cache/gdb-src
if [ ! -f "$tree/gdb/configure" ]; then
    rm -rf "$tree"; mkdir -p "$tree"
    tar -C "$tree" --strip-components=1 -xf "$(ls "$src"/gdb_16*.orig.tar.* | head -n1)"
fi

mkdir -p "$build"
if [ ! -x "$build/gdb/gdb" ]; then
    (cd "$build" && "$tree/configure" --disable-binutils --disable-ld \
        --disable-gold --disable-gas --disable-sim --disable-gprof \
        --disable-gprofng --disable-werror --with-python=/usr/bin/python3 \
        --with-system-readline --disable-nls >&2 &&
     make -j2 all-gdb >&2)
fi

write_wrapper
"$wrapper" -nx -batch -ex 'python import gdb.dap' >&2 ||
    { echo "corodbg: the GDB 16 build has no gdb.dap" >&2; exit 1; }
echo "$wrapper"
