"""Corrupt the table in a live process and in a core file (issue 3
section 9): every case gives one clear line, the entries that can still be
read, and never a traceback, a hang or a GDB exit."""
import re

import pytest

from gdbdriver import binary, listing, run_gdb

STOP = ["break fixture_ready", "run"]
CHUNK0 = "((unsigned long *)corodbg_table.chunk_dir)[0]"
ENTRY = "((struct corodbg_entry *)%s)" % CHUNK0
ALL = [1, 2, 3, 4, 5, 6]

CASES = {
    "bad-magic": (["set var corodbg_table.magic[1] = 'X'"],
                  r"^bad magic 7f584f524f444247: not a corodbg table$", []),
    "future-major": (["set var corodbg_table.abi_major = 9"],
                     r"^table ABI version 9\.1 is not supported \(this "
                     r"corodbg reads major 1\): upgrade corodbg$", []),
    "count-2^40": (["set var corodbg_table.live_count = 1099511627776"],
                   r"^warning: corodbg: live_count 1099511627776 disagrees "
                   r"with the 6 live entries found$", ALL),
    "nchunks-huge": (["set var corodbg_table.nchunks = 4000000000"],
                     r"^warning: corodbg: nchunks 4000000000 exceeds the "
                     r"table maximum \(1024\): reading the first 1024$", ALL),
    "chunk-dir-unmapped": (["set var corodbg_table.chunk_dir = 0x18"],
                           r"^warning: corodbg: chunk directory at 0x18 "
                           r"\(1 chunks\) is unreadable: no entries read$",
                           []),
    "chunk-unmapped": (["set var %s = 0xdead0000" % CHUNK0],
                       r"^warning: corodbg: chunk 0 at 0xdead0000 is "
                       r"unreadable: its 4096 slots are missing$", []),
    "chunk-cycle": (["set var ((unsigned long *)corodbg_table.chunk_dir)[1]"
                     " = %s" % CHUNK0, "set var corodbg_table.nchunks = 2"],
                    r"^warning: corodbg: chunk 1 repeats chunk 0 at 0x[0-9a-f]+"
                    r" \(cycle\): skipped$", ALL),
    "name-unterminated": (["set var {unsigned long[4]} %s->name = "
                           "{0x4141414141414141, 0x4141414141414141, "
                           "0x4141414141414141, 0x4141414141414141}"
                           % ENTRY],
                          r"^warning: corodbg: 1 entry could not be fully "
                          r"read \(marked '\?'\)$", ALL),
    "generation-odd": (["set var corodbg_table.generation = 13"],
                       r"^warning: corodbg: the table was being updated when "
                       r"the program stopped \(generation 13 is odd\): the "
                       r"listing may be inconsistent$", ALL),
    "entry-seq-odd-bad-state": (["set var %s[0].seq = 5" % ENTRY,
                                 "set var %s[1].state = 77" % ENTRY],
                                r"^warning: corodbg: 2 entries could not be "
                                r"fully read \(marked '\?'\)$", ALL),
    "entry-sizes": (["set var corodbg_table.entry_size = 0"],
                    r"^bad entry_size 0$", []),
    "field-records": (["set var corodbg_table.entry_fields_off = 60000"],
                      r"^entry field records \(\d+ at offset 60000\) do not "
                      r"fit the \d+-byte descriptor$", []),
    # issue 14 item 5: a stale RUNNING entry (its thread exited)
    "running-unknown-tid": (["set var %s[1].state = 2" % ENTRY,
                             "set var %s[1].tid = 12345" % ENTRY],
                            r"^warning: corodbg: coroutine 2 is running on "
                            r"thread 12345, which the debugger does not know "
                            r"\(exited\?\): marked '\?'$", ALL),
    "stack-pointer": (["set var %s[2].regs[1] = 0x10" % ENTRY],
                      r"^warning: corodbg: 1 entry could not be fully read",
                      ALL),
}


def _check(out, regex, ids):
    assert re.search(regex, out, re.M), out
    assert "alive" in out  # gdb went on
    rows = listing(out)
    assert sorted(rows) == ids, out
    if ids:
        assert re.search(r"^(Total|Shown)", out, re.M)


