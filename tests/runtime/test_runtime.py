"""corort: scheduler, channels, close, sleep, wait groups, mutexes, join,
deadlock detection and bad input, in single-thread and N-worker mode, with
hooks, with ASan/UBSan, and with the hooks compiled out."""
import pytest

VARIANTS = ["rt_basic", "rt_basic-san", "rt_basic-nohooks"]

EXPECTED = {
    "sched": ["run=0 live=0", "trace=ababab"],
    "chan": ["run=0 sum=1001000"],
    "buffered": ["consumer got=100 sum=5050", "run=0 len=0"],
    "close": ["run=0 closed=3", "parked senders=2", "run=0 closed=2"],
    "sleep": ["run=0 order=123 waited>=30ms=1"],
    "wg": ["waiter saw counter=800", "run=0 counter=800"],
    "join": ["joined result=42", "run=0 live=0"],
    "deadlock": ["run=2 blocked=2",
                 "table: name=stuck-1 state=3 wait=2 addr_ok=1 "
                 "runtime=corort"],
    "errors": ["errors ok"],
    "fpu": ["run=0 fpu_ok=1 main_nearest=1"],
    # A stack overflow faults in the guard page; the crash handler runs on
    # the worker's alternate signal stack and records the coroutine.
    "overflow": ["crashed: sig=11 id_matches=1 state=6 signal=11 "
                 "fault_in_guard_page=1"],
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_single_thread(rt, variant, case):
    r = rt.run(variant, case)
    assert r.stdout.splitlines() == EXPECTED[case]


@pytest.mark.parametrize("variant", ["rt_basic", "rt_basic-san"])
@pytest.mark.parametrize("case", sorted(set(EXPECTED) - {"errors"}))
def test_two_workers(rt, variant, case):
    r = rt.run(variant, case, 2)
    want = list(EXPECTED[case])
    if case == "sched":
        want[1] = "trace=(mt)"  # interleaving depends on thread timing
    assert r.stdout.splitlines() == want


def test_unknown_case_is_one_line_error(rt):
    r = rt.run("rt_basic", "nosuch", check=False)
    assert r.returncode == 2
    assert r.stderr == "rt_basic: unknown case 'nosuch'\n"


def test_header_example_compiles_and_runs(root, build, tmp_path):
    """The complete program in corort.h's manual is real."""
    import subprocess
    text = (root / "runtime/include/corort.h").read_text()
    block = text.split(" * A COMPLETE PROGRAM\n", 1)[1].split(" * CONCEPTS", 1)[0]
    src = "\n".join(line[7:] if line.startswith(" *     ") else ""
                    for line in block.splitlines())
    (tmp_path / "example.c").write_text(src)
    exe = tmp_path / "example"
    subprocess.run(["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror",
                    "-I%s" % (root / "runtime/include"),
                    "-I%s" % (root / "runtime-hooks/include"),
                    str(tmp_path / "example.c"), "-o", str(exe),
                    str(build / "runtime/libcorort.a"),
                    str(build / "runtime-hooks/libcorodbg.a"),
                    "-lpthread", "-ldl"], check=True)
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=10)
    assert (r.returncode, r.stdout) == (0, "got 1\ngot 2\ngot 3\n")


@pytest.mark.parametrize("case", ["chan", "close", "wg", "join"])
def test_valgrind_clean(rt, case):
    """Stacks are registered with Valgrind: no stack-switch warnings, no
    errors (memcheck), same output."""
    import subprocess
    r = subprocess.run(["valgrind", "--error-exitcode=9",
                        str(rt.path("rt_basic")), case],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.splitlines() == EXPECTED[case]
    assert "switching stacks" not in r.stderr
    assert "ERROR SUMMARY: 0 errors" in r.stderr
