"""corosym renders big batches on several threads (symbolizer/cli/batch.c).
The answers must be the same bytes, in input order, whatever the number of
threads, for every output style, and agree with llvm-symbolizer; bad
--threads values are usage errors."""
import random
import subprocess

import pytest

from symutil import compile_c, compare, run, sample_addresses

# Batches below 2 x 2048 answers stay on one thread: use far more.
N = 30000


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("threads")
    out = tmp / "prog-O2"
    compile_c(out, ["prog.c", "lib.c"],
              flags=["-O2", "-gdwarf-5", "-I", ".", "-fPIE", "-pie"])
    return out


@pytest.fixture(scope="module")
def addrs(prog):
    pool = sample_addresses(prog, limit=100000)
    rnd = random.Random(11)
    return [rnd.choice(pool) for _ in range(N)]  # shuffled, with repeats


def lines(addrs):
    return "".join("0x%x\n" % a for a in addrs)


@pytest.mark.parametrize("style", [[], ["--output-style=GNU"],
                                   ["--output-style=JSON"],
                                   ["-a", "-p", "-s"]],
                         ids=["llvm", "gnu", "json", "addr-pretty-base"])
def test_same_bytes_for_any_thread_count(corosym, prog, addrs, style):
    inp = lines(addrs)
    outs = [run([corosym, "--no-cache", "--obj=%s" % prog,
                 "--threads=%d" % t] + style, input=inp).stdout
            for t in (1, 2, 8)]
    assert outs[0] == outs[1] == outs[2]
    assert outs[0].count("\n") >= N


def test_threads_agree_with_llvm(corosym, llvm_symbolizer, prog, addrs):
    inp = lines(addrs)
    ours = run([corosym, "--no-cache", "--obj=%s" % prog, "--threads=2"],
               input=inp).stdout
    theirs = run([llvm_symbolizer, "--obj=%s" % prog, "--inlines"],
                 input=inp).stdout
    n, diffs = compare(ours, theirs)
    assert n == N
    assert len(diffs) <= n // 1000, diffs[:3]


def test_mixed_batch_keeps_input_order(corosym, prog, addrs):
    """A batch with lines the fast path does not take (a bad line, a
    DATA request) still answers every line in order."""
    inp_lines = ["0x%x\n" % a for a in addrs]
    inp_lines[7] = "not-an-address\n"
    inp_lines[20001] = "DATA 0x%x\n" % addrs[20001]
    inp = "".join(inp_lines)
    threaded = run([corosym, "--no-cache", "--obj=%s" % prog, "--threads=2"],
                   input=inp, check=False)
    # One request per run is the per-line path, with no batching at all.
    one = [run([corosym, "--no-cache", "--obj=%s" % prog], input=l,
               check=False).stdout
           for l in (inp_lines[6], inp_lines[7], inp_lines[8],
                     inp_lines[20001], inp_lines[-1])]
    recs = threaded.stdout.split("\n\n")
    assert len(recs) == N + 1  # a trailing "" after the last blank line
    for i, want in zip((6, 7, 8, 20001, N - 1), one):
        assert recs[i] + "\n\n" == want, i


@pytest.mark.parametrize("bad", ["0", "9", "-1", "two", ""])
def test_bad_thread_count_is_a_usage_error(corosym, prog, bad):
    r = run([corosym, "--obj=%s" % prog, "--threads=" + bad, "0x0"],
            check=False)
    assert r.returncode == 1
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1
    assert "--threads" in r.stderr


@pytest.mark.parametrize("threads", ["2", "3", "8"])
def test_index_is_the_same_for_any_thread_count(corosym, tmp_path, threads):
    """Line programs and DIE walkers on several threads build the very
    bytes one thread builds (an explicit count applies even to a small
    module; 8 walkers over a few units leaves some with none)."""
    prog = tmp_path / "multi"
    compile_c(prog, ["prog.c", "lib.c"],
              flags=["-O2", "-gdwarf-4", "-I", ".", "-fPIE", "-pie"])
    files = {}
    for t in ("1", threads):
        cache = tmp_path / ("cache" + t)
        run([corosym, "--cache-dir=%s" % cache, "--obj=%s" % prog,
             "--threads=" + t, "0x0"])
        (idx,) = list(cache.iterdir())
        files[t] = idx.read_bytes()
    assert files["1"] == files[threads]
    assert len(files["1"]) > 1000


@pytest.mark.parametrize("opts", [[], ["--adjust-vma=0x40"], ["-a"],
                                  ["--output-style=JSON"], ["--no-inlines"],
                                  ["--relative-address"]],
                         ids=["plain", "adjust-vma", "addresses", "json",
                              "no-inlines", "relative"])
def test_bare_address_fast_path_matches_general_parser(corosym, prog, addrs,
                                                       opts):
    """Bare "0x..." lines take a parser of their own, run on the batch's
    threads; "CODE 0x..." lines take the general one.  Same answers."""
    bare = run([corosym, "--no-cache", "--obj=%s" % prog] + opts,
               input=lines(addrs)).stdout
    general = run([corosym, "--no-cache", "--obj=%s" % prog] + opts,
                  input="".join("CODE 0x%x\n" % a for a in addrs)).stdout
    assert bare == general
    assert bare.count("\n") >= N


def test_big_batch_for_a_missing_module(corosym, tmp_path):
    """A big batch whose --obj cannot be opened answers every line with
    ?? and reports the module once."""
    missing = tmp_path / "nope"
    r = run([corosym, "--no-cache", "--obj=%s" % missing],
            input="0x10\n" * 5000, check=False)
    assert r.stdout == "??\n??:0:0\n\n" * 5000
    assert len(r.stderr.strip().splitlines()) == 1
    assert str(missing) in r.stderr
    assert r.returncode == 2


def test_messages_land_in_the_same_place_for_any_thread_count(corosym, prog,
                                                              addrs, tmp_path):
    """stdout and stderr merged: an error after a window written in the
    background comes after that window's answers, as with one thread.
    (Input from a file: from a pipe the chunks, and so the flushes, follow
    the writer's timing, with any number of threads.)"""
    first = (addrs * 3)[:65536 + 10]   # a full window, then 10 lines
    inp = tmp_path / "in.txt"
    inp.write_text(lines(first) + "12abc\n" + lines(addrs[:500]))
    merged = []
    for t in ("1", "2", "8"):
        with open(inp) as f:
            r = subprocess.run([str(corosym), "--no-cache", "--obj=%s" % prog,
                                "--threads=" + t], stdin=f, text=True,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        assert r.returncode == 2
        merged.append(r.stdout)
    assert merged[0] == merged[1] == merged[2]
    assert "error: '12abc'" in merged[0]