@pytest.mark.parametrize("case", sorted(CASES))
def test_corrupt_live_then_core(case, tmp_path):
    setup, regex, ids = CASES[case]
    core = tmp_path / "c.core"
    out = run_gdb(STOP + setup + ["info coroutines", "coroutine leaks",
                                  "gcore %s" % core, "echo alive\\n"],
                  ["list", 6], timeout=30)
    _check(out, regex, ids)
    out = run_gdb(["core-file %s" % core, "info coroutines",
                   "echo alive\\n"], target=[str(binary())], timeout=30)
    _check(out, regex, ids)


def test_unterminated_name_shown_and_marked():
    out = run_gdb(STOP + CASES["name-unterminated"][0] + ["info coroutines"],
                  ["list", 6])
    rows = listing(out)
    assert rows[1][0] == "?" and "A" * 32 in rows[1][2]


def test_unreadable_descriptor_address():
    # A table symbol pointing nowhere: the stripped binary reads the
    # section, so fake it through the symbol-less path with a bad prefix.
    out = run_gdb(STOP + ["set var corodbg_table.desc_size = 60000",
                          "info coroutines", "coroutine 1",
                          "coroutine apply all bt", "coroutine leaks",
                          "print $_coroutine_state(1)",
                          "print $_coroutine_id()", "echo alive\\n"],
                  ["list", 6])
    assert out.count("bad desc_size 60000") >= 4
    assert "$1 = 0" in out and "alive" in out


def test_stale_running_entry_keeps_every_listing():
    """Issue 14 item 5: -u, -t, -group and coroutine apply list everything,
    the stale entry marked '?'."""
    setup = CASES["running-unknown-tid"][0]
    for cmd in ("info coroutines -u", "info coroutines -t 2",
                "info coroutines -state running"):
        out = run_gdb(STOP + setup + [cmd], ["list", 6])
        rows = listing(out)
        assert rows[2][0] == "?", out
        if "-state" not in cmd:
            assert sorted(rows) == ALL, out
    out = run_gdb(STOP + setup + ["info coroutines -group user",
                                  "coroutine apply all bt 1"], ["list", 6])
    assert re.search(r"^Total: 6 coroutines", out, re.M), out
    assert out.count("\nCoroutine ") == 6, out


REGS_SIZE = ("*(unsigned short *)((char *)&corodbg_table + "
             "corodbg_table.entry_fields_off + 8 * 20 + 4)")  # regs record

REGMAP = {
    "count-out-of-range": (["set var corodbg_table.regs_count = 70"],
                           "0 register numbers for a 8-register block"),
    "unknown-dwarf": (["set var corodbg_table.reg_dwarf[3] = 99"],
                      "DWARF register 99 is not a x86-64 register"),
    "arch-mismatch": (["set var corodbg_table.arch = 183"],
                      "the table is for aarch64, the program is x86-64"),
    "pc-not-slot-0": (["set var corodbg_table.reg_dwarf[0] = 6"],
                      "slots 0 and 1 are DWARF 6 and 7, not x86-64 pc and "
                      "sp (16 and 7)"),
    # item 14: a one-register block was an internal TypeError
    "one-register-block": (["set var %s = 8" % REGS_SIZE],
                           "8 register numbers for a 1-register block"),
}


@pytest.mark.parametrize("case", sorted(REGMAP))
def test_unusable_register_map(case):
    """Issue 14 item 11: one line and no view, never an IndexError and
    the running thread's stack shown as the coroutine's."""
    setup, why = REGMAP[case]
    out = run_gdb(STOP + setup + ["info coroutines", "coroutine 2", "bt 1",
                                  "echo alive\\n"], ["list", 6])
    assert re.search(r"^register map unusable: %s$" % re.escape(why), out,
                     re.M), out
    assert "Switching to coroutine" not in out and "Error" not in out
    assert sorted(listing(out)) == ALL, out
    assert re.search(r"^#0  fixture_ready \(\)", out, re.M)  # no view
    assert "alive" in out
    # listings that need stacks still list, without them, warned once
    out = run_gdb(STOP + setup + ["info coroutines -t 2", "coroutine leaks",
                                  "info coroutines -u"], ["list", 6])
    assert out.count("warning: corodbg: register map unusable: %s: no "
                     "stacks for parked coroutines" % why) == 1, out
    assert out.count("Total: 6 coroutines") == 2, out
    assert "4 blocked coroutines in 2 groups" in out
    assert not re.search(r"^\s+#\d", out, re.M), out


