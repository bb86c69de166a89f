#!/bin/sh
# Keep the README's two commands working on a fresh Debian 12 machine.
#
#   scripts/fresh-check.sh --record      run ../shared/tools/fresh-machine
#                                        (make demo && make test in a pristine
#                                        chroot, ~10 min, root) on the
#                                        committed HEAD and, when it passes,
#                                        write the install surface's hash to
#                                        .ci/fresh-machine.ok (commit it)
#   scripts/fresh-check.sh --if-changed  .ci/run: nothing when the install
#                                        surface is the one recorded; else
#                                        run fresh-machine and fail with it
#   scripts/fresh-check.sh --hash        print the install surface's hash
#
# The install surface is what decides which packages a machine gets: the
# install script, the Makefiles and their fragments, .ci/run and the DAP
# client's npm manifests.  CI runs on a machine that already has every
# package a previous session installed by hand, so a missing install step
# stays green there; fresh-machine starts from nothing.  A change to any of
# these files without a fresh-machine pass recorded makes CI run it.
set -eu
cd "$(dirname "$0")/.."

surface() {
    git ls-files -- scripts/install-deps.sh Makefile '*.mk' .ci/run \
        tests/dap/package.json tests/dap/package-lock.json
}

# Blob ids of the committed versions: what fresh-machine clones.
hash_head() {
    # shellcheck disable=SC2046
    git ls-tree HEAD -- $(surface) | sha256sum | cut -d' ' -f1
}

tool=../shared/tools/fresh-machine
run_tool() {
    if [ ! -f "$tool" ]; then
        echo "fresh-check: $tool is missing: cannot check a fresh machine" >&2
        return 2
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "fresh-check: fresh-machine needs root (debootstrap, chroot)" >&2
        return 2
    fi
    bash "$tool"
}

case "${1:-}" in
--hash)
    hash_head ;;
--if-changed)
    want=$(hash_head)
    have=$(cat .ci/fresh-machine.ok 2>/dev/null || true)
    if [ "$want" = "$have" ]; then
        echo "fresh-check: install steps unchanged since the last fresh-machine pass"
        exit 0
    fi
    echo "fresh-check: install steps changed since the last recorded fresh-machine pass: running it" >&2
    run_tool ;;
--record)
    # shellcheck disable=SC2046
    if ! git diff --quiet HEAD -- $(surface); then
        echo "fresh-check: commit the install steps first: fresh-machine tests the committed HEAD" >&2
        exit 2
    fi
    run_tool
    hash_head > .ci/fresh-machine.ok
    echo "fresh-check: passed; recorded in .ci/fresh-machine.ok (commit it)" ;;
*)
    echo "usage: scripts/fresh-check.sh --record | --if-changed | --hash" >&2
    exit 2 ;;
esac
