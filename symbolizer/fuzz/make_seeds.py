#!/usr/bin/python3
"""Regenerate the checked-in pprof seed corpus (symbolizer/fuzz/corpus/pprof).

Usage: symbolizer/fuzz/make_seeds.py
The seeds are small profiles built with tests/symbolizer/pprof_wire.py:
raw (unsymbolized) and symbolized, gzip and plain, one and two sample types.
"""
import gzip
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "symbolizer"))
import pprof_wire  # noqa: E402

OUT = ROOT / "symbolizer" / "fuzz" / "corpus" / "pprof"


def raw_profile():
    b = pprof_wire.Builder([("samples", "count"), ("cpu", "nanoseconds")])
    m = b.mapping(0x555555554000, 0x555555559000, 0, "/usr/bin/prog",
                  "8f3a4b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a")
    m2 = b.mapping(0x7ffff7dd0000, 0x7ffff7f60000, 0x26000,
                   "/lib/x86_64-linux-gnu/libc.so.6", "")
    a = b.location(m, 0x555555555139)
    c = b.location(m, 0x555555555160)
    d = b.location(m2, 0x7ffff7df6d0a)
    b.sample([a, c, d], [3, 30000000])
    b.sample([c, d], [1, 10000000])
    b.period_type = ("cpu", "nanoseconds")
    b.period = 10000000
    return b


def symbolized_profile():
    b = pprof_wire.Builder()
    m = b.mapping(0x400000, 0x401000, 0, "/bin/x", "abcd",
                  has_functions=1, has_filenames=1, has_line_numbers=1,
                  has_inline_frames=1)
    f1 = b.function("leaf", "_Z4leafv", "/src/x.c", 3)
    f2 = b.function("main", "main", "/src/x.c", 10)
    la = b.location(m, 0x400100, [(f1, 4), (f2, 12)])
    lb = b.location(m, 0x400200, [(f2, 14)])
    b.sample([la, lb], [7])
    b.sample([lb], [2])
    b.default_sample_type = b.s("samples")
    return b


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    seeds = {
        "raw.pb.gz": gzip.compress(raw_profile().encode(), mtime=0),
        "raw.pb": raw_profile().encode(),
        "symbolized.pb.gz": gzip.compress(symbolized_profile().encode(),
                                          mtime=0),
        "symbolized.pb": symbolized_profile().encode(),
        "empty.pb": b"",
        "strings-only.pb": pprof_wire.Builder().encode(),
    }
    for name, data in seeds.items():
        (OUT / name).write_bytes(data)
    print("wrote %d seeds to %s" % (len(seeds), os.path.relpath(OUT, ROOT)))


if __name__ == "__main__":
    main()