HOSTILE_NAME = b"ev\x1b]0;pwned\x07\r\n(gdb) fake\xc2\x9b\x00"
WRITE_NAME = ("python gdb.selected_inferior().write_memory(int("
              "gdb.parse_and_eval('&%s[1].name[0]')), %r)"
              % (ENTRY, HOSTILE_NAME))


def test_hostile_name_is_escaped():
    """Issue 14 item 15: ESC/OSC, CR and a newline with a fake prompt in a
    name reach the terminal escaped, in every command that prints it."""
    out = run_gdb(STOP + [WRITE_NAME, "info coroutines", "coroutine 2",
                          "coroutine apply 2 bt 1", "info coroutines -t 1",
                          "coroutine leaks", "echo alive\\n"], ["list", 6])
    shown = r"ev\x1b]0;pwned\x07\r\n(gdb) fake\x9b"
    assert "\x1b" not in out and "\r" not in out and "\x9b" not in out
    assert not re.search(r"^\(gdb\) fake", out, re.M), out
    assert out.count(shown) >= 4, out
    assert '[Switching to coroutine 2 "%s" (blocked, sleep)]' % shown in out


def test_created_without_context():
    """Issue 14 item 17: a coroutine with pc 0 and sp 0 (created, no
    context yet; valid per docs/abi.md) is listed without a stack, not
    marked unreadable, and does not stop -t, -u or leaks."""
    out = run_gdb(STOP + ["set var %s[2].regs[0] = 0" % ENTRY,
                          "set var %s[2].regs[1] = 0" % ENTRY,
                          "info coroutines -t 2", "info coroutines -u",
                          "coroutine leaks", "coroutine 3"], ["list", 6])
    assert "could not be fully read" not in out
    assert out.count("Total: 6 coroutines") == 2, out
    assert re.search(r"^  3  runnable .* yielder  \?\?$", out, re.M), out
    assert "blocked on sleep" in out
    assert re.search(r"^coroutine 3 has no saved context$", out, re.M)


def test_garbage_chunks_are_cut_off():
    """Issue 14 item 17: chunk pointers into readable garbage (here 7 of
    them into one 'AAAA...' mapping) list at most 16 corrupt rows each and
    say so, instead of 4096 rows per chunk."""
    setup = ["set var $m = (unsigned long)mmap(0, 4194304, 3, 34, -1, 0)",
             "call (void *)memset($m, 65, 4194304)",
             "set var corodbg_table.nchunks = 8"]
    setup += ["set var ((unsigned long *)corodbg_table.chunk_dir)[%d] = "
              "$m + %d" % (k, 8 * k) for k in range(1, 8)]
    out = run_gdb(STOP + setup + ["info coroutines", "echo alive\\n"],
                  ["list", 6])
    assert len(re.findall(r"^warning: corodbg: chunk \d at 0x[0-9a-f]+: 4096 "
                          r"corrupt entries \(a wrong chunk pointer\?\): only "
                          r"the first 16 listed", out, re.M)) == 1, out
    assert "(7 times" in out, out
    assert len(re.findall(r"^\? ", out, re.M)) == 7 * 16, out
    assert "alive" in out


def test_bad_stack_entry_does_not_stop_stacks():
    """A '?' entry whose saved sp lies outside its stack is listed without
    a stack by -t, -u and leaks (before, its error ended the listing)."""
    out = run_gdb(STOP + CASES["stack-pointer"][0] + [
        "info coroutines -t 1", "info coroutines -u", "coroutine leaks"],
        ["list", 6])
    assert out.count("Total: 6 coroutines") == 2, out
    assert re.search(r"^\? 3 ", out, re.M), out
    assert "blocked coroutines in 2 groups" in out
