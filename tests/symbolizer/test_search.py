"""Finding debug info: .build-id trees, BUILDID: requests, the binary
itself, .gnu_debuglink with its CRC, debuginfod, refusal of mismatched
build-ids, and the fallbacks for stripped modules (.symtab, .dynsym,
nothing)."""
import os
import random
import shutil
import socket
import subprocess

import pytest

from symutil import HERE, compile_c, functions, run

SRC = HERE / "src"


@pytest.fixture(scope="module")
def bins(tmp_path_factory, build):
    d = tmp_path_factory.mktemp("search")
    full = compile_c(d / "full", ["prog.c", "lib.c"],
                     flags=["-O2", "-g", "-I", str(SRC), "-fPIE", "-pie"])
    other = compile_c(d / "other", ["prog.c", "lib.c"],
                      flags=["-O1", "-g", "-I", str(SRC), "-no-pie"])
    so = compile_c(d / "libx.so", ["lib.c"], flags=["-O2", "-g", "-I",
                                                    str(SRC)], shared=True)
    run(["objcopy", "--only-keep-debug", full, d / "full.debug"])
    run(["objcopy", "--only-keep-debug", other, d / "other.debug"])
    run(["strip", "-g", full, "-o", d / "symonly"])
    run(["strip", "--strip-all", full, "-o", d / "bare"])
    run(["strip", "--strip-all", so, "-o", d / "libbare.so"])
    api = d / "api_test"
    ldflags = (build / "symbolizer" / "libcorosym.ldflags").read_text().split()
    run(["gcc", "-std=c11", "-Wall", "-Werror", "-I",
         build.parent / "symbolizer" / "include", SRC / "api_test.c",
         build / "symbolizer" / "libcorosym.a"] + ldflags + ["-o", api])
    nm = run(["nm", full]).stdout.split("\n")
    sym = {l.split()[2]: int(l.split()[0], 16) for l in nm
           if len(l.split()) == 3}
    onm = run(["nm", other]).stdout.split("\n")
    other_sym = {l.split()[2]: int(l.split()[0], 16) for l in onm
                 if len(l.split()) == 3}
    so_nm = run(["nm", so]).stdout.split("\n")
    so_sym = {l.split()[2]: int(l.split()[0], 16) for l in so_nm
              if len(l.split()) == 3}
    return dict(dir=d, full=full, other=other, so=so, api=api, sym=sym,
                other_sym=other_sym,
                so_sym=so_sym, bid=build_id(full), other_bid=build_id(other))


def build_id(path):
    out = run(["readelf", "-n", path]).stdout
    for line in out.splitlines():
        if "Build ID:" in line:
            return line.split()[-1]
    raise AssertionError("no build-id in %s" % path)


def make_tree(root, bid, src):
    p = root / ".build-id" / bid[:2]
    p.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, p / (bid[2:] + ".debug"))
    return root


def cs(corosym, args, inp=None, check=False):
    return run([corosym, "--no-cache", "--no-default-debug-dir"] + args,
               input=inp, check=check)


def compute_line():
    """Source line of compute()'s opening, read from prog.c."""
    for i, line in enumerate((SRC / "prog.c").read_text().splitlines(), 1):
        if line.startswith("int compute(int argc)"):
            return i
    raise AssertionError


def test_build_id_tree(bins, corosym, tmp_path):
    tree = make_tree(tmp_path / "tree", bins["bid"], bins["dir"] / "full.debug")
    a = bins["sym"]["compute"]
    r = cs(corosym, ["--debug-dir", tree, "--obj", bins["dir"] / "bare",
                     hex(a)], check=True)
    assert r.stdout == "compute\n%s:%d:1\n\n" % (SRC / "prog.c",
                                               compute_line() + 1)
    # BUILDID: request, module found only by its id
    r = cs(corosym, ["--debug-dir", tree],
           inp="BUILDID:%s %s\n" % (bins["bid"], hex(a)), check=True)
    assert r.stdout.startswith("compute\n%s:%d:1" % (SRC / "prog.c",
                                                     compute_line() + 1))
    # --build-id as the default module
    r = cs(corosym, ["--debug-dir", tree, "--build-id", bins["bid"], hex(a)],
           check=True)
    assert r.stdout.startswith("compute\n")


def test_build_id_tree_matches_llvm(bins, corosym, llvm_symbolizer, tmp_path):
    tree = make_tree(tmp_path / "tree", bins["bid"], bins["dir"] / "full.debug")
    addrs = sorted(bins["sym"][n] + k for n in ("compute", "checksum", "main",
                                                "lib_entry") for k in (0, 3, 9))
    inp = "".join("%s %s\n" % (bins["dir"] / "bare", hex(a)) for a in addrs)
    ours = cs(corosym, ["--debug-dir", tree], inp=inp, check=True).stdout
    theirs = run([llvm_symbolizer, "--debug-file-directory", tree],
                 input=inp).stdout
    assert ours == theirs
    assert ours.count("/prog.c:") + ours.count("/lib.c:") >= len(addrs)


