"""The register names both adapters give the table's register block."""
from corodbg.core import layout, registers


def test_x86_64_block_names_and_roles():
    got = registers.describe(layout.ARCH_X86_64,
                             registers.DEFAULT_DWARF[layout.ARCH_X86_64])
    assert got[:3] == [("rip", "pc", 16), ("rsp", "sp", 7), ("rbp", "fp", 6)]
    assert [n for n, _, _ in got[3:]] == ["rbx", "r12", "r13", "r14", "r15"]


def test_aarch64_block_names_and_roles():
    got = registers.describe(layout.ARCH_AARCH64,
                             registers.DEFAULT_DWARF[layout.ARCH_AARCH64])
    assert got[:4] == [("pc", "pc", 32), ("sp", "sp", 31),
                       ("x29", "fp", 29), ("x30", "ra", 30)]
    assert [n for n, _, _ in got[4:14]] == ["x%d" % n for n in range(19, 29)]
    assert [n for n, _, _ in got[14:]] == ["d%d" % n for n in range(8, 16)]
    assert registers.names(layout.ARCH_AARCH64)[72] == "d8"


def test_unknown_numbers_and_architectures():
    assert registers.describe(layout.ARCH_X86_64, [99]) == \
        [("dwarf99", None, 99)]
    assert registers.names(40) is None          # EM_ARM: not supported
    assert registers.arch_of_triple("aarch64-unknown-linux-gnu") == \
        layout.ARCH_AARCH64
    assert registers.arch_of_triple("x86_64-pc-linux-gnu") == \
        layout.ARCH_X86_64
    assert registers.arch_of_triple("") is None
    assert registers.arch_of_triple(None) is None
