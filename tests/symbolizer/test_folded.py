"""corosym pprof --folded: folded stacks for flame graphs."""
import os
import subprocess

import pytest

import pprof_fixture as pf
import pprof_wire

ISOLATE = ["--no-default-debug-dir", "--no-debuginfod", "--no-cache"]


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    return pf.Fixture(tmp_path_factory.mktemp("folded-fixture"))


@pytest.fixture(scope="module")
def raw(fx, tmp_path_factory):
    p = tmp_path_factory.mktemp("folded") / "raw.pb.gz"
    fx.raw_profile(p)
    return p


def corosym(args):
    env = dict(os.environ)
    env.pop("DEBUGINFOD_URLS", None)
    return subprocess.run(pf.corosym_pprof() + [str(a) for a in args],
                          capture_output=True, text=True, env=env, timeout=60)


def test_folded_symbolized_default_sample_type(fx, raw):
    """Default value: the last sample type (cpu nanoseconds), as pprof."""
    r = corosym([raw, "--folded", "--debug-dir", fx.debugdir] + ISOLATE)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "main;[vdso]+0xa30 10000000\n"
        "main;cold_path;lib_entry;lib_inner;lib_square 30000000\n"
        "main;hot_loop;middle_step;leaf_mix 70000000\n")
    assert r.stderr.splitlines()[-1].endswith("locations: 5 of 6 symbolized")


def test_folded_sample_index_by_name_and_number(fx, raw, tmp_path):
    out = tmp_path / "stacks.txt"
    r = corosym([raw, "--folded", "--sample-index", "samples", "-o", out,
                 "-q", "--debug-dir", fx.debugdir] + ISOLATE)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""
    want = ("main;[vdso]+0xa30 1\n"
            "main;cold_path;lib_entry;lib_inner;lib_square 3\n"
            "main;hot_loop;middle_step;leaf_mix 7\n")
    assert out.read_text() == want
    r = corosym([raw, "--folded", "--sample-index=0", "-q", "--debug-dir",
                 fx.debugdir] + ISOLATE)
    assert r.stdout == want


def test_folded_without_symbols_names_module_offsets(fx, raw):
    r = corosym([raw, "--folded", "--no-symbolize", "--sample-index",
                 "samples"])
    assert r.returncode == 0, r.stderr
    a = fx.addresses()
    assert r.stdout == "".join(sorted([
        "prog+0x%x;prog+0x%x 7\n" % (a["main"], a["hot_leaf"]),
        "prog+0x%x;prog+0x%x;libfix.so+0x%x;libfix.so+0x%x 3\n" % (
            a["main"], a["cold"], a["lib_entry"], a["lib_leaf"]),
        "prog+0x%x;[vdso]+0xa30 1\n" % a["main"],
    ]))


def test_folded_merges_stacks_and_escapes_names(tmp_path):
    """Equal stacks are summed, zero sums dropped, ';' in names replaced."""
    b = pprof_wire.Builder([("alloc_space", "bytes")])
    m = b.mapping(0x1000, 0x9000, 0, "/bin/app", "")
    f_main = b.function("main")
    f_op = b.function("ns::op<a;b>", "_ZN2ns2opE")
    f_inl = b.function("inl")
    l1 = b.location(m, 0x1100, [(f_inl, 3), (f_op, 7)])   # inline chain
    l2 = b.location(m, 0x1200, [(f_main, 20)])
    l3 = b.location(0, 0xdeadbeef)                          # no mapping
    b.sample([l1, l2], [100])
    b.sample([l1, l2], [28])
    b.sample([l2], [0])
    b.sample([l3, l2], [5])
    p = tmp_path / "p.pb.gz"
    b.write(p)
    r = corosym([p, "--folded", "--no-symbolize"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("main;0xdeadbeef 5\n"
                        "main;ns::op<a_b>;inl 128\n")


def test_folded_bad_sample_index(raw):
    r = corosym([raw, "--folded", "--no-symbolize", "--sample-index", "wall"])
    assert r.returncode == 2
    assert r.stderr == ("corosym pprof: no sample type 'wall' "
                        "(have: samples, cpu)\n")
    r = corosym([raw, "--folded", "--no-symbolize", "--sample-index", "9"])
    assert r.returncode == 2
    assert "out of range (profile has 2 sample types)" in r.stderr


def test_folded_bad_sample_index_checked_before_symbolizing(fx, raw):
    """With symbolization on, a bad --sample-index fails before any
    mapping is opened: one line, no per-mapping warning, no summary."""
    r = corosym([raw, "--folded", "--sample-index", "bogus", "--debug-dir",
                 fx.debugdir] + ISOLATE)
    assert r.returncode == 2
    assert r.stderr == ("corosym pprof: no sample type 'bogus' "
                        "(have: samples, cpu)\n")
    assert r.stdout == ""