def test_mismatched_build_id_refused(bins, corosym, tmp_path):
    # the other program's debug file placed under this program's id
    tree = make_tree(tmp_path / "bad", bins["bid"], bins["dir"] / "other.debug")
    a = bins["sym"]["compute"]
    r = cs(corosym, ["--debug-dir", tree, "--obj", bins["dir"] / "bare",
                     hex(a)])
    assert r.stdout == "??\n??:0:0\n\n"
    assert "build-id %s does not match wanted %s, refused" % (
        bins["other_bid"], bins["bid"]) in r.stderr
    # by BUILDID: nothing else to fall back to -> the error names both ids
    r = cs(corosym, ["--debug-dir", tree],
           inp="BUILDID:%s %s\n" % (bins["bid"], hex(a)))
    assert bins["other_bid"] in r.stderr and bins["bid"] in r.stderr
    assert r.returncode == 2


def test_binary_itself_and_search_order(bins, corosym, tmp_path):
    a = bins["sym"]["compute"]
    # the binary's own DWARF is used when no debug dir has the id
    r = cs(corosym, ["--obj", bins["full"], hex(a)], check=True)
    assert r.stdout.startswith("compute\n%s:" % (SRC / "prog.c"))
    # a --debug-dir tree comes before the binary itself: a refused file
    # there is reported, and the binary's own DWARF still answers
    tree = make_tree(tmp_path / "t2", bins["bid"], bins["dir"] / "other.debug")
    r = cs(corosym, ["--debug-dir", tree, "--obj", bins["full"], hex(a)],
           check=True)
    assert r.stdout.startswith("compute\n%s:" % (SRC / "prog.c"))
    assert "refused" in r.stderr


def test_debuglink_with_crc(bins, corosym, tmp_path):
    d = tmp_path / "dl"
    d.mkdir()
    shutil.copy(bins["dir"] / "full.debug", d / "prog.debug")
    run(["objcopy", "--strip-debug", "--add-gnu-debuglink=%s" % (d / "prog.debug"),
         bins["full"], d / "prog"])
    a = bins["sym"]["compute"]
    r = cs(corosym, ["--obj", d / "prog", hex(a)], check=True)
    assert r.stdout.startswith("compute\n%s:%d:1" % (SRC / "prog.c",
                                                     compute_line() + 1))
    # in .debug/ next to the binary
    (d / ".debug").mkdir()
    os.rename(d / "prog.debug", d / ".debug" / "prog.debug")
    r = cs(corosym, ["--obj", d / "prog", hex(a)], check=True)
    assert r.stdout.startswith("compute\n%s:" % (SRC / "prog.c"))
    # a changed file has another CRC: refused, symbols still name it
    with open(d / ".debug" / "prog.debug", "ab") as f:
        f.write(b"\0")
    r = cs(corosym, ["--obj", d / "prog", hex(a)])
    assert r.stdout == "compute\n??:0:0\n\n"
    assert ".gnu_debuglink CRC" in r.stderr and "refused" in r.stderr


def test_stripped_fallbacks(bins, corosym, llvm_symbolizer):
    a = bins["sym"]["compute"]
    # .symtab only: function (+offset with --offsets), no line
    r = cs(corosym, ["--obj", bins["dir"] / "symonly", hex(a + 5)], check=True)
    assert r.stdout == "compute\n??:0:0\n\n"
    r2 = run([llvm_symbolizer, "--obj", bins["dir"] / "symonly", hex(a + 5)])
    assert r.stdout == r2.stdout
    r = cs(corosym, ["--offsets", "--obj", bins["dir"] / "symonly",
                     hex(a + 5)], check=True)
    assert r.stdout == "compute+0x5\n??:0:0\n\n"
    # .dynsym only (stripped shared object): exported function found
    b = bins["so_sym"]["lib_entry"]
    r = cs(corosym, ["--offsets", "--obj", bins["dir"] / "libbare.so",
                     hex(b + 2)], check=True)
    assert r.stdout == "lib_entry+0x2\n??:0:0\n\n"
    # nothing at all: raw address, a warning, still exit 0
    r = cs(corosym, ["--obj", bins["dir"] / "bare", hex(a)])
    assert r.stdout == "??\n??:0:0\n\n"
    assert "no debug info and no symbols" in r.stderr
    assert r.returncode == 0


