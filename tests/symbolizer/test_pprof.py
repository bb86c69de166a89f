"""corosym pprof: symbolizing raw profiles by build-id and file name.

The fixture (pprof_fixture.py) builds a PIE program and a shared object
with inlined functions, strips them, and puts their debug files in a
.build-id tree.  Raw profiles carry only mappings (build-id, production
path, process addresses) and addresses; the expected symbols come from
llvm-symbolizer-19 on the unstripped binaries.
"""
import gzip
import os
import subprocess

import pytest

import pprof_fixture as pf
import pprof_wire

ISOLATE = ["--no-default-debug-dir", "--no-debuginfod", "--no-cache"]


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    return pf.Fixture(tmp_path_factory.mktemp("pprof-fixture"))


def corosym(args, **kw):
    env = dict(os.environ)
    env.pop("DEBUGINFOD_URLS", None)
    return subprocess.run(pf.corosym_pprof() + [str(a) for a in args],
                          capture_output=True, text=True, env=env,
                          timeout=60, **kw)


def expected(fx, addrs):
    """{role: llvm-symbolizer frames} for the roles of the fixture."""
    prog_roles = ["hot_leaf", "cold", "main"]
    lib_roles = ["lib_leaf", "lib_entry"]
    out = dict(zip(prog_roles, pf.llvm_frames(fx.prog, [addrs[r] for r in
                                                        prog_roles])))
    out.update(zip(lib_roles, pf.llvm_frames(fx.lib, [addrs[r] for r in
                                                      lib_roles])))
    return out


def test_symbolize_stripped_profile_by_build_id(fx, tmp_path):
    raw, out = tmp_path / "raw.pb.gz", tmp_path / "out.pb.gz"
    b, locs, addrs = fx.raw_profile(raw)
    r = corosym([raw, "-o", out, "--debug-dir", fx.debugdir] + ISOLATE)
    assert r.returncode == 0, r.stderr
    err = r.stderr.splitlines()
    assert err[-1] == ("corosym pprof: mappings: 2 found, 1 missing; "
                       "locations: 5 of 6 symbolized")
    assert err[0].startswith("corosym pprof: mapping 3 ([vdso]): ")
    assert len(err) == 2
    assert out.read_bytes()[:2] == b"\x1f\x8b"      # gzip, as pprof writes

    p = pprof_wire.read(out)
    want = expected(fx, addrs)
    for role, frames in want.items():
        assert p.frames(locs[role]) == frames, role
    # the names the fixture source promises, innermost first
    assert [f[0] for f in p.frames(locs["hot_leaf"])] == [
        "leaf_mix", "middle_step", "hot_loop"]
    assert [f[0] for f in p.frames(locs["lib_leaf"])] == [
        "lib_square", "lib_inner"]
    assert p.frames(locs["hot_leaf"])[0][2] == pf.mark_line(pf.PROG_C,
                                                            "leaf_mix")
    assert p.frames(locs["hot_leaf"])[2][2] == pf.mark_line(pf.PROG_C,
                                                            "hot_call")
    # the unresolvable location is left exactly as it was
    assert p.locations[locs["vdso"]]["lines"] == []
    assert p.locations[locs["vdso"]]["address"] == 0x7ffff7fc1a30
    # mapping flags
    for mid in (1, 2):
        m = p.mappings[mid]
        assert (m["has_functions"], m["has_filenames"],
                m["has_line_numbers"], m["has_inline_frames"]) == (1, 1, 1, 1)
    assert p.mappings[3]["has_functions"] == 0
    assert p.mappings[1]["build_id"] == fx.ids["prog"]
    assert p.mappings[1]["filename"] == "/opt/prod/bin/prog"
    # samples, types and addresses unchanged
    assert p.samples == [(s[0], s[1]) for s in b.samples]
    assert p.sample_types == [("samples", "count"), ("cpu", "nanoseconds")]
    for role, lid in locs.items():
        assert p.locations[lid]["address"] == b.locations[lid - 1]["address"]
    # functions are deduplicated and carry their declaration line
    names = [f["name"] for f in p.functions.values()]
    assert len(names) == len(set(names))
    hot = [f for f in p.functions.values() if f["name"] == "hot_loop"][0]
    assert hot["start_line"] == pf.PROG_C.splitlines().index(
        "__attribute__((noinline)) int hot_loop(int n)") + 1
    assert hot["system_name"] == "hot_loop"
    assert hot["filename"].endswith("prog.c")


