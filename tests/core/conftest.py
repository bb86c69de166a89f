"""Fixtures for the debugger-independent core: a table image builder."""
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from tablegen import TableImage  # noqa: E402


@pytest.fixture
def image():
    """A 6-coroutine table image (see tablegen.TableImage.sample)."""
    return TableImage.sample()
