#!/bin/sh
# Install the Debian packages corodbg needs to build, test and demo.
# Idempotent and quiet when nothing is missing.  Not root: print the exact
# apt-get line and fail, so nothing half-works.
set -eu

PKGS="gcc g++ make gdb gdbserver python3 python3-pytest pkg-config binutils
 libelf-dev libdwarf-dev libdw-dev elfutils debuginfod libdebuginfod-dev
 zlib1g-dev libzstd-dev libdeflate-dev libprotobuf-c-dev protobuf-c-compiler
 lldb-19 python3-lldb-19 liblldb-19-dev llvm-19 clang libclang-rt-14-dev
 valgrind hyperfine libpcl1-dev golang-go gcc-aarch64-linux-gnu
 iproute2 util-linux
 libboost-context-dev libboost-coroutine-dev libboost-fiber-dev libboost-dev"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "corodbg: missing Debian packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
echo "corodbg: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
