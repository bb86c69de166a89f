import sys
import pathlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


import shutil  # noqa: E402

import pytest  # noqa: E402

from agent_util import private_dir  # noqa: E402


@pytest.fixture
def d():
    """A fresh 0700 directory for the agent's socket, removed afterwards."""
    path = private_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)
