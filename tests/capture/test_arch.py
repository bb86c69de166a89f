"""aarch64 cores: the register layouts are per-architecture tables
(capture/lib/arch_regs.c).  A qemu-aarch64 core of the cross-built
examples/segv (no NT_FILE note: --exe gives the program, mapped where the
core's AT_ENTRY puts it) is read on this x86-64 machine: the table's
aarch64 register blocks, aarch64 CFI, the crashed thread's NT_PRSTATUS.
The parked coroutines' stacks equal gdb-multiarch's `bt` on the same
core.  The live paths (ptrace, perf) have only run on x86-64."""
import json
import sys

from capture_util import ROOT, corodbg
from test_stack_end import check, gdb_stacks, our_stacks

sys.path.insert(0, str(ROOT / "tests" / "aarch64"))
# qemu_core: the core qemu-user writes for segv-nopie (a fixture)
from test_aarch64 import binary, gdb_multiarch, qemu_core  # noqa: E402,F401


def test_parked_stacks_as_gdb_multiarch(qemu_core):
    exe = binary("segv-nopie")
    gdb = gdb_stacks(gdb_multiarch("segv-nopie", ["coroutine apply all bt"],
                                   core=qemu_core))
    ours = our_stacks(qemu_core, exe)
    assert ours[1] == ["corort__park", "corort__block", "recv",
                       "corort_chan_recv", "collector"], ours
    # the crashed coroutine: GDB shows the runtime's crash context, corodbg
    # the thread's registers (qemu dumps them inside the re-raise)
    check({k: v for k, v in gdb.items() if k != 3}, ours)


def test_crashed_thread_registers(qemu_core):
    """NT_PRSTATUS's aarch64 pr_reg: pc, sp and the link register lead
    the unwind into read_field, where the program crashed."""
    d = json.loads(corodbg("dump", qemu_core, "--exe", binary("segv-nopie"),
                           "--format", "json").stdout)
    co = {c["id"]: c for c in d["coroutines"]}[3]
    assert co["state"] == "crashed"
    assert "read_field" in [f["function"] for f in co["frames"]], co
    assert [t["coroutine"] for t in d["threads"]] == [3]


def test_without_exe_says_what_to_give(qemu_core):
    r = corodbg("dump", qemu_core, check=False)
    assert r.returncode == 1
    assert r.stderr == ("corodbg: %s: the core has no NT_FILE note: cannot "
                        "find the program's modules (give the executable "
                        "with --exe)\n" % qemu_core)
