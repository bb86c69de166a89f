"""The register map check (core/regmap.py, issue 14 item 11) and a
one-register block (item 14): a map that cannot build a view gives one
'register map unusable' line, never an IndexError or TypeError."""
import struct

import pytest

from corodbg.core import layout, regmap

X86 = {16, 7, 6, 3, 12, 13, 14, 15}   # what an x86-64 adapter can name


def _regs_record(image):
    """Byte offset in the descriptor of the entry field record 'regs'."""
    base = image.prefix["entry_fields_off"]
    for i in range(image.prefix["entry_fields_count"]):
        fid, = struct.unpack_from("<H", image.desc, base + 8 * i)
        if fid == dict((t, v) for _, v, t in layout.ENTRY_FIELDS)["regs"]:
            return base + 8 * i
    raise AssertionError("no regs record")


def _dwarf_at(image, k, value):
    struct.pack_into("<H", image.desc, image.prefix["regs_off"] + 2 * k,
                     value)


def test_good_map_is_usable(image):
    t = image.decode()
    assert regmap.problem(t, X86, layout.ARCH_X86_64) is None
    regmap.check(t, X86, None)


@pytest.mark.parametrize("case,why", [
    ("count-out-of-range", "0 register numbers for a 8-register block"),
    ("count-1", "1 register numbers for a 8-register block"),
    ("unknown-dwarf", "DWARF register 99 is not a x86-64 register"),
    ("pc-sp-swapped", "slots 0 and 1 are DWARF 7 and 16, not x86-64 pc "
                      "and sp (16 and 7)"),
    ("duplicate", "a DWARF register appears twice"),
    ("arch-mismatch", "the table is for aarch64, the program is x86-64"),
    ("arch-unknown", "unsupported architecture 3"),
    ("one-register-block", "8 register numbers for a 1-register block"),
    ("block-outside-entry", "8 register numbers for a 0-register block"),
])
def test_unusable_map(image, case, why):
    target = layout.ARCH_X86_64
    if case == "count-out-of-range":
        image.set_prefix("regs_count", 60)
    elif case == "count-1":
        image.set_prefix("regs_count", 1)
    elif case == "unknown-dwarf":
        _dwarf_at(image, 3, 99)
    elif case == "pc-sp-swapped":
        _dwarf_at(image, 0, 7)
        _dwarf_at(image, 1, 16)
    elif case == "duplicate":
        _dwarf_at(image, 4, 3)
    elif case == "arch-mismatch":
        image.set_prefix("arch", layout.ARCH_AARCH64)
        X = X86 | {32, 31, 29}
    elif case == "arch-unknown":
        image.set_prefix("arch", 3)
    elif case == "one-register-block":
        struct.pack_into("<H", image.desc, _regs_record(image) + 4, 8)
    else:
        struct.pack_into("<H", image.desc, _regs_record(image) + 2, 60000)
    t = image.decode()
    assert len(t.coroutines) == 6
    known = X if case == "arch-mismatch" else X86
    assert regmap.problem(t, known, target) == why
    with pytest.raises(regmap.RegisterMapError,
                       match=r"^register map unusable: "):
        regmap.check(t, known, target)


def test_one_register_block_is_a_tuple(image):
    """Item 14: an 8-byte registers field made regs an int, and every
    command failed with an internal TypeError."""
    struct.pack_into("<H", image.desc, _regs_record(image) + 4, 8)
    t = image.decode()
    co = t.by_id[1]
    assert co.regs == (0x401000,)
    assert co.pc == 0x401000 and co.sp is None and co.fp is None
