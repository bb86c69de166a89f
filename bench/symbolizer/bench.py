#!/usr/bin/python3
"""corosym benchmark: throughput and peak RSS against llvm-symbolizer-19 and
addr2line, measured in the same run, on 100k and 1M addresses sampled
inside functions of large real binaries with full DWARF.

Usage: bench.py COROSYM [--quick] TARGET...
  TARGET is LABEL=PATH (PATH: an ELF file with DWARF).

For every target and size it runs, one after the other, with output to
/dev/null:
  llvm-symbolizer-19 --obj=F --inlines      (anchor)
  addr2line -f -i -C -e F                   (anchor)
  corosym --no-cache         (cold: no index at all)
  corosym --cache-dir=NEW    (first run: builds and writes the index)
  corosym --cache-dir=SAME   (warm: maps the per-build-id index)
and prints wall time, CPU time, addresses/s, peak RSS and the ratio to the
fastest anchor.  The machine may be shared: CPU time (user+sys) is printed
next to wall time, and ratios are given for both.  Every tool's run that
takes under a second is repeated 5 times and its fastest kept (peers and
corosym alike), because one short run is mostly scheduling noise.
corosym renders on all online CPUs (--threads); its CPU time therefore
exceeds its wall time, and the wall ratio is the one the targets use.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def measure(cmd, inp, out=os.devnull):
    """Runs CMD with stdin INP; returns (wall s, cpu s, peak RSS KB)."""
    tf = tempfile.NamedTemporaryFile(delete=False)
    tf.close()
    with open(inp, "rb") as fi, open(out, "wb") as fo:
        t0 = time.monotonic()
        r = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", tf.name]
                           + cmd, stdin=fi, stdout=fo,
                           stderr=subprocess.PIPE)
        wall = time.monotonic() - t0
    u, s, m = open(tf.name).read().split()[-3:]
    os.unlink(tf.name)
    if r.returncode != 0:
        sys.stderr.write(r.stderr.decode(errors="replace")[-2000:])
        raise SystemExit("bench: %s failed (%d)" % (cmd[0], r.returncode))
    return wall, float(u) + float(s), int(m)


def measure_best(cmd, inp, out=os.devnull, reset=None):
    """MEASURE, repeated when short: a run under a second is dominated by
    scheduling noise on a shared 2-core machine, so it is run 5 times and
    the fastest wall time is kept (with the largest peak RSS seen).  RESET
    runs before each repeat (the first-run case empties its cache)."""
    best = measure(cmd, inp, out)
    if best[0] >= 1.0:
        return best
    rss = best[2]
    for _ in range(4):
        if reset:
            reset()
        r = measure(cmd, inp, out)
        rss = max(rss, r[2])
        if r[0] < best[0]:
            best = r
    return best[0], best[1], rss


def records(path):
    with open(path) as f:
        return f.read().split("\n\n")


def main():
    args = sys.argv[1:]
    quick = "--quick" in args
    args = [a for a in args if a != "--quick"]
    corosym, targets = args[0], [a.split("=", 1) for a in args[1:]]
    sizes = [100000] if quick else [100000, 1000000]
    work = tempfile.mkdtemp(prefix="corosym-bench.")
    summary = []
    try:
        for label, path in targets:
            mb = os.path.getsize(path) / 1e6
            print("\n## %s: %s (%.1f MB)" % (label, path, mb), flush=True)
            allin = os.path.join(work, "all.txt")
            with open(allin, "w") as f:
                subprocess.run(["/usr/bin/python3",
                                os.path.join(HERE, "sample_addrs.py"), path,
                                str(max(sizes)), "1"], stdout=f, check=True)
            lines = open(allin).readlines()
            for n in sizes:
                inp = os.path.join(work, "in%d.txt" % n)
                with open(inp, "w") as f:
                    f.writelines(lines[:n])
                rows = []
                tools = [
                    ("llvm-symbolizer-19", ["llvm-symbolizer-19",
                                            "--obj=" + path, "--inlines"]),
                    ("addr2line", ["addr2line", "-f", "-i", "-C", "-e",
                                   path]),
                    ("corosym cold", [corosym, "--no-cache", "--obj=" + path]),
                ]
                cache = os.path.join(work, "cache%d" % n)
                tools.append(("corosym first run", [corosym, "--cache-dir=" +
                                                    cache, "--obj=" + path]))
                tools.append(("corosym warm", [corosym, "--cache-dir=" +
                                               cache, "--obj=" + path]))
                res = {}
                for name, cmd in tools:
                    out = os.devnull
                    if n == sizes[0] and name in ("llvm-symbolizer-19",
                                                  "corosym cold"):
                        out = os.path.join(work, name.split()[0] + ".out")
                    reset = None
                    if name == "corosym first run":
                        reset = lambda c=cache: shutil.rmtree(c, True)
                    res[name] = measure_best(cmd, inp, out, reset)
                    print("  %-20s %7d addrs: %6.2f s wall %6.2f s cpu %7.1f MB"
                          % (name, n, res[name][0], res[name][1],
                             res[name][2] / 1024), flush=True)
                peers = ["llvm-symbolizer-19", "addr2line"]
                fw = min(res[p][0] for p in peers)
                fc = min(res[p][1] for p in peers)
                fastest = min(peers, key=lambda p: res[p][0])
                print("\n| tool | %s addresses | wall s | addr/s | cpu s | "
                      "peak RSS MB | vs fastest peer (wall / cpu) |"
                      % format(n, ","))
                print("|---|---|---|---|---|---|---|")
                for name, _ in tools:
                    w, c, m = res[name]
                    print("| %s | %s | %.2f | %s k/s | %.2f | %.0f | %.1fx / %.1fx |"
                          % (name, format(n, ","), w, format(int(n / w / 1000), ","),
                             c, m / 1024, fw / w, fc / c))
                if n == sizes[0]:
                    a = records(os.path.join(work, "corosym.out"))
                    b = records(os.path.join(work, "llvm-symbolizer-19.out"))
                    same = sum(1 for x, y in zip(a, b) if x == y)
                    print("\nagreement with llvm-symbolizer-19 on %s addresses:"
                          " %d/%d identical (%.3f%%)" % (format(n, ","),
                          same, len(b), 100.0 * same / max(1, len(b))))
                cold = fw / res["corosym cold"][0]
                warm = fw / res["corosym warm"][0]
                rss_ok = res["corosym cold"][2] <= res["llvm-symbolizer-19"][2]
                summary.append("%s, %s addrs: fastest peer %s; cold %.1fx "
                               "(target 6x: %s), warm %.1fx (target 20x: %s), "
                               "peak RSS %.0f MB vs llvm %.0f MB (%s)" % (
                                   label, format(n, ","), fastest, cold,
                                   "met" if cold >= 6 else "NOT met", warm,
                                   "met" if warm >= 20 else "NOT met",
                                   res["corosym cold"][2] / 1024,
                                   res["llvm-symbolizer-19"][2] / 1024,
                                   "met" if rss_ok else "NOT met"))
        print("\n## Summary (wall-clock ratios)")
        for s in summary:
            print("- " + s)
        print("\nload average at end: %s" % open("/proc/loadavg").read().split()[:3])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
