# Time GDB commands from inside GDB: `python timecmd("info coroutines")`.
# Output goes to a string (as through `pipe`), so the terminal is not what
# is measured.  Prints "BENCH <label> <seconds> <output lines>".
import time

import gdb


def timecmd(cmd, label=None, repeat=1):
    best = None
    lines = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = gdb.execute(cmd, False, True)
        dt = time.perf_counter() - t0
        lines = out.count("\n")
        best = dt if best is None else min(best, dt)
    gdb.write("BENCH %s %.3f %d\n" % (label or cmd.replace(" ", "_"), best,
                                       lines))


def timecont(label):
    t0 = time.perf_counter()
    gdb.execute("continue", False, True)
    gdb.write("BENCH %s %.3f 0\n" % (label, time.perf_counter() - t0))


def cold():
    """Forget the per-stop caches, as after a resume."""
    try:
        from corodbg_gdb.target import S
        S.invalidate()
        # the symbol cache (S.symbols; S.locations in revisions before
        # 9ee0005, which bench/compare-gdb.sh may time)
        cache = getattr(S, "symbols", None) or getattr(S, "locations", None)
        cache.clear()
    except ImportError:
        pass


def timecold(cmd, label=None, repeat=1, report=None):
    """Best of REPEAT cold runs: wall seconds, CPU seconds, output lines.
    (CPU time is what the command costs; wall time also shows how busy the
    machine was.)  With REPORT (a file name) the output goes through
    GDB's pager to its stdout, as a user's terminal gets it (run GDB
    with stdout to a file), not into a string, and the BENCH line is
    appended to REPORT instead (the line count is then "-")."""
    best, cpu, lines = None, None, 0
    for _ in range(repeat):
        cold()
        t0, c0 = time.perf_counter(), time.process_time()
        out = gdb.execute(cmd, False, report is None)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        lines = out.count("\n") if report is None else "-"
        best = dt if best is None else min(best, dt)
        cpu = dc if cpu is None else min(cpu, dc)
    line = "BENCH %s %.3f %s cpu=%.3f\n" % (label or cmd.replace(" ", "_"),
                                          best, lines, cpu)
    if report is None:
        gdb.write(line)
    else:
        with open(report, "a") as f:
            f.write(line)


def profile(cmd):
    import cProfile
    import pstats
    cold()
    pr = cProfile.Profile()
    pr.enable()
    gdb.execute(cmd, False, True)
    pr.disable()
    pstats.Stats(pr).sort_stats("cumulative").print_stats(18)
