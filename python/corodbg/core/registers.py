"""Names of the register block's registers, per architecture.

The table lists each slot of a coroutine's register block by its DWARF
register number (descriptor `regs_off`, docs/abi.md), so a reader needs no
layout of its own, only what to call each number.  Both debuggers use the
same names for these registers; LLDB also wants each one's generic role
(pc, sp, fp, ra), without which it cannot unwind a thread.
"""
from . import layout

# DWARF register number -> (register name, generic role or None).
_X86_64 = {16: ("rip", "pc"), 7: ("rsp", "sp"), 6: ("rbp", "fp"),
           3: ("rbx", None), 12: ("r12", None), 13: ("r13", None),
           14: ("r14", None), 15: ("r15", None)}
# AArch64 DWARF (the Arm ABI's "DWARF for the Arm 64-bit architecture"):
# x0-x30 are 0-30, sp 31, pc 32, v0-v31 64-95 (of which the callee-saved
# d8-d15 are the low halves of v8-v15).
_AARCH64 = dict([(32, ("pc", "pc")), (31, ("sp", "sp")),
                 (29, ("x29", "fp")), (30, ("x30", "ra"))] +
                [(n, ("x%d" % n, None)) for n in range(19, 29)] +
                [(64 + n, ("d%d" % n, None)) for n in range(8, 16)])

NAMES = {layout.ARCH_X86_64: _X86_64, layout.ARCH_AARCH64: _AARCH64}

# The register block when the table cannot be read: corodbg.h's
# CORODBG_REG_DWARF_<ARCH> lists, generated into layout.py.
DEFAULT_DWARF = layout.REG_DWARF


def names(arch):
    """{dwarf: name} for ARCH, or None when it is not supported."""
    table = NAMES.get(arch)
    return None if table is None else dict((d, n) for d, (n, _) in
                                           table.items())


def describe(arch, dwarf):
    """[(name, generic role or None, dwarf)] for the register block whose
    slots hold the DWARF registers DWARF (a sequence), on ARCH.  A number
    this module does not know keeps the name `dwarfN`."""
    table = NAMES.get(arch, {})
    return [table.get(d, ("dwarf%d" % d, None)) + (d,) for d in dwarf]


def arch_of_triple(triple):
    """The ELF machine of a target triple ('aarch64-unknown-linux-gnu'),
    or None."""
    head = (triple or "").split("-", 1)[0]
    if head in ("x86_64", "amd64"):
        return layout.ARCH_X86_64
    if head in ("aarch64", "arm64"):
        return layout.ARCH_AARCH64
    return None
