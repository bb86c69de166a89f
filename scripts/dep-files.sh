#!/bin/sh
# Print the dependency files (*.d, written by gcc -MMD) under BUILD_DIR
# that the Makefile may include: those whose source file still exists.
# A .d file of a source that was moved or deleted names that source as a
# prerequisite, and make would stop with "No rule to make target" instead
# of rebuilding from the new place.  (gcc's -MP covers only headers.)
#
# Usage: scripts/dep-files.sh BUILD_DIR
[ -d "${1:-}" ] || exit 0
# The source is the first word after "TARGET:", which gcc puts on the
# second line when the target name is long.
find "$1" -name '*.d' -type f | xargs -r awk '
    FNR == 1 { src = "" }
    src == "" {
        for (i = 1; i <= NF; i++)
            if ($i != "\\" && $i !~ /:$/) { src = $i; break }
    }
    src != "" {
        if ((getline line < src) >= 0)
            print FILENAME
        close(src)
        nextfile
    }'