def test_symbolize_by_file_name_without_build_id(fx, tmp_path):
    raw, out = tmp_path / "raw.pb", tmp_path / "out.pb.gz"
    _, locs, addrs = fx.raw_profile(raw, prog_file=fx.prog,
                                    lib_file=fx.lib, prog_bid="", lib_bid="",
                                    compress=False, extra_mapping=False)
    r = corosym([raw, "-o", out] + ISOLATE)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ("corosym pprof: mappings: 2 found, 0 missing; "
                        "locations: 5 of 5 symbolized\n")
    p = pprof_wire.read(out)
    for role, frames in expected(fx, addrs).items():
        assert p.frames(locs[role]) == frames, role


def test_no_debug_info_falls_back_to_dynsym(fx, tmp_path):
    """Stripped DSO, no debug files: names from .dynsym, no lines."""
    raw, out = tmp_path / "raw.pb.gz", tmp_path / "out.pb.gz"
    _, locs, _ = fx.raw_profile(raw, prog_file=fx.stripped["prog"],
                                lib_file=fx.stripped["libfix.so"],
                                extra_mapping=False)
    r = corosym([raw, "-o", out] + ISOLATE)
    assert r.returncode == 0, r.stderr
    p = pprof_wire.read(out)
    lib = p.mappings[2]
    assert lib["has_functions"] == 1
    assert lib["has_line_numbers"] == 0 and lib["has_inline_frames"] == 0
    assert [f[0] for f in p.frames(locs["lib_leaf"])] == ["lib_inner"]
    assert [f[0] for f in p.frames(locs["lib_entry"])] == ["lib_entry"]
    assert p.frames(locs["lib_entry"])[0][2] == 0


def test_mismatched_build_id_is_refused(fx, tmp_path):
    """The mapping names the program's file but the library's build-id."""
    raw, out = tmp_path / "raw.pb.gz", tmp_path / "out.pb.gz"
    wrong = "00" * 20
    _, locs, _ = fx.raw_profile(raw, prog_file=fx.prog, prog_bid=wrong,
                                lib_file=fx.lib, extra_mapping=False)
    r = corosym([raw, "-o", out] + ISOLATE)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert lines[-1] == ("corosym pprof: mappings: 1 found, 1 missing; "
                         "locations: 2 of 5 symbolized")
    bad = [ln for ln in lines if ln.startswith("corosym pprof: mapping 1 ")]
    assert len(bad) == 1 and wrong in bad[0], r.stderr
    p = pprof_wire.read(out)
    assert p.locations[locs["hot_leaf"]]["lines"] == []
    assert p.mappings[1]["has_functions"] == 0


