"""The stack-truth matrix, built and run once per session."""
import pytest

import stackmatrix


@pytest.fixture(scope="session")
def matrix():
    if not stackmatrix.HOOKS_A.exists():
        pytest.fail("%s is missing: run make" % stackmatrix.HOOKS_A)
    return stackmatrix.build_and_run_all()