def test_batch_name_and_data_api(bins, tmp_path, build):
    """The parts of corosym.h the corosym command is built on: the batch
    walk gives every address the frames corosym_symbolize gives (and says
    "same" only when they are), the radix sort is stable, name -> address
    follows the symbol table, and a DATA lookup names the variable."""
    exe = tmp_path / "batch_api"
    ldflags = (build / "symbolizer" / "libcorosym.ldflags").read_text().split()
    run(["gcc", "-std=c11", "-Wall", "-Werror", "-I",
         build.parent / "symbolizer" / "include", SRC / "batch_api.c",
         build / "symbolizer" / "libcorosym.a"] + ldflags + ["-o", exe])
    addrs = [0x10, 0x10]
    for lo, size, _ in functions(bins["full"]):
        addrs += list(range(lo, lo + size, 3)) + [lo, lo + size]
    random.Random(7).shuffle(addrs)
    table = bins["sym"]["table"]
    r = run([exe, bins["full"], "sym:compute", "sym:op_add", "sym:nope",
             "data:%#x" % (table + 8), "data:0x10"],
            input="".join("%x\n" % a for a in addrs))
    out = r.stdout.splitlines()
    walk = out[0].split()
    assert walk[:2] == ["walk", str(len(addrs))], out[0]
    assert int(walk[3]) > len(addrs) // 4  # neighbours share answers
    assert out[1] == "sym compute 0 %#x" % bins["sym"]["compute"]
    assert out[2] == "sym op_add 0 %#x" % bins["sym"]["op_add"]
    assert out[3] == "sym nope -1 0x0"
    # as llvm-symbolizer-19 answers (-O2: no DWARF location for the static
    # array, so the local symbol's STT_FILE and line 0); declarations of
    # DWARF variables go through the same call in test_data_vars.py
    assert out[4] == "data ok table %#x 1024 lib.c 0" % table
    assert out[5].startswith("data no symbol or line covers the address - ")
    assert out[6] == "stats 1 1"


def test_library_api(bins, tmp_path):
    a = bins["sym"]["compute"]
    tree = make_tree(tmp_path / "tree", bins["bid"], bins["dir"] / "full.debug")
    # by build-id only, through a debug dir; and a file offset
    r = run([bins["api"], "--debug-dir", tree, "--buildid", bins["bid"], "-",
             hex(a), "0x10"])
    lines = r.stdout.splitlines()
    assert lines[0] == "%s ok 1 compute@%s:%d:1 compute+0x0" % (
        hex(a), SRC / "prog.c", compute_line() + 1)
    assert lines[1] == "0x10 no symbol or line covers the address 1 ??@??:0:0"
    assert lines[2] == "flags 15 buildid 20"
    assert lines[3] == "error -"
    # symbols only: miss reason "no line"
    r = run([bins["api"], bins["dir"] / "symonly", hex(a + 4)])
    assert r.stdout.splitlines()[0] == (
        "%s no line information for the address 1 compute@??:0:0 "
        "compute+0x4" % hex(a + 4))
    # missing file: module error, lookups say so
    r = run([bins["api"], tmp_path / "nope", "0x10"])
    assert r.stdout.splitlines()[0] == (
        "0x10 module could not be loaded 1 ??@??:0:0")
    assert "No such file or directory" in r.stdout
    # file offset -> vaddr through PT_LOAD: from the binary, and from the
    # program headers an only-keep-debug file keeps (non-PIE: 0x400000)
    b = bins["other_sym"]["compute"]
    otree = make_tree(tmp_path / "otree", bins["other_bid"],
                      bins["dir"] / "other.debug")
    for args in ([bins["other"]], ["--debug-dir", otree, "--buildid",
                                   bins["other_bid"], "-"]):
        r = run([bins["api"]] + args + ["o%s" % hex(b - 0x400000)])
        assert r.stdout.startswith("%s ok 1 compute@%s:" % (
            hex(b), SRC / "prog.c")), r.stdout


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def test_debuginfod(bins, corosym, tmp_path):
    srv = tmp_path / "srv"
    srv.mkdir()
    shutil.copy(bins["dir"] / "full.debug", srv / "full.debug")
    a = bins["sym"]["compute"]
    cmd = ["unshare", "-n", "/usr/bin/python3", HERE / "debuginfod_run.py",
           srv, str(free_port()), tmp_path / "db.sqlite", tmp_path / "cache",
           "--", corosym, "--no-cache", "--no-default-debug-dir",
           "%s %s" % (bins["dir"] / "bare", hex(a)),
           "BUILDID:%s %s" % (bins["bid"], hex(a))]
    if os.getuid() != 0:
        cmd[1] = "-rn"
    r = run(cmd, check=False)
    assert r.returncode == 0, r.stderr
    want = "compute\n%s:%d:1\n\n" % (SRC / "prog.c", compute_line() + 1)
    assert r.stdout == want * 2, r.stdout
    # the fetched file sits in the fresh client cache
    cached = list((tmp_path / "cache").rglob("debuginfo"))
    assert cached, list((tmp_path / "cache").rglob("*"))
