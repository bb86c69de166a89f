"""Truncated modules are errors every run (cached or not), DATA requests
against llvm-symbolizer-19, blank input lines, FRAME documented as not
supported."""
import struct

import pytest

from symutil import HERE, compile_c, records, run

SRC = HERE / "src"


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    d = tmp_path_factory.mktemp("modules")
    p = compile_c(d / "prog", ["prog.c", "lib.c"],
                  flags=["-O2", "-g", "-I", str(SRC)])
    nm = run(["nm", p]).stdout.split("\n")
    syms = {l.split()[2]: (int(l.split()[0], 16), l.split()[1])
            for l in nm if len(l.split()) == 3}
    symonly = d / "symonly"      # no DWARF; keeps the STT_FILE symbols
    run(["objcopy", "-R", ".debug_*", p, symonly])
    bare = d / "bare"
    run(["strip", "--strip-all", p, "-o", bare])
    return p, syms, symonly, bare


def shoff(path):
    return struct.unpack_from("<Q", path.read_bytes(), 0x28)[0]


def cs(corosym, args, inp=None):
    return run([corosym, "--no-default-debug-dir", "--no-debuginfod"] + args,
               input=inp, check=False)


@pytest.mark.parametrize("size", [64, 3000, "half"])
def test_truncated_elf_is_an_error_every_run(prog, corosym, tmp_path, size):
    p, s, _, _ = prog
    data = p.read_bytes()
    n = len(data) // 2 if size == "half" else size
    cut = tmp_path / "cut"
    cut.write_bytes(data[:n])
    want = ("corosym: error: '%s': section header table goes past the end "
            "of the file: e_shoff = 0x%x (truncated?)\n" % (cut, shoff(p)))
    cache = tmp_path / "cache"
    for _ in range(2):                       # cold, then "warm"
        r = cs(corosym, ["--cache-dir", cache, "--obj=%s" % cut, "0x1000"])
        assert r.stderr == want
        assert r.stdout == "??\n??:0:0\n\n"
        assert r.returncode == 2
        r = cs(corosym, ["--cache-dir", cache], "CODE %s 0x1000\n" % cut)
        assert r.stderr == want and r.returncode == 2
        assert r.stdout == "??\n??:0:0\n\n"
    # nothing was cached for it
    assert not cache.exists() or not list(cache.iterdir())


def test_truncated_section_table_and_header(prog, corosym, tmp_path):
    p, s, _, _ = prog
    data = p.read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(data[: shoff(p) + 64 + 10])   # two headers and a bit
    r = cs(corosym, ["--no-cache", "--obj", cut, "0x1000"])
    assert r.stderr == ("corosym: error: '%s': section table goes past the "
                        "end of file (truncated?)\n" % cut)
    assert r.returncode == 2
    short = tmp_path / "short"
    short.write_bytes(data[:40])
    r = cs(corosym, ["--no-cache", "--obj", short, "0x1000"])
    assert r.stderr == ("corosym: error: '%s': invalid buffer: the size (40) "
                        "is smaller than an ELF header (64) (truncated?)\n"
                        % short)
    assert r.returncode == 2


def test_truncated_debug_file_is_refused_with_reason(prog, corosym, tmp_path):
    """A truncated file in a .build-id tree is named in a warning and the
    search goes on (here: to the binary's own symbols)."""
    p, s, symonly, _ = prog
    bid = [l.split()[-1] for l in run(["readelf", "-n", p]).stdout.splitlines()
           if "Build ID:" in l][0]
    dbg = tmp_path / "d" / ".build-id" / bid[:2] / (bid[2:] + ".debug")
    dbg.parent.mkdir(parents=True)
    dbg.write_bytes(p.read_bytes()[:3000])
    r = cs(corosym, ["--no-cache", "--debug-dir", tmp_path / "d", "--obj",
                     symonly, hex(s["compute"][0])])
    assert r.stdout == "compute\n??:0:0\n\n"
    assert r.stderr == ("corosym: warning: '%s': %s: section header table "
                        "goes past the end of the file: e_shoff = 0x%x "
                        "(truncated?)\n" % (symonly, dbg, shoff(p)))
    assert r.returncode == 0


def test_bare_module_warns_every_run_and_is_not_cached(prog, corosym,
                                                       tmp_path):
    _, _, _, bare = prog
    cache = tmp_path / "cache"
    for _ in range(2):
        r = cs(corosym, ["--cache-dir", cache, "--obj", bare, "0x1000"])
        assert r.stderr == ("corosym: warning: '%s': %s: no debug info and "
                            "no symbols\n" % (bare, bare))
        assert r.stdout == "??\n??:0:0\n\n" and r.returncode == 0
    assert not cache.exists() or not list(cache.iterdir())


@pytest.mark.parametrize("threads", ["1", "4"])
def test_corrupt_dwarf_warns_every_run(prog, corosym, tmp_path, threads):
    """A module whose DWARF is corrupt is not cached: the warning is
    repeated on the next run, the symbols still answer; the same when
    four DIE walkers and the line pass read it at once."""
    import os
    p, s, _, _ = prog
    data = bytearray(p.read_bytes())
    sec = [l.split() for l in run(["readelf", "-SW", p]).stdout.splitlines()
           if ".debug_info" in l][0]
    i = sec.index(".debug_info")
    off, size = int(sec[i + 3], 16), int(sec[i + 4], 16)
    data[off + 11: off + size] = os.urandom(size - 11)
    bad = tmp_path / "bad"
    bad.write_bytes(bytes(data))
    cache = tmp_path / "cache"
    errs = []
    for _ in range(2):
        r = cs(corosym, ["--cache-dir", cache, "--obj", bad,
                         "--threads=" + threads, hex(s["compute"][0])])
        assert r.stdout.startswith("compute\n") and r.returncode == 0
        errs.append(r.stderr)
    assert "corrupt DWARF" in errs[0] and errs[0] == errs[1]
    assert not cache.exists() or not list(cache.iterdir())


