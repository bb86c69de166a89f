"""The examples (examples/*.c) run, end as documented in
examples/README.md, and print exact, deterministic output.  Debugger
behaviour at example_checkpoint() is tested by the GDB and LLDB suites."""
import re
import subprocess

import pytest


def run(build, name, *args, timeout=60):
    exe = build / "examples" / name
    if not exe.exists():
        pytest.fail("%s is not built: run `make`" % exe)
    return subprocess.run([str(exe)] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout)


def function_at(build, name, offset):
    out = subprocess.run(["addr2line", "-f", "-e",
                          str(build / "examples" / name), offset],
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0]


@pytest.mark.parametrize("name", ["leak", "leak-stripped", "leak-nopie"])
def test_leak_report(build, name):
    r = run(build, name)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "leak: corort_run returned: 3 coroutines blocked forever"
    assert lines[1] == "corodbg: blocked coroutines:"
    assert len(lines) == 5
    sites = set()
    for i, line in enumerate(lines[2:]):
        m = re.fullmatch(
            r'  #(\d+) "consumer-(\d)" blocked \[chan receive 0x[0-9a-f]+\] '
            r'for \d+ms, created at %s\+(0x[0-9a-f]+)' % re.escape(name), line)
        assert m, line
        assert (int(m.group(1)), int(m.group(2))) == (i + 2, i + 1)
        sites.add(m.group(3))
    # All three were created at the same spawn call, in start_consumers.
    assert len(sites) == 1
    if name == "leak":
        assert function_at(build, name, sites.pop()) == "start_consumers"


def test_spawn_loop(build):
    r = run(build, "spawn-loop", 2500)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("spawn-loop: 2500 handlers parked, 2500 coroutines "
                        "in the table\n")


def test_spawn_loop_leak_check(build):
    r = run(build, "spawn-loop", 3)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:2] == [
        "spawn-loop: 3 handlers parked, 3 coroutines in the table",
        "corodbg: coroutines created since the mark and still live:"]
    sites = set()
    for i, line in enumerate(lines[2:]):
        m = re.fullmatch(
            r'  #%d "handler-%d" blocked \[waitgroup 0x[0-9a-f]+\] for \d+ms, '
            r'created at spawn-loop\+(0x[0-9a-f]+)' % (i + 2, i + 1), line)
        assert m, line
        sites.add(m.group(1))
    assert len(lines) == 5
    assert [function_at(build, "spawn-loop", s) for s in sites] == [
        "dispatcher"]


def test_demo_part_runs(root):
    r = subprocess.run(["sh", str(root / "examples/demo/10-leak-report.sh")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "3 coroutines blocked forever" in r.stdout
    assert '"handler-4" blocked [waitgroup' in r.stdout


@pytest.mark.parametrize("name", ["panic", "panic-stripped"])
def test_panic_aborts_like_go(build, name):
    r = run(build, name)
    assert r.returncode == -6  # SIGABRT
    assert r.stdout.splitlines() == [
        "worker-1: request 40 GET /api/v1/orders: 3 headers ok",
        "worker-2: request 41 POST /api/v1/orders: 3 headers ok",
    ]
    assert r.stderr.startswith(
        "panic: request 42: invalid Content-Length -1 (limit 65536)\n\n"
        'coroutine 3 "worker-3" [running]\n')


@pytest.mark.parametrize("name", ["segv", "segv-stripped"])
def test_segv_in_coroutine(build, name):
    r = run(build, name)
    assert r.returncode == -11  # SIGSEGV, default action after the record
    assert r.stdout == "parser-1: total 14\n"


@pytest.mark.parametrize("n,workers", [(10, 0), (10, 2), (100000, 0),
                                       (100000, 2)])
def test_server_parks_everyone(build, n, workers):
    r = run(build, "server", n, workers, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("server: %d connections parked in 5 wait sites, "
                        "%d workers\n" % (n, workers))


def test_server_nopie(build):
    r = run(build, "server-nopie", 5)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "server: 5 connections parked in 5 wait sites, 0 workers\n"


@pytest.mark.parametrize("args,err", [
    ([], "usage: server N [WORKERS]\n"),
    (["0"], "server: N must be an integer from 1 to 1000000, not '0'\n"),
    (["10", "x"], "server: WORKERS must be an integer from 0 to 64, not 'x'\n"),
    (["2000000"],
     "server: N must be an integer from 1 to 1000000, not '2000000'\n"),
])
def test_server_bad_arguments(build, args, err):
    r = run(build, "server", *args)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", err)


def test_spawn_loop_bad_argument(build):
    r = run(build, "spawn-loop", "-5")
    assert (r.returncode, r.stderr) == (
        2, "spawn-loop: N must be an integer from 1 to 1000000, not '-5'\n")


def test_stripped_copies_are_stripped(build):
    for name in ["leak", "spawn-loop", "panic", "segv", "server"]:
        out = subprocess.run(["readelf", "-S", str(build / "examples" /
                                                   (name + "-stripped"))],
                             capture_output=True, text=True, check=True).stdout
        assert ".symtab" not in out and ".debug_info" not in out
        assert ".corodbg" in out  # the table survives strip


def test_nopie_is_not_pie(build):
    out = subprocess.run(["readelf", "-h", str(build / "examples" /
                                               "leak-nopie")],
                         capture_output=True, text=True, check=True).stdout
    assert re.search(r"Type:\s+EXEC", out)
