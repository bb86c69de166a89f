"""The llvm-symbolizer line protocol and robustness: every input form,
JSON output, pprof-style interactive use through an llvm-symbolizer
symlink, compressed sections (zlib, zstd, .zdebug), and bad input
(lines, ELF, DWARF) reported per line or module while the rest is still
symbolized."""
import json
import os
import subprocess

import pytest

from symutil import HERE, compile_c, records, run, sample_addresses

SRC = HERE / "src"


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    d = tmp_path_factory.mktemp("proto")
    p = compile_c(d / "prog", ["prog.c", "lib.c"],
                  flags=["-O2", "-g", "-I", str(SRC)])
    nm = run(["nm", p]).stdout.split("\n")
    syms = {l.split()[2]: int(l.split()[0], 16) for l in nm
            if len(l.split()) == 3}
    return p, syms


def both(corosym, llvm, args, inp=None):
    a = run([corosym, "--no-cache"] + args, input=inp, check=False)
    b = run([llvm] + args, input=inp, check=False)
    return a, b


def test_input_forms_match_llvm(prog, corosym, llvm_symbolizer):
    p, s = prog
    c = s["compute"]
    inp = "\n".join([
        "%s 0x%x" % (p, c),                   # MODULE ADDR
        "CODE %s 0x%x" % (p, c + 3),          # CODE prefix
        "FILE:%s 0x%x" % (p, c),              # FILE: prefix
        "\"%s\" %d" % (p, c),                 # quoted module, decimal
        "%s 0%o" % (p, c),                    # octal
        "DATA %s 0x%x" % (p, s["completed.0"]),
        "%s compute" % p,                     # symbol
        "%s 0x%x trailing words ignored" % (p, c),
        "", "garbage", "%s 12zz" % p, "%s" % p,
        "FILE:", "BUILDID:xyz 0x10", "BUILDID: FILE:x 0x1",
        "%s 0x1" % (p.parent / "missing"),
    ]) + "\n"
    a, b = both(corosym, llvm_symbolizer, [], inp)
    assert a.stdout == b.stdout
    assert a.stdout.startswith("compute\n%s:" % (SRC / "prog.c"))
    assert a.returncode == 2
    # every bad line was named on stderr, in llvm's words
    for msg in ("no module offset has been specified",
                "expected a number as module offset",
                "must be followed by an input file",
                "wrong format of build-id",
                "duplicate input file specification prefix",
                "No such file or directory"):
        assert msg in a.stderr and msg in b.stderr


@pytest.mark.parametrize("style", [["--output-style=JSON"],
                                   ["--output-style=JSON", "-p"]])
def test_json_matches_llvm(prog, corosym, llvm_symbolizer, style):
    p, s = prog
    addrs = sample_addresses(p, limit=300)
    args = style + ["--obj", str(p)] + [hex(x) for x in addrs]
    a, b = both(corosym, llvm_symbolizer, args)
    assert a.stdout == b.stdout
    doc = json.loads(a.stdout)
    assert len(doc) == len(addrs)
    first = doc[0]["Symbol"][-1]
    assert first["FileName"].endswith(".c") and first["Line"] > 0
    # stdin form: one object per line
    inp = "".join("0x%x\n" % x for x in addrs[:50])
    a, b = both(corosym, llvm_symbolizer, style + ["--obj", str(p)], inp)
    assert a.stdout == b.stdout


def test_interactive_as_llvm_symbolizer(prog, corosym, tmp_path):
    """pprof runs `llvm-symbolizer --inlining -demangle=false`, writes one
    line and waits for the answer before writing the next."""
    p, s = prog
    link = tmp_path / "llvm-symbolizer"
    os.symlink(corosym, link)
    proc = subprocess.Popen([str(link), "--inlining", "-demangle=false",
                             "--no-cache"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)
    try:
        for name in ("compute", "checksum", "main"):
            proc.stdin.write("CODE %s 0x%x\n" % (p, s[name]))
            proc.stdin.flush()
            got = []
            while True:
                line = proc.stdout.readline()
                assert line, "corosym closed its output"
                if line == "\n":
                    break
                got.append(line.rstrip("\n"))
            assert got[0] == name and got[1].startswith(str(SRC / "prog.c"))
        proc.stdin.write("nonsense\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == "??\n"
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    assert proc.returncode == 0                      # llvm's exit status
    assert "llvm-symbolizer: error: 'nonsense'" in proc.stderr.read()


@pytest.mark.parametrize("kind", ["zstd", "zlib-gnu"])
def test_compressed_sections(prog, corosym, llvm_symbolizer, tmp_path, kind):
    p, s = prog
    out = tmp_path / ("prog-" + kind)
    run(["objcopy", "--compress-debug-sections=" + kind, p, out])
    sections = run(["readelf", "-SW", out]).stdout
    assert (".zdebug_info" in sections) == (kind == "zlib-gnu")
    addrs = sample_addresses(p, limit=500)
    plain = run([corosym, "--no-cache", "--obj", p] + [hex(a) for a in addrs]).stdout
    ours = run([corosym, "--no-cache", "--obj", out] + [hex(a) for a in addrs]).stdout
    assert ours == plain and "prog.c:" in ours
    if kind == "zstd":
        theirs = run([llvm_symbolizer, "--obj", out] + [hex(a) for a in addrs]).stdout
        assert ours == theirs


def test_corrupt_inputs_reported_rest_symbolized(prog, corosym, tmp_path):
    p, s = prog
    data = p.read_bytes()
    trunc = tmp_path / "truncated"
    trunc.write_bytes(data[: len(data) // 3])
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x7fELF" + os.urandom(3000))
    text = tmp_path / "text"
    text.write_text("hello\n")
    # DWARF with its .debug_info overwritten by garbage
    bad = tmp_path / "baddwarf"
    sec = [l.split() for l in run(["readelf", "-SW", p]).stdout.splitlines()
           if ".debug_info" in l][0]
    i = sec.index(".debug_info")
    off, size = int(sec[i + 3], 16), int(sec[i + 4], 16)
    b = bytearray(data)
    b[off + 11: off + size] = os.urandom(size - 11)
    bad.write_bytes(bytes(b))
    c = s["compute"]
    inp = "".join("%s 0x%x\n" % (m, c) for m in
                  (trunc, junk, text, bad, p, tmp_path))
    r = run([corosym, "--no-cache"], input=inp, check=False, timeout=60)
    recs = records(r.stdout)
    assert len(recs) == 6
    assert recs[0] == recs[1] == recs[2] == recs[5] == "??\n??:0:0"
    assert recs[3].startswith("compute\n")           # symbols still work
    assert recs[4].startswith("compute\n%s:" % (SRC / "prog.c"))
    err = r.stderr
    assert "truncated" in err or "extends past the end" in err
    assert "'%s'" % text in err and "not an ELF file" in err
    assert "corrupt DWARF" in err
    assert "not a regular file" in err
    assert r.returncode == 2


def test_progress_on_request(prog, corosym):
    p, s = prog
    inp = ("0x%x\n" % s["compute"]) * 100000
    r = run([corosym, "--no-cache", "--progress", "--obj", p], input=inp)
    assert "corosym: 100000 addresses, done" in r.stderr
    assert "units read" in r.stderr
    assert r.stdout.count("compute\n") == 100000
    quiet = run([corosym, "--no-cache", "--obj", p], input=inp[:1000])
    assert quiet.stderr == ""
