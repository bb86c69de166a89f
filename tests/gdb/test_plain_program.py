"""Loading the extension changes nothing for a program with no coroutine
view (issue 14 items 10 and 17): `bt` of a damaged stack is GDB's own
(`<error reading variable>`, "Backtrace stopped", `?? ()`), and a fatal
stop in a program without a table prints no warning."""
import os
import re
import subprocess

import pytest

from gdbdriver import GDB, ROOT, run_gdb


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    out = tmp_path_factory.mktemp("plain") / "plain"
    subprocess.run(["gcc", "-O0", "-g", "-o", str(out),
                    str(ROOT / "tests" / "gdb" / "progs" / "plain.c")],
                   check=True)
    return out


@pytest.mark.parametrize("args", [[], ["wild"]], ids=["bad-fp", "pc-0x10"])
def test_bt_is_gdbs_own(plain, args):
    cmds = ["run", "bt", "frame", "info frame"]
    target = ["--args", str(plain)] + args
    without = subprocess.run(
        [GDB, "-nx", "-q", "-batch"] + sum((["-ex", c] for c in cmds), [])
        + target, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=60, env=dict(os.environ, LC_ALL="C"),
        stdin=subprocess.DEVNULL, cwd=str(ROOT)).stdout
    with_ext = run_gdb(cmds, target=target)
    assert "SIGSEGV" in without
    if args:
        # GDB 13 names an unknown function `??`, GDB 16 `???`
        assert re.search(r"#0  0x0000000000000010 in \?\?\?? \(\)",
                         without), without
    else:
        assert "<error reading variable" in without
        assert "Backtrace stopped" in without
    # line for line (set runtime-functions, the only extra -ex, is silent)
    assert with_ext.splitlines() == without.splitlines()
