"""Shared pytest fixtures: where the repository and its build output are."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def build():
    return BUILD


@pytest.fixture(scope="session")
def lines(root):
    """{'LINE_CONSUMER_WAIT': 159, ...} from the markers in lldbprog.c
    (the program of the lldb-dap and gdb -i=dap tests)
    and in the shared mini runtime tests/progs/minirt.c (the workers)."""
    out = {}
    for src in (root / "tests" / "lldb" / "progs" / "lldbprog.c",
                root / "tests" / "progs" / "minirt.c"):
        for n, text in enumerate(src.read_text().splitlines(), 1):
            m = re.search(r"/\* (LINE_[A-Z_]+) \*/", text)
            if m:
                out[m.group(1)] = n
    return out


@pytest.fixture(scope="session")
def node_dap_tests(root):
    """run(FILE, ENV, COUNT): run tests/dap/FILE under `node --test` with
    ENV, and require COUNT tests, all passing.  Skips without node or the
    DAP client package (installed into tests/dap/node_modules by `make`)."""
    dap_dir = root / "tests" / "dap"

    def run(name, env, count, timeout=300):
        if shutil.which("node") is None:
            pytest.skip("node is not installed: the DAP client tests need it")
        if not (dap_dir / "node_modules" / "@vscode" /
                "debugadapter-testsupport").is_dir():
            pytest.skip("tests/dap/node_modules is missing: `make` runs npm "
                        "install there, which needs the npm registry")
        p = subprocess.run(["node", "--test", "--test-reporter=tap", name],
                           cwd=dap_dir, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        out = p.stdout
        counts = dict(re.findall(
            r"^# (tests|pass|fail|skipped|cancelled) (\d+)$", out, re.M))
        assert p.returncode == 0 and counts.get("fail") == "0", out
        assert counts.get("tests") == str(count), out
        assert counts.get("pass") == str(count), out
        return out
    return run
