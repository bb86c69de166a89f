"""`corodbg leaks` on a core of tests/progs/stackprog.c (inlined parks,
tail-calling helpers, sibling-call chains at -O0 and -O2) gives the groups
GDB's `coroutine leaks` gives at the same stop: the user frame is the
first non-runtime frame `bt` shows, inlined frames counted, else
'(no user frame) <innermost>' (query.user_frame).  Both use the same
runtime rule: the built-in globs and the table's own description (the
program describes none, so its fx_* helpers count as user code)."""
import os
import subprocess
import sys

import pytest

from capture_util import LOADER, ROOT, corodbg, leak_groups

sys.path.insert(0, str(ROOT / "tests" / "stacks"))
import stackmatrix  # noqa: E402


@pytest.mark.parametrize("variant", ["c-gcc-O0", "c-gcc-O2", "c-clang-O2"])
def test_leaks_on_a_core_as_gdb(variant, tmp_path):
    if variant not in stackmatrix.variants():
        pytest.skip("no compiler for %s" % variant)
    stackmatrix.OUT.mkdir(parents=True, exist_ok=True)
    exe = stackmatrix._build(variant)
    core = tmp_path / "core"
    cmd = ["gdb", "-nx", "-q", "-batch", "-iex", "set auto-load safe-path /",
           "-ex", "source %s" % LOADER, "-ex", "break stack_ready",
           "-ex", "run", "-ex", "echo <<<leaks>>>\\n",
           "-ex", "coroutine leaks", "-ex", "echo <<<end>>>\\n",
           "-ex", "generate-core-file %s" % core, "-ex", "kill",
           "--args", str(exe), str(stackmatrix.ROUNDS), "sentinel"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=180,
                         env=dict(os.environ, LC_ALL="C"),
                         stdin=subprocess.DEVNULL).stdout
    gdb = out.split("<<<leaks>>>\n", 1)[1].split("<<<end>>>", 1)[0]
    assert core.exists(), out
    mine = corodbg("leaks", core, "--exe", exe).stdout
    groups = leak_groups(mine)
    assert groups and groups == leak_groups(gdb), (mine, gdb)
