"""The register-block convention of corort's context switch, checked in
process (rt_regs) and named with addr2line."""
import re
import subprocess

import pytest


def symbol(binary, offset):
    out = subprocess.run(["addr2line", "-f", "-e", str(binary), offset],
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0]


@pytest.mark.parametrize("name", ["rt_regs", "rt_regs-san"])
def test_register_block(rt, name):
    r = rt.run(name)
    lines = r.stdout.splitlines()
    assert len(lines) == 3, r.stdout
    fresh = re.fullmatch(
        r"fresh: state=1 pc=(0x[0-9a-f]+) in_stack=1 sp_mod16=0 "
        r"word_at_sp=0 ret_below_sp_is_pc=0", lines[0])
    assert fresh, lines[0]
    # A coroutine that never ran starts in the trampoline, over a zero
    # return address.
    assert symbol(rt.path(name), fresh.group(1)) == "corort__trampoline"
    assert lines[1] == "run=1"
    parked = re.fullmatch(
        r"parked: state=3 pc=(0x[0-9a-f]+) in_stack=1 sp_mod16=0 "
        r"word_at_sp=\d+ ret_below_sp_is_pc=1", lines[2])
    assert parked, lines[2]
    # pc is the return address into the C function that called the switch
    # routine.  At -O2 sched.c reaches corort__swap by tail calls, so that
    # is the channel code; at -O1 (the sanitizer build) it is corort__park.
    want = "corort__park" if name.endswith("-san") else "recv"
    assert symbol(rt.path(name), parked.group(1)) == want


def test_aarch64_cross_build(build):
    # make test builds it; the archive must hold the aarch64 switch.
    a = build / "runtime" / "aarch64" / "libcorort.a"
    assert a.exists()
    out = subprocess.run(["aarch64-linux-gnu-nm", str(a)], capture_output=True,
                         text=True, check=True).stdout
    assert re.search(r"\bT corort__swap\b", out)
    assert re.search(r"\bT corort__trampoline\b", out)
    assert re.search(r"\bT corort_spawn\b", out)
    head = subprocess.run(["aarch64-linux-gnu-objdump", "-f", str(a)],
                          capture_output=True, text=True, check=True).stdout
    assert "elf64-littleaarch64" in head
