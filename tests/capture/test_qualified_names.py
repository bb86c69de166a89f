"""The capture tools' runtime rule names a frame as the Python core does:
libcorocap's cc_qualified_name against runtime_rules.qualified_name on
the core's own cases and on names of a real Boost.Asio dump."""
import importlib.util
import subprocess
from pathlib import Path

import pytest

from corodbg.core.runtime_rules import qualified_name

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "core_runtime_names", ROOT / "tests" / "core" / "test_runtime_names.py")
core_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(core_cases)

TESTS = ROOT / "build" / "capture" / "tests"


@pytest.mark.parametrize("prog", ["qualified_names", "qualified_names-san"])
def test_c_and_python_agree(prog):
    """(-san: under ASan/UBSan.)"""
    PROG = TESTS / prog
    assert PROG.exists(), "build it first: make testbin"
    names = [shown for shown, _ in core_cases.CASES] + [
        "std::enable_if<!has_initiate<yield<void (*)()>, void ()>::value, "
        "void>::type boost::asio::async_initiate<yield, void ()>(init&&)",
        "main::'lambda'(boost::asio::basic_yield_context<x>)",
        "void boost::coroutines::detail::trampoline_push_void<obj>(transfer_t)",
        "", "a b", "(anonymous namespace)", "operator",
    ]
    out = subprocess.run([str(PROG)], input="\n".join(names) + "\n",
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:-1] == [qualified_name(n) for n in names]
