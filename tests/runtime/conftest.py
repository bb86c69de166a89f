"""Fixtures for the corort runtime tests: run a built C test program."""
import os
import subprocess

import pytest


class Runner:
    """Runs build/runtime/tests/<name>[-variant] and returns its result."""

    def __init__(self, build):
        self.dir = build / "runtime" / "tests"

    def path(self, name):
        p = self.dir / name
        if not p.exists():
            pytest.fail("%s is not built: run `make test`" % p)
        return p

    def run(self, name, *args, timeout=60, env=None, check=True):
        e = dict(os.environ)
        # Coroutines left blocked forever on purpose are "leaks" to LSan.
        e.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        if env:
            e.update(env)
        r = subprocess.run([str(self.path(name))] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=timeout,
                           env=e)
        if check and r.returncode != 0:
            pytest.fail("%s %s exited %d\nstdout:\n%s\nstderr:\n%s" % (
                name, " ".join(map(str, args)), r.returncode, r.stdout,
                r.stderr[-4000:]))
        return r


@pytest.fixture(scope="session")
def rt(build):
    return Runner(build)
