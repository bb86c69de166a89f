#!/bin/sh
# Run every demo part (examples/demo/NN-*.sh) in order.
set -eu
cd "$(dirname "$0")/.."
for part in examples/demo/[0-9]*.sh; do
    [ -e "$part" ] || continue
    sh "$part"
done