def test_plain_output_stdin_stdout_and_quiet(fx, tmp_path):
    raw = tmp_path / "raw.pb.gz"
    _, locs, _ = fx.raw_profile(raw)
    r = subprocess.run(pf.corosym_pprof() + [
        "-", "-o", "-", "--no-gzip", "-q", "--debug-dir", str(fx.debugdir)] +
        ISOLATE, input=raw.read_bytes(), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    assert r.stdout[:2] != b"\x1f\x8b"
    p = pprof_wire.Profile(r.stdout)
    assert p.frames(locs["main"])[0][0] == "main"


def test_already_symbolized_locations_are_kept(fx, tmp_path):
    raw, out = tmp_path / "raw.pb.gz", tmp_path / "out.pb.gz"
    b = pprof_wire.Builder()
    m = b.mapping(pf.PROG_BASE + 0x1000, pf.PROG_BASE + 0x2000, 0x1000,
                  "/opt/prod/bin/prog", fx.ids["prog"])
    f = b.function("precomputed", "precomputed", "x.c", 1)
    a = fx.addresses()
    keep = b.location(m, pf.PROG_BASE + a["main"], [(f, 99)])
    b.sample([keep], [4])
    b.write(raw)
    r = corosym([raw, "-o", out, "--debug-dir", fx.debugdir] + ISOLATE)
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines()[-1] == (
        "corosym pprof: mappings: 1 found, 0 missing; locations: 0 of 1 "
        "symbolized (1 already had lines)")
    assert pprof_wire.read(out).frames(keep) == [("precomputed", "x.c", 99,
                                                  0)]
    r = corosym([raw, "-o", out, "--force", "--debug-dir", fx.debugdir] +
                ISOLATE)
    assert r.returncode == 0, r.stderr
    assert pprof_wire.read(out).frames(keep)[0][0] == "main"


# ---- bad input: one line on stderr, documented exit code, no output ----

def one_line_error(r, code, *words):
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("corosym pprof: "), lines[0]
    for w in words:
        assert w in lines[0], lines[0]
    assert "Traceback" not in r.stderr


@pytest.fixture(scope="module")
def good_gz(fx, tmp_path_factory):
    p = tmp_path_factory.mktemp("pprof-bad") / "raw.pb.gz"
    fx.raw_profile(p)
    return p.read_bytes()


def test_truncated_gzip(tmp_path, good_gz):
    bad, out = tmp_path / "t.pb.gz", tmp_path / "out.pb.gz"
    bad.write_bytes(good_gz[:len(good_gz) // 2])
    r = corosym([bad, "-o", out] + ISOLATE)
    one_line_error(r, 4, str(bad), "truncated")
    assert not out.exists()


def test_corrupt_gzip(tmp_path, good_gz):
    bad, out = tmp_path / "c.pb.gz", tmp_path / "out.pb.gz"
    data = bytearray(good_gz)
    for i in range(12, 40):
        data[i] ^= 0x5A
    bad.write_bytes(bytes(data))
    r = corosym([bad, "-o", out] + ISOLATE)
    one_line_error(r, 4, str(bad), "gzip")
    assert not out.exists()


def test_gzip_with_bad_crc(tmp_path, good_gz):
    bad, out = tmp_path / "crc.pb.gz", tmp_path / "out.pb.gz"
    data = bytearray(good_gz)
    data[-8] ^= 0xFF                       # CRC32 of the trailer
    bad.write_bytes(bytes(data))
    r = corosym([bad, "-o", out] + ISOLATE)
    one_line_error(r, 4, "gzip")


def test_not_a_profile(tmp_path):
    bad, out = tmp_path / "x.pb", tmp_path / "out.pb.gz"
    bad.write_bytes(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01garbage")
    r = corosym([bad, "-o", out] + ISOLATE)
    one_line_error(r, 5, "not a pprof profile")
    bad.write_bytes(gzip.compress(b"\x0a\x05\x08"))   # truncated message
    r = corosym([bad, "-o", out] + ISOLATE)
    one_line_error(r, 5, "not a pprof profile")
    bad.write_bytes(b"")
    r = corosym([bad, "-o", out] + ISOLATE)
    one_line_error(r, 5, "empty")


def _limited_as():
    """Run the child with 1 GiB of address space: a decoder that allocates
    per element fails with "out of memory" instead of finishing."""
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("kind", ["empty-locations", "empty-labels"])
def test_gzip_bomb_is_refused_early(tmp_path, kind):
    """Issue 14 item 7: 2-byte empty submessages decode to 80+ bytes each;
    a 65 KB gzip of 64 MB of them took 5 GB and 58 s.  Top-level floods
    are refused by a scan before decoding, nested ones (labels of one
    sample) by the decoder's allocation budget (16 bytes per byte)."""
    if kind == "empty-locations":
        plain = b"\x22\x00" * (32 << 20)            # field 4, length 0
    else:
        n = 16 << 20                                # field 3 in a Sample
        body = b"\x1a\x00" * n
        plain = b"\x12" + pprof_wire.varint(len(body)) + body
    bad, out = tmp_path / "bomb.pb.gz", tmp_path / "out.pb.gz"
    bad.write_bytes(gzip.compress(plain, 9))
    assert bad.stat().st_size < 100 << 10
    r = corosym([bad, "-o", out] + ISOLATE, preexec_fn=_limited_as)
    one_line_error(r, 6, str(bad), "profile decodes to more than",
                   "(%d-byte message): refused as a decompression bomb"
                   % len(plain))
    assert not out.exists()


def test_profile_with_broken_references(tmp_path):
    bad, out = tmp_path / "refs.pb.gz", tmp_path / "out.pb.gz"
    b = pprof_wire.Builder()
    m = b.mapping(0x1000, 0x2000, 0, "/bin/x")
    b.location(m, 0x1100)
    b.sample([7], [1])                     # location 7 does not exist
    b.write(bad)
    r = corosym([bad, "-o", out] + ISOLATE)
    one_line_error(r, 5, "sample 0 refers to missing location 7")
    b.samples = [([1], [1])]
    b.locations[0]["mapping_id"] = 9
    b.write(bad)
    r = corosym([bad, "-o", out] + ISOLATE)
    one_line_error(r, 5, "location 1 refers to missing mapping 9")
    b.locations[0]["mapping_id"] = 1
    b.mappings[0]["filename"] = 40         # string index out of range
    b.write(bad)
    r = corosym([bad, "-o", out] + ISOLATE)
    one_line_error(r, 5, "mapping 1 filename string index 40 out of range")


def test_missing_input_and_unwritable_output(tmp_path, good_gz):
    r = corosym([tmp_path / "nope.pb.gz", "-o", tmp_path / "o"] + ISOLATE)
    one_line_error(r, 3, "nope.pb.gz", "No such file")
    src = tmp_path / "in.pb.gz"
    src.write_bytes(good_gz)
    r = corosym([src, "-o", tmp_path / "no-dir" / "o.pb.gz", "-q"] + ISOLATE)
    one_line_error(r, 3, "no-dir")


def test_usage_errors(tmp_path):
    for args, words in (([], "no input"),
                        (["a.pb.gz"], "no output"),
                        (["a", "b", "-o", "c"], "more than one input"),
                        (["--bogus", "a"], "bad option"),
                        (["a", "-o", "b", "--sample-index", "0"],
                         "--sample-index only applies to --folded")):
        one_line_error(corosym(args), 2, *words)
    r = corosym(["--help"])
    assert r.returncode == 0
    assert "Exit status: 0 done" in r.stdout


CXX_SRC = r"""
namespace ns {
struct Acc {
    int v;
    __attribute__((noinline)) int step(int x);
};
int Acc::step(int x)
{
    v += x * 3;
    return v;
}
}
int main(int argc, char **)
{
    ns::Acc a{argc};
    return a.step(argc) & 1;
}
"""


def test_cxx_names_demangled_with_system_name(tmp_path):
    """Function.name is demangled, Function.system_name keeps the symbol.
    A mapping with start = limit = offset = 0 carries module addresses."""
    src, exe = tmp_path / "acc.cc", tmp_path / "acc"
    src.write_text(CXX_SRC)
    pf.run(["g++", "-O1", "-g", "-o", exe, src])
    addr = pf.symbols(exe)["_ZN2ns3Acc4stepEi"][0]
    b = pprof_wire.Builder()
    m = b.mapping(0, 0, 0, str(exe))
    lid = b.location(m, addr)
    b.sample([lid], [1])
    raw, out = tmp_path / "raw.pb.gz", tmp_path / "out.pb.gz"
    b.write(raw)
    r = corosym([raw, "-o", out] + ISOLATE)
    assert r.returncode == 0, r.stderr
    p = pprof_wire.read(out)
    fn = p.functions[p.locations[lid]["lines"][0]["function_id"]]
    assert fn["name"] == "ns::Acc::step(int)"
    assert fn["system_name"] == "_ZN2ns3Acc4stepEi"
    want = pf.llvm_frames(exe, [addr])[0]
    assert p.frames(lid) == [("ns::Acc::step(int)",) + want[0][1:]]
    assert p.locations[lid]["lines"][0]["line"] == 9       # v += x * 3;
    assert fn["start_line"] == 7


def test_debug_info_from_debuginfod(fx, tmp_path):
    """Mappings resolved through a real debuginfod (private netns, loopback
    only) serving the fixture's debug files, found by build-id."""
    import shutil
    import socket
    srv = tmp_path / "srv"
    srv.mkdir()
    for f in fx.debugdir.rglob("*.debug"):
        shutil.copy(f, srv / f.name)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    raw, out = tmp_path / "raw.pb.gz", tmp_path / "out.pb.gz"
    _, locs, addrs = fx.raw_profile(raw, extra_mapping=False)
    cmd = ["unshare", "-rn" if os.getuid() else "-n", "/usr/bin/python3",
           pf.ROOT / "tests" / "symbolizer" / "debuginfod_run.py", srv,
           port, tmp_path / "db.sqlite", tmp_path / "cache", "--"] + \
        pf.corosym_pprof() + [raw, "-o", out, "--no-cache",
                              "--no-default-debug-dir"]
    r = subprocess.run([str(c) for c in cmd], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines()[-1] == (
        "corosym pprof: mappings: 2 found, 0 missing; locations: 5 of 5 "
        "symbolized")
    p = pprof_wire.read(out)
    want = expected(fx, addrs)
    for role in ("hot_leaf", "lib_leaf", "main"):
        assert [f[0] for f in p.frames(locs[role])] == [
            f[0] for f in want[role]], role
        assert [f[2] for f in p.frames(locs[role])] == [
            f[2] for f in want[role]], role
    assert list((tmp_path / "cache").rglob("debuginfo"))


def test_mapping_with_build_id_only(fx, tmp_path):
    """No file name at all: the build-id alone finds the debug file."""
    raw, out = tmp_path / "raw.pb.gz", tmp_path / "out.pb.gz"
    _, locs, addrs = fx.raw_profile(raw, prog_file="", lib_file="",
                                    extra_mapping=False)
    r = corosym([raw, "-o", out, "--debug-dir", fx.debugdir] + ISOLATE)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ("corosym pprof: mappings: 2 found, 0 missing; "
                        "locations: 5 of 5 symbolized\n")
    p = pprof_wire.read(out)
    for role, frames in expected(fx, addrs).items():
        assert p.frames(locs[role]) == frames, role
    assert p.mappings[1]["filename"] == ""


def test_progress_option(fx, tmp_path):
    raw, out = tmp_path / "raw.pb.gz", tmp_path / "out.pb.gz"
    fx.raw_profile(raw, extra_mapping=False)
    r = corosym([raw, "-o", out, "--progress", "--debug-dir", fx.debugdir] +
                ISOLATE)
    assert r.returncode == 0, r.stderr
    assert "units read" in r.stderr
    assert r.stderr.endswith("locations: 5 of 5 symbolized\n")
    r = corosym([raw, "-o", out, "--debug-dir", fx.debugdir] + ISOLATE)
    assert "units read" not in r.stderr      # stderr is a pipe: quiet


def test_corrupt_module_does_not_stop_the_rest(fx, tmp_path):
    """A truncated shared object: its mapping is reported missing in one
    line, the program's locations are still symbolized."""
    bad = tmp_path / "libfix.so"
    bad.write_bytes(fx.lib.read_bytes()[:3000])
    raw, out = tmp_path / "raw.pb.gz", tmp_path / "out.pb.gz"
    _, locs, _ = fx.raw_profile(raw, prog_file=fx.prog, lib_file=bad,
                                lib_bid="", extra_mapping=False)
    r = corosym([raw, "-o", out] + ISOLATE)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 2, r.stderr
    assert lines[0].startswith("corosym pprof: mapping 2 (%s): " % bad)
    assert lines[1] == ("corosym pprof: mappings: 1 found, 1 missing; "
                        "locations: 3 of 5 symbolized")
    p = pprof_wire.read(out)
    assert p.frames(locs["main"])[0][0] == "main"
    assert p.locations[locs["lib_leaf"]]["lines"] == []


@pytest.mark.parametrize("layout", ["gcc-nopie", "clang-lld-pie",
                                    "pie-whole-file"])
def test_debug_file_only_address_layouts(layout, tmp_path):
    """Only the debug file is available (its PT_LOAD offsets rewritten by
    objcopy), for non-PIE, lld's layout (text offset != address) and a
    mapping of the whole file from offset 0."""
    (tmp_path / "prog.c").write_text(pf.PROG_C)
    (tmp_path / "lib.c").write_text(pf.LIB_C)
    exe = tmp_path / "prog"
    cc = {"gcc-nopie": ["gcc", "-no-pie", "-fno-pie"],
          "clang-lld-pie": ["clang", "-fPIE", "-pie", "-fuse-ld=lld"],
          "pie-whole-file": ["gcc", "-fPIE", "-pie"]}[layout]
    pf.run(cc + ["-O2", "-g", "-Wl,--build-id", "-o", exe,
                 tmp_path / "prog.c", tmp_path / "lib.c"])
    bid = pf.build_id(exe)
    dbg = tmp_path / "debug" / ".build-id" / bid[:2] / (bid[2:] + ".debug")
    dbg.parent.mkdir(parents=True)
    pf.run(["objcopy", "--only-keep-debug", exe, dbg])
    off, seg_vaddr, memsz = pf.exec_segment(exe)
    base = 0 if layout == "gcc-nopie" else pf.PROG_BASE
    if layout == "pie-whole-file":
        start, offset = base, 0
    else:
        start, offset = base + (seg_vaddr & ~0xFFF), off & ~0xFFF
    syms = pf.symbols(exe)
    roles = {"hot": syms["hot_loop"][0] + syms["hot_loop"][1] // 2,
             "cold": syms["cold_path"][0] + 2,
             "lib": syms["lib_inner"][0] + syms["lib_inner"][1] // 2,
             "main": syms["main"][0] + 4}
    b = pprof_wire.Builder()
    m = b.mapping(start, base + seg_vaddr + memsz, offset,
                  "/opt/prod/bin/prog", bid)
    locs = dict((r, b.location(m, base + a)) for r, a in roles.items())
    b.sample(list(locs.values()), [1])
    raw, out = tmp_path / "raw.pb.gz", tmp_path / "out.pb.gz"
    b.write(raw)
    r = corosym([raw, "-o", out, "--debug-dir", tmp_path / "debug"] +
                ISOLATE)
    assert r.returncode == 0, r.stderr
    assert r.stderr.endswith("locations: 4 of 4 symbolized\n"), r.stderr
    p = pprof_wire.read(out)
    want = pf.llvm_frames(exe, list(roles.values()))
    for (role, lid), frames in zip(locs.items(), want):
        assert p.frames(lid) == frames, (layout, role)


def test_missing_mapping_message_has_one_prefix(fx, tmp_path):
    """The module error is quoted without libcorosym's own "corosym: "."""
    missing = tmp_path / "gone" / "prog"
    raw, out = tmp_path / "raw.pb.gz", tmp_path / "out.pb.gz"
    fx.raw_profile(raw, prog_file=missing, prog_bid="", lib_file=fx.lib,
                   extra_mapping=False)
    r = corosym([raw, "-o", out] + ISOLATE)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0] == ("corosym pprof: mapping 1 (%s): %s: No such file or "
                        "directory" % (missing, missing))
    assert "corosym: " not in r.stderr
