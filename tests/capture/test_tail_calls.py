"""Tail-call frames: the functions a sibling call (`jmp`) took off the
stack, which GDB's `bt` puts back from DWARF call sites alone, and
corodbg's capture tools the same way (corosym_tail_calls).

tests/progs/tailshapes.c has one coroutine per shape of tail-call chain
(one path, two paths sharing nothing, two sharing their end, a cycle, an
indirect jump, a callee in another unit, or in a shared library).  On
one core, every coroutine's frames in `corodbg dump` must be GDB's `bt`,
frame for frame, and `corodbg leaks` must give GDB's groups, whose wait
sites are tail-call frames for most shapes.  GDB's own answers are checked against
the shapes first, so a compiler that stops emitting the jumps fails the
test instead of emptying it."""
import json
import subprocess
import sys

import pytest

from capture_util import (ROOT, corodbg, gdb_leaks_and_core, leak_groups,
                          unsigned_main)
from test_stack_end import check, gdb_stacks, our_stacks
import pprof_wire  # noqa: E402 (tests/symbolizer, on the path: capture_util)

sys.path.insert(0, str(ROOT / "tests" / "stacks"))
import stackmatrix  # noqa: E402

SRC = ROOT / "tests" / "progs"

# what GDB shows for each shape at gcc -O2 (the functions between the
# parking function and the worker); clang marks its tail calls with
# DW_AT_call_pc only, which GDB 13 does not read, so it shows none
GCC_SHAPES = {
    "chain": ["mid_b", "mid_a"],
    "fork": [],
    "join": ["join"],
    "cycle": ["ping"],
    "pointer": [],
    "extern": ["to_elsewhere"],
}


def _build(variant, shared=False):
    """tailshapes as VARIANT; SHARED: wait_elsewhere in a shared library
    (a runtime in a .so: the "extern" shape's jump goes through the PLT,
    and GDB finds the callee by name in the library)."""
    lang, cc, opt = variant.split("-")
    front = stackmatrix.COMPILERS[cc][lang == "cxx"]
    exe = stackmatrix.OUT / ("tailshapes-" + variant + ("-so" if shared
                                                         else ""))
    wait = [str(SRC / "tailshapes_wait.c")]
    if shared:
        lib = stackmatrix.OUT / ("libtailwait-%s.so" % variant)
        r = subprocess.run([front, "-" + opt, "-fPIC", "-shared"] +
                           stackmatrix._FLAGS +
                           (["-std=c++17", "-x", "c++"] if lang == "cxx"
                            else ["-std=c11"]) + wait + ["-o", str(lib)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        wait = ["-x", "none", str(lib), "-Wl,-rpath,%s" % lib.parent]
    runtime = [SRC / "minirt.c", SRC / "regmodes.c"]
    objs = []
    for r in runtime:   # the runtime stays C
        obj = stackmatrix.OUT / ("%s-%s-%s.o" % (r.stem, cc, opt))
        subprocess.run([stackmatrix.COMPILERS[cc][0], "-std=c11", "-" + opt]
                       + stackmatrix._FLAGS + ["-c", str(r), "-o", str(obj)],
                       check=True, capture_output=True)
        objs.append(str(obj))
    std = ["-std=c++17", "-x", "c++"] if lang == "cxx" else ["-std=c11"]
    r = subprocess.run([front, "-" + opt] + stackmatrix._FLAGS + std +
                       [str(SRC / "tailshapes.c")] + wait +
                       (["-x", "none"] if lang == "cxx" else []) + objs +
                       ["-o", str(exe)] + stackmatrix._LIBS,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


def _names(text):
    """{coroutine name: id} from `coroutine apply all bt`'s headers."""
    out = {}
    for line in text.splitlines():
        if line.startswith("Coroutine "):
            cid, rest = line[len("Coroutine "):].split(" ", 1)
            out[rest.split('"')[1]] = int(cid)
    return out


@pytest.mark.parametrize("variant,shared", [
    ("c-gcc-O2", False), ("cxx-gcc-O2", False), ("c-gcc-O3", False),
    ("c-clang-O2", False), ("c-gcc-O2", True), ("cxx-gcc-O2", True)])
def test_tail_call_frames_as_gdb(variant, shared, tmp_path):
    if variant not in stackmatrix.variants():
        pytest.skip("no compiler for %s" % variant)
    stackmatrix.OUT.mkdir(parents=True, exist_ok=True)
    exe = _build(variant, shared)
    core = tmp_path / "core"
    text = gdb_leaks_and_core([exe], "shapes_ready", core,
                              command="coroutine apply all bt")
    gdb = gdb_stacks(text)
    names = _names(text)
    assert sorted(names) == sorted(GCC_SHAPES), text
    for shape, between in GCC_SHAPES.items():
        frames = gdb[names[shape]]
        want = between if "-gcc-" in variant else []
        assert frames[1:-1] == want, (shape, frames, text)
    check(gdb, our_stacks(core, exe))


@pytest.mark.parametrize("variant", ["c-gcc-O2", "cxx-gcc-O2"])
def test_leaks_wait_sites_are_tail_call_frames(variant, tmp_path):
    if variant not in stackmatrix.variants():
        pytest.skip("no compiler for %s" % variant)
    stackmatrix.OUT.mkdir(parents=True, exist_ok=True)
    exe = _build(variant)
    core = tmp_path / "core"
    gdb = gdb_leaks_and_core([exe], "shapes_ready", core)
    mine = corodbg("leaks", core, "--exe", exe).stdout
    groups = unsigned_main(leak_groups(mine))
    assert groups and groups == unsigned_main(leak_groups(gdb)), (mine, gdb)
    sites = {w.split()[2].split("(")[0] for _, _, _, w in groups}
    assert {"mid_b", "join", "ping", "to_elsewhere"} <= sites, mine


def test_pprof_has_the_tail_call_frames(tmp_path):
    """`dump --format pprof` gives each tail-call frame a location of its
    own (its address: the jump), and every sample's frames are those of
    the JSON dump of the same core: a tail-call frame has no unwound pc,
    so the frames after it must not lose their symbols."""
    if "c-gcc-O2" not in stackmatrix.variants():
        pytest.skip("no gcc")
    stackmatrix.OUT.mkdir(parents=True, exist_ok=True)
    exe = _build("c-gcc-O2")
    core = tmp_path / "core"
    gdb_leaks_and_core([exe], "shapes_ready", core)
    path = tmp_path / "co.pb.gz"
    corodbg("dump", core, "--exe", exe, "--format", "pprof", "-o", path)
    prof = pprof_wire.Profile(path.read_bytes())
    got = sorted(tuple(f[0] for lid in locs for f in prof.frames(lid))
                 for locs, _ in prof.samples)
    dump = json.loads(corodbg("dump", core, "--exe", exe, "--format",
                              "json").stdout)
    want = sorted(tuple(f["function"] for f in c["frames"])
                  for c in dump["coroutines"])
    assert got == want
    tails = [f for c in dump["coroutines"] for f in c["frames"]
             if f["tailcall"]]
    assert sorted(f["function"] for f in tails) == [
        "join", "mid_a", "mid_b", "ping", "to_elsewhere"], tails
