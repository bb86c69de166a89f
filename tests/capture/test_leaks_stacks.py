"""`corodbg leaks` on a core gives the groups GDB's `coroutine leaks`
gives at the same stop:
- tests/progs/stackprog.c (inlined parks, tail-calling helpers,
  sibling-call chains at -O0 and -O2): the user frame is the first
  non-runtime frame `bt` shows, inlined frames counted, else
  '(no user frame) <innermost>' (runtime_rules.user_frame).  The program
  describes no runtime code, so its fx_* helpers count as user code for
  both.
- the same with fx_* described as runtime code, where the wait site of
  one coroutine kind is a tail-call frame GDB infers;
- Boost programs under the fcontext interposer: register mode frame
  (registers on the coroutine's stack below the saved sp) and the
  interposer's own runtime_code globs."""
import json
import sys

import pytest

from capture_util import (ROOT, corodbg, gdb_leaks_and_core,
                          leak_groups, unsigned_main)

sys.path.insert(0, str(ROOT / "tests" / "stacks"))
import stackmatrix  # noqa: E402


@pytest.mark.parametrize("variant", ["c-gcc-O0", "c-gcc-O2", "c-clang-O2"])
def test_leaks_on_a_core_as_gdb(variant, tmp_path):
    if variant not in stackmatrix.variants():
        pytest.skip("no compiler for %s" % variant)
    stackmatrix.OUT.mkdir(parents=True, exist_ok=True)
    exe = stackmatrix._build(variant)
    core = tmp_path / "core"
    gdb = gdb_leaks_and_core([exe, stackmatrix.ROUNDS, "sentinel"],
                             "stack_ready", core)
    mine = corodbg("leaks", core, "--exe", exe).stdout
    groups = leak_groups(mine)
    assert groups and groups == leak_groups(gdb), (mine, gdb)


@pytest.mark.parametrize("variant", ["c-gcc-O0", "c-gcc-O2", "c-gcc-O3",
                                     "cxx-gcc-O2", "c-clang-O2",
                                     "cxx-clang-O3"])
def test_leaks_with_runtime_code_as_gdb(variant, tmp_path):
    """The program describes fx_* as its runtime code (its table, read by
    both): a wait site can then be a frame only GDB's tail-call inference
    shows.  relay_worker calls await_io, which jumps to fx_wait at -O2
    and up with gcc: GDB's `bt` shows await_io between fx_wait and
    relay_worker, so await_io is the wait site, not relay_worker.
    (clang marks tail calls with DW_AT_call_pc only, which GDB 13 does
    not read: there both say relay_worker.)"""
    if variant not in stackmatrix.variants():
        pytest.skip("no compiler for %s" % variant)
    stackmatrix.OUT.mkdir(parents=True, exist_ok=True)
    exe = stackmatrix._build(variant)
    core = tmp_path / "core"
    gdb = gdb_leaks_and_core([exe, stackmatrix.ROUNDS, "sentinel",
                              "runtime"], "stack_ready", core)
    mine = corodbg("leaks", core, "--exe", exe).stdout
    groups = unsigned_main(leak_groups(mine))
    assert groups and groups == unsigned_main(leak_groups(gdb)), (mine, gdb)
    sites = [g[3] for g in groups]
    if variant.split("-")[1:] in (["gcc", "O2"], ["gcc", "O3"]):
        assert any(s.startswith("waiting at  await_io ") or
                   s.startswith("waiting at  await_io(") for s in sites), \
            mine


@pytest.mark.parametrize("prog", ["boost_fibers", "boost_gen"])
def test_frame_mode_boost_as_gdb(prog, tmp_path):
    """Boost's parked fibers are runnable, not blocked (no leaks groups):
    every coroutine GDB's -group user places in a user function has that
    function on its stack in corodbg's dump of the same core."""
    fclib = ROOT / "build" / "interpose" / "libcorodbg-fcontext.so"
    exe = ROOT / "build" / "interpose" / "tests" / prog
    assert fclib.exists() and exe.exists(), "build it first: make testbin"
    core = tmp_path / "core"
    gdb = gdb_leaks_and_core([exe], "boost_checkpoint", core,
                             ["LD_PRELOAD=%s" % fclib],
                             "info coroutines -group user -samples 100")
    groups = stackmatrix.groups_of_listing(gdb)
    users = {k: ids for k, ids in groups.items()
             if not k.startswith("(no user frame)") and k != "??"}
    assert users, gdb
    dump = json.loads(corodbg("dump", core, "--exe", exe, "--format",
                              "json").stdout)
    funcs = {c["id"]: {stackmatrix.base_name(f["function"] or "??")
                       for f in c["frames"]} for c in dump["coroutines"]}
    for key, ids in users.items():
        for i in ids:
            assert key in funcs.get(i, ()), (key, i, funcs.get(i), gdb)
