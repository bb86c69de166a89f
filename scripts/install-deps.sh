#!/bin/sh
# The Debian packages corodbg needs, and a check that they really work.
#
#   scripts/install-deps.sh          make test / demo / bench / deps: install
#                                    what is missing (root), then probe every
#                                    capability the build and the tests use
#   scripts/install-deps.sh --build  plain `make`: never runs apt; names the
#                                    build packages that are missing
#
# Quiet when all is well.  Not root and something missing: print the exact
# apt-get line and fail, so nothing half-works.
#
# Why probes and not only package names: a package list cannot see a package
# that installs but does not do the job.  `gcc-aarch64-linux-gnu` installed
# with --no-install-recommends has no libc headers, and `make test` failed on
# every fresh machine while CI, on a machine that had them, stayed green.
# Each probe below compiles, links or runs the smallest thing the build or a
# test does, and a failure names the capability and the package behind it.
set -eu

# What `make` (build only) needs.
BUILD_PKGS="gcc make binutils pkg-config python3
 libelf-dev libdw-dev zlib1g-dev libzstd-dev libdeflate-dev
 libprotobuf-c-dev protobuf-c-compiler"

# What `make test`, `make demo` and `make bench` need on top.
TEST_PKGS="g++ gdb gdbserver python3-pytest elfutils debuginfod
 libdebuginfod-dev lldb-19 python3-lldb-19 liblldb-19-dev llvm-19 clang lld
 libclang-rt-14-dev valgrind hyperfine libpcl1-dev golang-go delve
 gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user gdb-multiarch
 iproute2 util-linux
 libboost-context-dev libboost-coroutine-dev libboost-fiber-dev libboost-dev
 curl prometheus"

mode=all
case "${1:-}" in
    --build) mode=build ;;
    "") ;;
    *) echo "usage: scripts/install-deps.sh [--build]" >&2; exit 2 ;;
esac

missing_of() {
    for p in "$@"; do
        case "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" in
            *"install ok installed"*) ;;
            *) printf ' %s' "$p" ;;
        esac
    done
}

if [ "$mode" = build ]; then
    # shellcheck disable=SC2086
    missing=$(missing_of $BUILD_PKGS)
    [ -z "$missing" ] && exit 0
    echo "corodbg: the build needs Debian packages that are missing:$missing" >&2
    echo "  install them: apt-get install -y$missing   (or, as root: make deps)" >&2
    exit 1
fi

# shellcheck disable=SC2086
missing=$(missing_of $BUILD_PKGS $TEST_PKGS)
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "corodbg: missing Debian packages. Run as root:" >&2
        echo "  apt-get update && apt-get install -y$missing" >&2
        exit 1
    fi
    echo "corodbg: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# ---- capability probes ----
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=""
fail() {  # CAPABILITY, PACKAGES, LOG
    failed="$failed
  - $1 (Debian: $2)"
    [ -s "$3" ] && failed="$failed: $(head -n 1 "$3")"
    return 0
}
probe() {  # CAPABILITY PACKAGES COMMAND...: run COMMAND, record failure
    what=$1 pkgs=$2; shift 2
    "$@" >"$tmp/log" 2>&1 || fail "$what" "$pkgs" "$tmp/log"
}

cat >"$tmp/hello.c" <<'EOF'
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
EOF
cat >"$tmp/fuzz.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
EOF

probe "gcc builds and runs with ASan and UBSan" "gcc, libasan8, libubsan1" \
    sh -c "gcc -fsanitize=address,undefined '$tmp/hello.c' -o '$tmp/san' && '$tmp/san'"
probe "clang's -fsanitize=fuzzer,address" "clang, libclang-rt-14-dev" \
    clang -fsanitize=fuzzer,address "$tmp/fuzz.c" -o "$tmp/fuzz"
probe "clang links with -fuse-ld=lld" "lld" \
    clang -fuse-ld=lld "$tmp/hello.c" -o "$tmp/lld"
probe "the aarch64 cross compiler compiles and links a hello world" \
    "gcc-aarch64-linux-gnu, libc6-dev-arm64-cross" \
    aarch64-linux-gnu-gcc "$tmp/hello.c" -o "$tmp/hello-a64"
if [ -x "$tmp/hello-a64" ]; then
    probe "qemu-aarch64 runs an aarch64 program" "qemu-user" \
        qemu-aarch64 -L /usr/aarch64-linux-gnu "$tmp/hello-a64"
fi
probe "gdb-multiarch debugs aarch64" "gdb-multiarch" \
    gdb-multiarch -nx -batch -ex 'set architecture aarch64'
probe "python3 imports lldb with lldb-19's path" "lldb-19, python3-lldb-19, liblldb-19-dev" \
    sh -c 'PYTHONPATH=$(lldb-19 -P) /usr/bin/python3 -c "import lldb"'
probe "protoc-c" "protobuf-c-compiler" protoc-c --version
probe "debuginfod" "debuginfod" debuginfod --version
probe "promtool (the agent's /metrics check)" "prometheus" promtool --version
probe "curl --unix-socket" "curl" curl --version
probe "go" "golang-go" go version
probe "dlv (the Delve anchor of bench/run-analyses.sh)" "delve" dlv version
probe "pytest on /usr/bin/python3" "python3-pytest" /usr/bin/python3 -m pytest --version

if [ -n "$failed" ]; then
    echo "corodbg: these capabilities do not work on this machine:$failed" >&2
    exit 1
fi
