"""docs/integrate.md's examples are the code the tests build and debug:
each code block announced by "*from FILE*" must appear, line for line,
in FILE."""
import re

from gdbdriver import ROOT

DOC = ROOT / "docs" / "integrate.md"


def blocks():
    text = DOC.read_text()
    return re.findall(r"^\*from (\S+)\*\n```c\n(.*?)^```$", text,
                      re.M | re.S)


def test_every_example_is_tested_code():
    found = blocks()
    assert len(found) >= 7, found   # the switch, each mode, describe
    for path, code in found:
        src = (ROOT / path).read_text()
        assert code in src, "docs/integrate.md drifted from %s:\n%s" % (
            path, code)


def test_every_register_mode_has_an_example():
    text = DOC.read_text()
    for call in ("corodbg_regs(", "corodbg_regs_at_block(",
                 "corodbg_regs_at_frame(", "corodbg_set_runtime_code("):
        assert any(call in code for _, code in blocks()), call
    assert "### Mode table" in text and "### Mode block" in text and \
        "### Mode frame" in text
