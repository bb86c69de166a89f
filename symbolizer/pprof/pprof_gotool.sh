#!/bin/sh
# pprof_gotool.sh OUTDIR - build google/pprof's own command (the one that
# runs llvm-symbolizer) from the copy vendored in Debian's Go toolchain.
#
# `go tool pprof` itself never runs llvm-symbolizer: the Go distribution
# plugs in its own object reader (cmd/pprof/pprof.go, objTool).  Upstream
# pprof, built from the same vendored sources with its default binutils
# driver, runs `llvm-symbolizer --inlining -demangle=false` from
# $PPROF_TOOLS or PATH.  The build is offline (-mod=vendor, GOPROXY=off),
# with its caches under OUTDIR.  Result: OUTDIR/pprof.
set -eu
mkdir -p "$1"
out=$(cd "$1" && pwd)
goroot=$(go env GOROOT)
v=$goroot/src/cmd/vendor
mods=$v/modules.txt
mkdir -p "$out/src/vendor/github.com/google" \
         "$out/src/vendor/github.com/ianlancetaylor" "$out/cache" "$out/home"
rm -rf "$out/src/vendor/github.com/google/pprof" \
       "$out/src/vendor/github.com/ianlancetaylor/demangle"
cp -r "$v/github.com/google/pprof" "$out/src/vendor/github.com/google/"
cp -r "$v/github.com/ianlancetaylor/demangle" \
      "$out/src/vendor/github.com/ianlancetaylor/"
# The two modules' blocks of the toolchain's modules.txt, as they are.
awk '/^# /{keep = ($2 == "github.com/google/pprof" ||
                   $2 == "github.com/ianlancetaylor/demangle")} keep' \
    "$mods" > "$out/src/vendor/modules.txt"
pv=$(awk '$2 == "github.com/google/pprof" {print $3}' "$mods")
dv=$(awk '$2 == "github.com/ianlancetaylor/demangle" {print $3}' "$mods")
cat > "$out/src/go.mod" <<MOD
module corodbg.invalid/pprof

go 1.17

require (
	github.com/google/pprof $pv
	github.com/ianlancetaylor/demangle $dv
)
MOD
cat > "$out/src/main.go" <<'SRC'
// Upstream pprof's command: the default driver, with binutils tools.
package main

import (
	"fmt"
	"os"

	"github.com/google/pprof/driver"
)

func main() {
	if err := driver.PProf(&driver.Options{}); err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		os.Exit(2)
	}
}
SRC
cd "$out/src"
GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local GOCACHE="$out/cache" \
    GOPATH="$out/gopath" HOME="$out/home" go build -o ../pprof .
