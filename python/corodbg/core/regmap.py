"""The register map's check, one rule for every front end.

A coroutine view is built from its saved register block: slot K holds
DWARF register reg_dwarf[K] (the descriptor's map), and the core reads
slots 0 and 1 as pc and sp.  A map with numbers out of range, numbers the
debugger cannot name, another architecture's numbers, or pc and sp
elsewhere would put values in the wrong registers and show another stack,
so an adapter asks `check` before building a view and refuses with its
one line instead.
"""
from . import layout, registers
from .errors import CorodbgError

# The DWARF numbers of slots 0 and 1 (pc, sp) per ELF e_machine: the first
# two of each architecture's register block (registers.py).
PC_SP = dict((arch, tuple(dwarf[:2]))
             for arch, dwarf in registers.DEFAULT_DWARF.items())
ARCH_NAMES = {layout.ARCH_X86_64: "x86-64", layout.ARCH_AARCH64: "aarch64"}


class RegisterMapError(CorodbgError):
    """The table's register map cannot build a view."""


def _arch_name(arch):
    return ARCH_NAMES.get(arch, "machine %s" % arch)


def problem(tbl, known_dwarf, target_arch=None):
    """Why TBL's register map cannot build a view, or None.

    KNOWN_DWARF: the DWARF numbers the debugger can name for the table's
    architecture.  TARGET_ARCH: the program's ELF e_machine as the debugger
    sees it (None: unknown, not checked)."""
    arch = tbl.prefix.get("arch")
    if arch not in PC_SP:
        return "unsupported architecture %s" % arch
    if target_arch is not None and target_arch != arch:
        return "the table is for %s, the program is %s" % (
            _arch_name(arch), _arch_name(target_arch))
    efields = tbl.entry_layout[2] if tbl.entry_layout else {}
    block = efields.get("regs")
    nregs = block[1] // 8 if block else 0
    dwarf = tuple(tbl.reg_dwarf or ())
    if len(dwarf) < 2 or nregs < 2:
        return "%d register numbers for a %d-register block" % (
            len(dwarf), nregs)
    if len(dwarf) > nregs:
        return "%d register numbers for a %d-register block" % (
            len(dwarf), nregs)
    if dwarf[:2] != PC_SP[arch]:
        return "slots 0 and 1 are DWARF %d and %d, not %s pc and sp " \
               "(%d and %d)" % (dwarf[0], dwarf[1], _arch_name(arch),
                                PC_SP[arch][0], PC_SP[arch][1])
    for d in dwarf:
        if d not in known_dwarf:
            return "DWARF register %d is not a %s register" % (
                d, _arch_name(arch))
    if len(set(dwarf)) != len(dwarf):
        return "a DWARF register appears twice"
    return None


def check(tbl, known_dwarf, target_arch=None):
    """Raise RegisterMapError ("register map unusable: WHY") unless the
    map is usable (see `problem`)."""
    why = problem(tbl, known_dwarf, target_arch)
    if why is not None:
        raise RegisterMapError("register map unusable: %s" % why)
