"""Shared pytest fixtures: where the repository and its build output are."""
import os
import pathlib
import re

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
