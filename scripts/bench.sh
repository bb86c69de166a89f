#!/bin/sh
# Run every benchmark part (bench/run-*.sh) in order.  Each part prints its
# own measurements and the ratio against the anchor measured in the same run.
set -eu
cd "$(dirname "$0")/.."
for part in bench/run-*.sh; do
    [ -e "$part" ] || continue
    echo "== $part"
    sh "$part"
done
