"""Short libFuzzer runs of corosym's parsers (make test); `make fuzz` runs
them longer.

Each harness (symbolizer/fuzz/fuzz_*.c, clang-14 with ASan + UBSan) first
replays its checked-in seed corpus, then fuzzes for FUZZ_SECONDS with a
fixed seed into a scratch corpus.  Any crash, leak, sanitizer report or
timeout fails the test and leaves the input in the test's tmp dir.
"""
import os
import re
import subprocess

import pytest

import pprof_fixture as pf

FUZZ = pf.BUILD / "symbolizer" / "fuzz"
CORPUS = pf.ROOT / "symbolizer" / "fuzz" / "corpus"
HARNESSES = ["pprof", "elf", "lineproto", "cache"]
SECONDS = int(os.environ.get("COROSYM_FUZZ_SECONDS", "6"))


def run_fuzzer(name, args, tmp_path):
    exe = FUZZ / ("fuzz-" + name)
    assert exe.exists(), "%s not built (make TESTBIN)" % exe
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    r = subprocess.run([str(exe), "-artifact_prefix=%s/" % tmp_path,
                        "-timeout=10", "-rss_limit_mb=2048",
                        "-print_final_stats=1"] + [str(a) for a in args],
                       capture_output=True, text=True, env=env,
                       timeout=SECONDS + 60)
    artifacts = [p.name for p in tmp_path.iterdir()
                 if p.name.startswith(("crash-", "leak-", "timeout-",
                                       "oom-"))]
    tail = "\n".join(r.stderr.splitlines()[-25:])
    assert r.returncode == 0 and not artifacts, (artifacts, tail)
    return r.stderr


@pytest.mark.parametrize("name", HARNESSES)
def test_seed_corpus_is_checked_in(name):
    seeds = [p for p in (CORPUS / name).iterdir() if p.is_file()]
    assert len(seeds) >= 3, seeds


@pytest.mark.parametrize("name", HARNESSES)
def test_fuzz_briefly(name, tmp_path):
    scratch = tmp_path / "corpus"
    scratch.mkdir()
    art = tmp_path / "artifacts"
    art.mkdir()
    out = run_fuzzer(name, ["-seed=1", "-max_total_time=%d" % SECONDS,
                            scratch, CORPUS / name], art)
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    assert m and int(m.group(1)) > 100, out[-2000:]
    # every (non-empty: libFuzzer skips empty files) seed was replayed
    n_seeds = len([p for p in (CORPUS / name).iterdir()
                   if p.is_file() and p.stat().st_size])
    m = re.search(r"INFO: seed corpus: files: (\d+)", out)
    assert m and int(m.group(1)) == n_seeds, out[:2000]
