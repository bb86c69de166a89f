"""go tool pprof (Debian golang-go) against corosym.

1. go tool pprof -top / -traces / -raw read `corosym pprof` output and show
   the names, inline frames and mapping flags corosym filled in.
2. pprof's own local symbolization runs `llvm-symbolizer` from
   $PPROF_TOOLS / PATH; with a PATH holding only an `llvm-symbolizer`
   symlink to corosym, it must get the names, lines and inline chains.
   `go tool pprof` never runs llvm-symbolizer (the Go distribution plugs in
   its own object reader, cmd/pprof/pprof.go), so this uses upstream
   pprof's command built from the same vendored sources
   (symbolizer/pprof/pprof_gotool.sh -> build/symbolizer/gopprof/pprof).

Go runs with private GOCACHE/HOME dirs and GOPROXY=off (no network).
"""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

import pprof_fixture as pf

GO = shutil.which("go") or "/usr/bin/go"
ISOLATE = ["--no-default-debug-dir", "--no-debuginfod", "--no-cache"]


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    return pf.Fixture(tmp_path_factory.mktemp("go-fixture"))


@pytest.fixture(scope="module")
def symbolized(fx, tmp_path_factory):
    d = tmp_path_factory.mktemp("go")
    raw, out = d / "raw.pb.gz", d / "out.pb.gz"
    fx.raw_profile(raw)
    r = subprocess.run(pf.corosym_pprof() + [
        str(raw), "-o", str(out), "--debug-dir", str(fx.debugdir)] + ISOLATE,
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return out


UPSTREAM_PPROF = pf.BUILD / "symbolizer" / "gopprof" / "pprof"


def go_pprof(args, tmp, env_extra=None, path=None, upstream=False):
    env = pf.go_env(tmp)
    if path is not None:
        env["PATH"] = path
    env.update(env_extra or {})
    cmd = [str(UPSTREAM_PPROF)] if upstream else [GO, "tool", "pprof"]
    r = subprocess.run(cmd + [str(a) for a in args],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r


def test_go_version_is_debian():
    r = subprocess.run([GO, "version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("go version go1.")


def test_top_shows_names(symbolized, tmp_path):
    r = go_pprof(["-top", "-nodecount=20", symbolized], tmp_path)
    rows = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s*(\S+)\s+(\S+)%\s+(\S+)%\s+(\S+)\s+(\S+)%\s+(.+)$",
                     line)
        if m:
            rows[m.group(6).strip()] = (m.group(1), m.group(4))
    # flat, cum per function (cpu, 110 ms in total)
    assert rows["leaf_mix (inline)"] == ("70ms", "70ms")
    assert rows["lib_square (inline)"] == ("30ms", "30ms")
    assert rows["main"] == ("0", "110ms")
    assert rows["hot_loop"] == ("0", "70ms")
    assert rows["cold_path"] == ("0", "30ms")
    # the unsymbolized [vdso] location is shown by its mapping
    assert rows["[[vdso]]"] == ("10ms", "10ms")
    assert r.stdout.count("\n") == len(rows) + 5, r.stdout
    # no local symbolization was needed for the found mappings
    assert "Local symbolization failed for prog" not in r.stderr


def test_traces_show_inline_chains(symbolized, tmp_path):
    r = go_pprof(["-traces", symbolized], tmp_path)
    text = r.stdout
    assert re.search(r"\n\s+70ms\s+leaf_mix \(inline\)\n\s+middle_step "
                     r"\(inline\)\n\s+hot_loop\n\s+main\n", text), text
    assert re.search(r"\n\s+30ms\s+lib_square \(inline\)\n\s+lib_inner\n"
                     r"\s+lib_entry\n\s+cold_path\n\s+main\n", text), text
    assert re.search(r"\n\s+10ms\s+\[\[vdso\]\]\n\s+main\n", text), text
    assert text.count("-----------+") == 4     # 3 traces, each delimited


def test_raw_shows_lines_and_mapping_flags(fx, symbolized, tmp_path):
    r = go_pprof(["-raw", symbolized], tmp_path)
    out = r.stdout
    assert re.search(r"^1: 0x555555555000/0x[0-9a-f]+/0x1000 "
                     r"/opt/prod/bin/prog %s \[FN\]\[FL\]\[LN\]\[IN\]$"
                     % fx.ids["prog"], out, re.M), out
    assert re.search(r"^2: 0x7ffff7fb1000/0x[0-9a-f]+/0x1000 "
                     r"/opt/prod/bin/libfix.so %s \[FN\]\[FL\]\[LN\]\[IN\]$"
                     % fx.ids["libfix.so"], out, re.M), out
    assert re.search(r"^3: 0x7ffff7fc1000/0x7ffff7fc3000/0x0 \[vdso\]  $",
                     out, re.M), out
    leaf = pf.mark_line(pf.PROG_C, "leaf_mix")
    hot = pf.mark_line(pf.PROG_C, "hot_call")
    assert re.search(r"M=1 leaf_mix \S*prog\.c:%d s=\d+\n\s+middle_step "
                     r"\S*prog\.c:\d+ s=\d+\n\s+hot_loop \S*prog\.c:%d s=\d+"
                     % (leaf, hot), out), out


def test_llvm_symbolizer_dropin_for_go_pprof(fx, tmp_path):
    """pprof's own symbolization, with corosym as its llvm-symbolizer."""
    corosym = pf.BUILD / "symbolizer" / "corosym"
    if not corosym.exists():
        pytest.fail("build/symbolizer/corosym is missing (part 1 CLI)")
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "llvm-symbolizer").symlink_to(corosym)
    raw = tmp_path / "raw.pb.gz"
    # mappings name the unstripped binaries, as on the machine they ran on
    _, _, _ = fx.raw_profile(raw, prog_file=fx.prog, lib_file=fx.lib,
                             extra_mapping=False)
    # PATH holds only our llvm-symbolizer: no addr2line, nm or real llvm
    r = go_pprof(["-traces", "-symbolize=local", raw], tmp_path,
                 env_extra={"PPROF_TOOLS": str(tools)}, path=str(tools),
                 upstream=True)
    assert "Local symbolization failed" not in r.stderr, r.stderr
    text = r.stdout
    assert re.search(r"leaf_mix \(inline\)\n\s+middle_step \(inline\)\n"
                     r"\s+hot_loop\n\s+main\n", text), text
    assert re.search(r"lib_square \(inline\)\n\s+lib_inner\n\s+lib_entry\n"
                     r"\s+cold_path\n\s+main\n", text), text
    assert re.search(r"\n\s+70ms\s+leaf_mix", text), text
    # and -raw shows the lines corosym answered
    r = go_pprof(["-raw", "-symbolize=local", raw], tmp_path,
                 env_extra={"PPROF_TOOLS": str(tools)}, path=str(tools),
                 upstream=True)
    leaf = pf.mark_line(pf.PROG_C, "leaf_mix")
    assert re.search(r"leaf_mix \S*prog\.c:%d " % leaf, r.stdout), r.stdout
    sq = pf.mark_line(pf.LIB_C, "lib_square")
    assert re.search(r"lib_square \S*lib\.c:%d " % sq, r.stdout), r.stdout


def test_same_answers_as_pprof_with_llvm_symbolizer(fx, tmp_path):
    """Differential: every byte address of the fixture's functions, symbolized
    by `corosym pprof` and by upstream pprof running llvm-symbolizer-19,
    gives the same (function, file, line) inline chains."""
    import pprof_wire
    b = pprof_wire.Builder()
    maps = {}
    locs = []
    for binary in (fx.prog, fx.lib):
        off, seg_vaddr, memsz = pf.exec_segment(binary)
        base = pf.PROG_BASE if binary == fx.prog else pf.LIB_BASE
        maps[binary] = b.mapping(base + seg_vaddr, base + seg_vaddr + memsz,
                                 off, str(binary), fx.ids[binary.name])
        for name, (start, size) in sorted(pf.symbols(binary).items()):
            for a in range(start, start + size):
                locs.append(b.location(maps[binary], base + a))
    for lid in locs:
        b.sample([lid], [1])
    raw = b.write(tmp_path / "all.pb.gz")
    tools = tmp_path / "llvm"
    tools.mkdir()
    (tools / "llvm-symbolizer").symlink_to("/usr/bin/llvm-symbolizer-19")
    ref = tmp_path / "ref.pb.gz"
    go_pprof(["-proto", "-symbolize=local", "-output", ref, raw], tmp_path,
             env_extra={"PPROF_TOOLS": str(tools)}, path=str(tools),
             upstream=True)
    ours = tmp_path / "ours.pb.gz"
    r = subprocess.run(pf.corosym_pprof() + [str(raw), "-o", str(ours)] +
                       ISOLATE, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr

    def chains(path):
        p = pprof_wire.read(path)
        return dict((l["address"], [f[:3] for f in p.frames(l["id"])])
                    for l in p.locations.values())
    want, got = chains(ref), chains(ours)
    assert len(want) == len(locs) > 200
    diff = [(hex(a), want[a], got.get(a)) for a in want if want[a] != got.get(a)]
    assert diff == []
