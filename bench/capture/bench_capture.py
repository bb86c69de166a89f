"""The capture benchmark (issue 11): `corodbg dump` of N parked coroutines,
wall and CPU, against anchors measured in the same run on the same
process: GDB with corodbg (`info coroutines -t`) and eu-stack; and the
stall of the one thread a capture stops (the thread running a coroutine),
measured from inside the target by a probe coroutine on that thread.

    python3 bench/capture/bench_capture.py [N] [RUNS]
    CORODBG_BASELINE=/path/to/old/corodbg ...   (also: old vs this build)
"""
import json
import os
import resource
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORODBG = os.path.join(ROOT, "build", "capture", "corodbg")
TARGET = os.path.join(ROOT, "build", "capture", "bench", "stall_target")
CPUBURN = os.path.join(ROOT, "build", "capture", "tests", "cpuburn")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
# another corodbg build to compare with, run alternately (before/after)
BASELINE = os.environ.get("CORODBG_BASELINE")


def timed(cmd, **kw):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic_ns()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, **kw)
    t1 = time.monotonic_ns()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return r, t0, t1, cpu


def main():
    for p in (CORODBG, TARGET):
        if not os.path.exists(p):
            sys.exit("bench_capture: %s missing (make bench builds it)" % p)
    # long enough for the captures and the anchors
    p = subprocess.Popen([TARGET, str(N), "600"], stdout=subprocess.PIPE,
                         text=True)
    pid = int(p.stdout.readline().split()[1])
    print("corodbg capture bench: %d parked coroutines + 1 running, %d "
          "cpus, load %s" % (N, os.cpu_count(),
                             open("/proc/loadavg").read().split()[0]))
    windows, walls, cpus, phases = [], [], [], []
    base_walls, base_cpus = [], []
    env = dict(os.environ, CORODBG_TIMING="1")
    try:
        for fmt in ["pprof"] * RUNS + ["text"]:
            if BASELINE and fmt == "pprof":
                # the other build, alternating with this one on the same
                # process: a same-run ratio on a noisy machine
                r, t0, t1, cpu = timed([BASELINE, "dump", str(pid),
                                        "--format", fmt, "-o", "/dev/null"])
                assert r.returncode == 0, r.stderr
                windows.append((t0, t1))
                base_walls.append((t1 - t0) / 1e9)
                base_cpus.append(cpu)
            r, t0, t1, cpu = timed([CORODBG, "dump", str(pid), "--format",
                                    fmt, "-o", "/dev/null"], env=env)
            assert r.returncode == 0, r.stderr
            windows.append((t0, t1))
            if fmt == "pprof":
                walls.append((t1 - t0) / 1e9)
                cpus.append(cpu)
                phases.append([ln for ln in r.stderr.splitlines()
                               if "timing:" in ln][-1:])
        text_wall = (t1 - t0) / 1e9
        quiet0 = time.monotonic_ns()
        time.sleep(2)                    # a stretch without any capture
        quiet1 = time.monotonic_ns()
        r, g0, g1, gcpu = timed(["eu-stack", "-p", str(pid)])
        eu_wall = (g1 - g0) / 1e9
        windows.append((g0, g1))
        gdb_cmd = ["gdb", "-nx", "-q", "-batch", "-iex",
                   "set auto-load safe-path /", "-ex",
                   "source %s/gdb/corodbg-gdb.py" % ROOT, "-p", str(pid),
                   "-ex", "info coroutines -t", "-ex", "detach"]
        try:
            r, d0, d1, dcpu = timed(gdb_cmd, timeout=600)
            gdb_wall = (d1 - d0) / 1e9
        except subprocess.TimeoutExpired:
            d0, d1, gdb_wall, dcpu = 0, 0, None, None
        windows.append((d0, d1))
    finally:
        p.kill()
    # the stall, on a smaller table (it does not depend on N): the probe
    # prints its gaps when SIGUSR1 ends it
    p2 = subprocess.Popen([TARGET, str(min(N, 10000)), "600"],
                          stdout=subprocess.PIPE, text=True)
    pid2 = int(p2.stdout.readline().split()[1])
    cw = []
    t_start = time.monotonic_ns()
    time.sleep(1.5)
    quiet = (t_start, time.monotonic_ns())
    stalls = []
    tmp = "/tmp/corodbg-bench-%d.json" % os.getpid()
    for _ in range(max(RUNS, 10)):
        r, t0, t1, _ = timed([CORODBG, "dump", str(pid2), "--format",
                              "json", "-o", tmp])
        assert r.returncode == 0, r.stderr
        cw.append((t0, t1))
        with open(tmp) as f:
            stalls.append(json.load(f)["max_stall_ns"])
        time.sleep(0.2)
    os.unlink(tmp)
    os.kill(pid2, signal.SIGUSR1)
    gaps = []
    for line in p2.stdout:
        if line.startswith("gap "):
            _, at, ln = line.split()
            gaps.append((int(at), int(ln)))
    p2.wait()
    during = [ln for at, ln in gaps
              if any(a <= at <= b for a, b in cw)]
    outside = [ln for at, ln in gaps if quiet[0] <= at <= quiet[1]]
    best = min(walls)
    print("dump --format pprof: wall best %.3f s median %.3f s, cpu best "
          "%.3f s (target <= 1 s wall)" % (best, sorted(walls)[len(walls) // 2],
                                           min(cpus)))
    print("  where the best run's time went (CORODBG_TIMING=1): %s"
          % "".join(phases[walls.index(best)]).replace("corodbg: timing: ",
                                                       ""))
    if BASELINE:
        bw, bc = sorted(base_walls), sorted(base_cpus)
        mw, mc = sorted(walls), sorted(cpus)
        print("baseline %s, alternating on the same process: wall median "
              "%.3f s, cpu median %.3f s; this build / baseline: wall %.2f, "
              "cpu %.2f" % (BASELINE, bw[len(bw) // 2], bc[len(bc) // 2],
                            mw[len(mw) // 2] / bw[len(bw) // 2],
                            mc[len(mc) // 2] / bc[len(bc) // 2]))
    print("dump --format text:  wall %.3f s" % text_wall)
    print("anchor eu-stack -p (OS threads only): wall %.3f s" % eu_wall)
    if gdb_wall is None:
        print("anchor gdb info coroutines -t: > 600 s (timed out)")
    else:
        print("anchor gdb info coroutines -t: wall %.1f s, cpu %.1f s; "
              "ratio gdb/corodbg %.0fx" % (gdb_wall, dcpu, gdb_wall / best))
    st = sorted(stalls)
    print("stopped thread, stop seen to detach as corodbg timed it, over %d "
          "captures: min %.3f ms, median %.3f ms, max %.3f ms (target <= "
          "1 ms; a loaded machine preempts corodbg while it holds the "
          "thread)" % (len(st), st[0] / 1e6, st[len(st) // 2] / 1e6,
                       st[-1] / 1e6))
    print("probe inside the target, longest gap during captures: %.3f ms; "
          "outside captures (the machine's own preemption): %.3f ms"
          % (max(during or [0]) / 1e6, max(outside or [0]) / 1e6))

    profiling_cost()


def burn(seconds, profile_hz=None):
    """Blocks hashed by cpuburn per CPU second of its own (the machine's
    other load left out), over SECONDS, optionally while profiled."""
    p = subprocess.Popen([CPUBURN, str(seconds)], stdout=subprocess.PIPE,
                         text=True)
    pid = int(p.stdout.readline().split()[1])
    prof = None
    if profile_hz:
        prof = subprocess.Popen([CORODBG, "profile", str(pid), "--seconds",
                                 str(seconds + 2), "--hz", str(profile_hz),
                                 "-o", "/dev/null"],
                                stderr=subprocess.DEVNULL)
    words = p.stdout.readline().split()
    p.wait()
    if prof:
        prof.wait()
    return int(words[1]) / float(words[3])


def profiling_cost(seconds=5, runs=3):
    """Throughput of a CPU-bound corort coroutine with and without a
    100 Hz profile, alternating, best of RUNS each (noisy machine)."""
    plain, profiled = [], []
    for _ in range(runs):
        plain.append(burn(seconds))
        profiled.append(burn(seconds, 100))
    ratio = max(profiled) / max(plain)
    print("profile at 100 Hz: throughput (blocks per CPU second of the "
          "target) %.3f of unprofiled (best of %d, %d s each; target >= "
          "0.98; anchor py-spy ~2%% cost)" % (ratio, runs, seconds))


if __name__ == "__main__":
    main()
