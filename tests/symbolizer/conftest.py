"""Fixtures for the corosym tests: the built tools.  Nothing here skips:
a missing tool is a failure.  Plain helpers are in symutil.py."""
import shutil

import pytest

from symutil import LLVM_SYMBOLIZER


@pytest.fixture(scope="session")
def corosym(build):
    p = build / "symbolizer" / "corosym"
    assert p.exists(), "build/symbolizer/corosym missing: run make"
    return p


@pytest.fixture(scope="session")
def llvm_symbolizer():
    p = shutil.which(LLVM_SYMBOLIZER)
    assert p, "llvm-symbolizer-19 not installed (scripts/install-deps.sh)"
    return p
