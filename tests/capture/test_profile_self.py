"""cc_profile_self: the in-process CPU profile (the endpoint's
/debug/pprof/profile) of capture/tests/selfprof.c, a corort program with
two busy coroutines on two worker threads that profiles itself."""
import shutil
import subprocess

import pytest

from capture_util import BUILD, need
from test_profile import GO, sample_labels
import pprof_fixture as pf  # noqa: E402

SELFPROF = BUILD / "capture" / "tests" / "selfprof"


def run(mode, *args, prog=SELFPROF, timeout=60):
    r = subprocess.run([str(need(prog)), mode] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r


def check_spinners(raw):
    """Both spinners' functions appear, under their own coroutine's
    label; returns the samples total."""
    prof, samples = sample_labels(raw)
    assert prof.sample_types == [("samples", "count"),
                                 ("cpu", "nanoseconds")]
    total = sum(v[0] for v, _ in samples)
    for v, _ in samples:
        assert v[1] == v[0] * 10**7          # 100 Hz: 10 ms per sample
    seen = {}
    for (locs, _), (v, l) in zip(prof.samples, samples):
        names = [f[0] for lid in locs for f in prof.frames(lid)]
        for fn, co in (("spin_a", "spinner-a"), ("spin_b", "spinner-b")):
            if fn in names:
                assert l.get("coroutine") == co, (fn, l)
                assert l["coroutine_id"] in (1, 2)
                assert "spinner" in names
                seen[fn] = seen.get(fn, 0) + v[0]
    assert set(seen) == {"spin_a", "spin_b"}, seen
    assert sum(seen.values()) > total * 0.7, (seen, total)
    return total


def test_busy_coroutines_labelled(tmp_path):
    out = tmp_path / "cpu.pb.gz"
    r = run("profile", out, 1, 100)
    assert "rc 0" in r.stdout
    # the program's SIGPROF disposition (SIG_DFL) is back afterwards
    assert "disposition default" in r.stdout
    assert "samples from" in r.stderr
    total = check_spinners(out.read_bytes())
    # two threads busy (on a shared machine: at least a fraction of it)
    assert 20 <= total <= 230, total


def test_go_tool_pprof_top(tmp_path):
    if not shutil.which(GO):
        pytest.skip("no go")
    out = tmp_path / "cpu.pb.gz"
    run("profile", out, 1, 100)
    r = subprocess.run([GO, "tool", "pprof", "-top", str(out)],
                       capture_output=True, text=True, timeout=300,
                       env=pf.go_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "Type: cpu" in r.stdout
    assert " spin_a\n" in r.stdout and " spin_b\n" in r.stdout, r.stdout


def test_non_dumpable_process(tmp_path):
    """ptrace-style access is refused to others; we still profile."""
    out = tmp_path / "cpu.pb.gz"
    r = run("nodump", out, 1, 100)
    assert "dumpable 0" in r.stdout and "rc 0" in r.stdout, r.stdout
    check_spinners(out.read_bytes())


@pytest.mark.parametrize("kind", ["handler", "ign"])
def test_programs_own_sigprof_keeps_working(tmp_path, kind):
    r = run("signals", tmp_path / "cpu.pb.gz", kind)
    lines = dict(l.split(" ", 1) for l in r.stdout.splitlines())
    assert lines["rc"].strip() == "0", r.stdout
    assert lines["disposition"] == "restored"
    counts = lines["own"].split()
    before, during, after = int(counts[1]), int(counts[3]), int(counts[5])
    if kind == "ign":
        assert (before, during, after) == (0, 0, 0)
        assert lines["sent"] == "not received"
        return
    # its own 500 Hz ITIMER_PROF (process CPU time) kept arriving at its
    # rate: per ms, during is within a factor 2 of before and after
    assert before > 10 and after > 10, r.stdout
    rate = (before + after) / 600.0
    assert rate / 2 < during / 900.0 < rate * 2, r.stdout
    assert lines["sent"] == "received"
    check_spinners((tmp_path / "cpu.pb.gz").read_bytes())


def test_second_profile_is_busy(tmp_path):
    r = run("busy", tmp_path / "cpu.pb.gz")
    assert "first rc 0" in r.stdout, r.stdout
    second = [l for l in r.stdout.splitlines() if l.startswith("second")][0]
    assert second.startswith("second rc -1 err busy took "), second
    assert float(second.split()[-1]) < 0.5     # at once, not after 1 s
    assert "third rc 0" in r.stdout            # and free again after
    check_spinners((tmp_path / "cpu.pb.gz").read_bytes())


def test_cancel_stops_early(tmp_path):
    out = tmp_path / "cpu.pb.gz"
    r = run("cancel", out)
    rc, took = r.stdout.split()[1], float(r.stdout.split()[3])
    assert rc == "3", r.stdout
    assert took < 2, took                      # of 30 s asked
    assert "cancelled" in r.stderr
    prof, _ = sample_labels(out.read_bytes())   # a whole profile
    assert prof.sample_types[0] == ("samples", "count")


def test_pending_sample_on_a_blocking_thread_is_harmless(tmp_path):
    """A thread that blocks SIGPROF holds our timer's signal past the end:
    the program's SIG_DFL must not be back when it unblocks it."""
    r = run("blocker", tmp_path / "cpu.pb.gz")
    assert "survived" in r.stdout, r.stdout
    assert "stays installed" in r.stderr, r.stderr


def test_under_asan_ubsan(tmp_path):
    san = BUILD / "capture" / "tests" / "selfprof-san"
    out = tmp_path / "cpu.pb.gz"
    r = run("profile", out, 1, 100, prog=san, timeout=120)
    assert "rc 0" in r.stdout, r.stdout
    check_spinners(out.read_bytes())
    r = run("signals", out, "handler", prog=san, timeout=120)
    assert "sent received" in r.stdout, r.stdout
    r = run("dump", "snapshot", prog=san, timeout=120)
    assert "survived" in r.stdout and "spinner()" in r.stdout, r.stdout


def running_blocks(text):
    """{name: block text} of the running coroutines in a text dump."""
    out = {}
    for block in text.split("\n\n"):
        first = block.split("\n", 1)[0]
        if first.startswith("coroutine ") and "[running, thread" in first:
            out[first.split('"')[1]] = block
    return out


def test_in_process_dump_shows_running_stacks():
    """CC_SNAPSHOT_SELF: a running coroutine's real stack, from inside the
    process, where CC_STOP_RUNNING (ptrace) cannot stop its own threads."""
    r = run("dump", "snapshot")
    blocks = running_blocks(r.stdout)
    assert blocks, r.stdout
    for name, block in blocks.items():
        assert name in ("spinner-a", "spinner-b")
        assert "no stack" not in block, block
        # unwound from where it runs (spin_a/spin_b, or spinner between
        # two calls) down to the coroutine's start
        assert "\nspinner()\n" in block, block
        assert "corort__start()" in block
    assert "survived" in r.stdout
    r = run("dump", "stop")
    for block in running_blocks(r.stdout).values():
        assert "(no stack: its thread could not be stopped" in block


def test_in_process_dump_never_hangs_on_a_blocking_thread():
    """Worker threads that block SIGPROF never answer: each snapshot gives
    up after 100 ms, the dump completes, the program runs on."""
    r = run("dump-blocked", "snapshot")
    assert "did not answer the snapshot signal in 100 ms" in r.stdout, \
        r.stdout
    assert float(r.stdout.split("took ")[1].split()[0]) < 5
    assert "survived" in r.stdout


def test_fork_mid_profile(tmp_path):
    """The child of a fork() during a profile is not left "busy" (the
    agent restarts there), and the parent's profile completes."""
    r = run("fork", tmp_path / "cpu.pb.gz")
    assert "child rc 0" in r.stdout, r.stdout
    assert "child exit 0" in r.stdout and "parent rc 0" in r.stdout
    check_spinners((tmp_path / "cpu.pb.gz").read_bytes())
