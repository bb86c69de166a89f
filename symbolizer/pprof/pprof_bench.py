#!/usr/bin/python3
"""Benchmark `corosym pprof` against pprof's own local symbolization.

Usage: symbolizer/pprof/pprof_bench.py [--quick] [N_LOCATIONS]

Builds a raw (unsymbolized) CPU profile of Debian's stripped
/usr/bin/python3.11 (debug file from python3.11-dbg under /usr/lib/debug):
N_LOCATIONS (default 100000, --quick 20000) distinct addresses drawn from
its executable segment, and as many samples of 12 frames.  Then measures,
in this run, wall time and peak RSS of:

  anchor   upstream pprof (-proto -symbolize=local) running the real
           llvm-symbolizer-19, i.e. what pprof does for native profiles
  dropin   the same pprof with corosym as its llvm-symbolizer
  cold     corosym pprof, no index cache
  warm     corosym pprof, index cache filled by a previous run
  folded   corosym pprof --folded on the symbolized profile

and how many locations get the same (function, file, line) inline chain
from corosym as from pprof + llvm-symbolizer-19.  Needs the build
(make all build/symbolizer/gopprof/pprof).
"""
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "symbolizer"))
import pprof_fixture as pf  # noqa: E402
import pprof_wire  # noqa: E402

COROSYM = ROOT / "build" / "symbolizer" / "corosym"
PPROF = ROOT / "build" / "symbolizer" / "gopprof" / "pprof"
EXE = "/usr/bin/python3.11"


def make_profile(path, nloc, depth=12):
    off, vaddr, memsz = pf.exec_segment(EXE)
    base = 0x555555554000
    rnd = random.Random(1)
    b = pprof_wire.Builder([("samples", "count"), ("cpu", "nanoseconds")])
    m = b.mapping(base + (vaddr & ~0xFFF), base + vaddr + memsz,
                  off & ~0xFFF, EXE, pf.build_id(EXE))
    addrs = rnd.sample(range(base + vaddr, base + vaddr + memsz), nloc)
    locs = [b.location(m, a) for a in addrs]
    for _ in range(nloc):
        b.sample([rnd.choice(locs) for _ in range(depth)], [1, 10000000])
    b.write(path)


def measure(cmd, env=None):
    """(wall seconds, peak RSS MB of the largest process in the tree)."""
    t0 = time.monotonic()
    p = subprocess.Popen([str(c) for c in cmd], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bench: %s failed:\n%s" % (cmd[0], err))
    # wait4's maxrss covers the child and the children it waited for
    # (pprof waits for its llvm-symbolizer)
    return wall, ru.ru_maxrss / 1024.0


def chains(path):
    p = pprof_wire.read(path)
    return dict((loc["address"], [f[:3] for f in p.frames(loc["id"])])
                for loc in p.locations.values())


def main():
    args = [a for a in sys.argv[1:] if a != "--quick"]
    nloc = int(args[0]) if args else (20000 if "--quick" in sys.argv
                                     else 100000)
    for exe in (COROSYM, PPROF, pathlib.Path("/usr/bin/llvm-symbolizer-19")):
        if not exe.exists():
            sys.exit("bench: %s missing (make all %s)" % (exe, PPROF))
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="pprof-bench-"))
    try:
        raw = tmp / "raw.pb.gz"
        make_profile(raw, nloc)
        for name, target in (("llvm", "/usr/bin/llvm-symbolizer-19"),
                             ("coro", COROSYM)):
            (tmp / name).mkdir()
            (tmp / name / "llvm-symbolizer").symlink_to(target)

        def pprof_env(tools):
            env = dict(os.environ, HOME=str(tmp), PPROF_TOOLS=str(tools),
                       PATH=str(tools), PPROF_TMPDIR=str(tmp))
            env.pop("DEBUGINFOD_URLS", None)
            return env

        rows = []
        rows.append(("anchor: pprof + llvm-symbolizer-19",) + measure(
            [PPROF, "-proto", "-symbolize=local", "-output",
             tmp / "anchor.pb.gz", raw], pprof_env(tmp / "llvm")))
        rows.append(("pprof + corosym as llvm-symbolizer",) + measure(
            [PPROF, "-proto", "-symbolize=local", "-output",
             tmp / "dropin.pb.gz", raw], pprof_env(tmp / "coro")))
        cache = tmp / "cache"
        rows.append(("corosym pprof, cold (no cache)",) + measure(
            [COROSYM, "pprof", raw, "-o", tmp / "cold.pb.gz", "--no-cache",
             "--no-debuginfod", "-q"]))
        measure([COROSYM, "pprof", raw, "-o", "/dev/null", "--cache-dir",
                 cache, "--no-debuginfod", "-q"])
        rows.append(("corosym pprof, warm (index cache)",) + measure(
            [COROSYM, "pprof", raw, "-o", tmp / "warm.pb.gz", "--cache-dir",
             cache, "--no-debuginfod", "-q"]))
        rows.append(("corosym pprof --folded (symbolized input)",) + measure(
            [COROSYM, "pprof", tmp / "warm.pb.gz", "--folded", "-o",
             "/dev/null", "--no-symbolize"]))
        anchor = rows[0][1]
        print("## corosym pprof: %d locations, %d samples x 12 frames, %s"
              % (nloc, nloc, EXE))
        print("| run | wall s | peak RSS MB | speed-up vs anchor |")
        print("|---|---:|---:|---:|")
        for name, wall, rss in rows:
            ratio = "%.1fx" % (anchor / wall) if "folded" not in name else "-"
            print("| %s | %.2f | %.0f | %s |" % (name, wall, rss, ratio))
        want, got = chains(tmp / "anchor.pb.gz"), chains(tmp / "cold.pb.gz")
        same = sum(1 for a in want if want[a] == got.get(a))
        unknown = sum(1 for a in want if not want[a] and got.get(a))
        print("agreement with pprof + llvm-symbolizer-19: %d of %d locations "
              "(%.2f%%); %d of the others are addresses llvm-symbolizer "
              "leaves unknown" % (same, len(want), 100.0 * same / len(want),
                                  unknown))
        others = [a for a in want if want[a] != got.get(a) and want[a]]
        for a in others[:3]:
            print("  differs at %#x: llvm %s, corosym %s" % (a, want[a],
                                                          got.get(a)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