def data_queries(module, syms):
    return "".join("DATA %s 0x%x\n" % (module, a)
                   for name, (a, t) in sorted(syms.items())
                   if t in "tTdDbBrR")


def test_data_matches_llvm_without_dwarf(prog, corosym, llvm_symbolizer):
    """Symbols only: every DATA answer is llvm's, STT_FILE names of local
    functions and objects as FILE:0."""
    p, s, symonly, _ = prog
    inp = data_queries(symonly, s)
    a = cs(corosym, ["--no-cache"], inp)
    b = run([llvm_symbolizer], input=inp, check=False)
    assert a.stdout == b.stdout
    recs = records(a.stdout)
    assert "ops\n%d 24\nprog.c:0" % s["ops"][0] in recs          # object
    assert "scan\n%d 114\nlib.c:0" % s["scan"][0] in recs       # function
    assert "completed.0\n%d 1\ncrtstuff.c:0" % s["completed.0"][0] in recs
    assert "main\n%d " % s["main"][0] in a.stdout                # global
    assert "??:?\n" in a.stdout
    assert a.returncode == 0


def test_data_code_addresses_match_llvm_with_dwarf(prog, corosym,
                                                   llvm_symbolizer):
    """With DWARF, function addresses agree too (llvm finds no variable
    there and prints the STT_FILE name); data objects with DWARF
    variables are test_data_vars.py's."""
    p, s, _, _ = prog
    code = {k: v for k, v in s.items() if v[1] in "tT"}
    inp = data_queries(p, code)
    a = cs(corosym, ["--no-cache"], inp)
    b = run([llvm_symbolizer], input=inp, check=False)
    assert a.stdout == b.stdout
    assert "prog.c:0\n" in a.stdout


def test_blank_lines_like_llvm(prog, corosym, llvm_symbolizer):
    p, s, _, _ = prog
    for inp in ("\n", "\r\n", "\n\n"):
        a = cs(corosym, ["--no-cache"], inp)
        b = run([llvm_symbolizer], input=inp, check=False)
        assert a.stdout == b.stdout == "??\n??:0:0\n\n" * inp.count("\n")
        assert a.stderr == "" and a.returncode == 0
    # with a default module, and as arguments (llvm skips empty ones)
    inp = "\n0x%x\n" % s["compute"][0]
    a = cs(corosym, ["--no-cache", "--obj", p], inp)
    b = run([llvm_symbolizer, "--obj", p], input=inp, check=False)
    assert a.stdout == b.stdout and a.stderr == "" and a.returncode == 0
    args = ["--obj", p, "", hex(s["compute"][0]), ""]
    a = cs(corosym, ["--no-cache"] + args)
    b = run([llvm_symbolizer] + args, check=False)
    assert a.stdout == b.stdout and len(records(a.stdout)) == 1
    assert a.stderr == "" and a.returncode == 0
    # a line of blanks is not empty: llvm and corosym both report it
    a = cs(corosym, ["--no-cache"], "  \n")
    assert a.stderr == ("corosym: error: '  ': no input filename has been "
                        "specified\n")
    assert a.returncode == 2


def test_frame_is_documented_as_unsupported(prog, corosym):
    p, s, _, _ = prog
    h = run([corosym, "--help"]).stdout
    assert ("FRAME requests (local variables) are not supported: each "
            "answers ??\n") in h
    doc = (HERE.parent.parent / "docs" / "symbolizer.md").read_text()
    assert "FRAME ]" not in doc                 # not among the input forms
    assert "`FRAME` requests (local variables) are not supported" in doc
    r = cs(corosym, ["--no-cache"], "FRAME %s 0x%x\n" % (p, s["compute"][0]))
    assert r.stdout == "??\n\n" and r.returncode == 0


def test_two_warnings_one_prefix(prog, corosym, tmp_path):
    """Two refused debug files: one warning line, one "corosym: "."""
    p, s, symonly, _ = prog
    bid = [l.split()[-1] for l in run(["readelf", "-n", p]).stdout.splitlines()
           if "Build ID:" in l][0]
    dbgs = []
    for d in ("d1", "d2"):
        f = tmp_path / d / ".build-id" / bid[:2] / (bid[2:] + ".debug")
        f.parent.mkdir(parents=True)
        f.write_bytes(p.read_bytes()[:3000])
        dbgs.append(f)
    r = cs(corosym, ["--no-cache", "--debug-dir", tmp_path / "d1",
                     "--debug-dir", tmp_path / "d2", "--obj", symonly,
                     hex(s["compute"][0])])
    why = ("section header table goes past the end of the file: "
           "e_shoff = 0x%x (truncated?)" % shoff(p))
    assert r.stderr == "corosym: warning: '%s': %s: %s; %s: %s\n" % (
        symonly, dbgs[0], why, dbgs[1], why)
    assert r.stdout == "compute\n??:0:0\n\n" and r.returncode == 0
