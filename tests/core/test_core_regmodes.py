"""Register modes (docs/abi.md): registers read from the runtime's own
block (block) or from the frame its switch pushed (frame), through the one
core function the debuggers use, and every bad layout or saved sp as a '?'
entry with a reason."""
import struct

import pytest

from corodbg.core import errors, layout, regs
from tablegen import TableImage

L, A = layout.LOC_HOW_LOAD, layout.LOC_HOW_ADDR
BLOCKED = layout.STATE_BLOCKED
# x86-64 DWARF: rip 16, rsp 7, rbp 6, rbx 3, r12-r15 12-15.
# A runtime's own block, in its own order: rsp, r15..r12, rbx, rbp, rip.
BLOCK_LAYOUT = [(7, L, 0), (15, L, 8), (14, L, 16), (13, L, 24),
                (12, L, 32), (3, L, 40), (6, L, 48), (16, L, 56)]
# Boost fcontext x86-64 (FACTS.md): mxcsr/x87 at 0, r12..r15, rbx, rbp,
# the return address at 56, the caller's sp = sp + 64.
FCONTEXT = [(12, L, 8), (13, L, 16), (14, L, 24), (15, L, 32), (3, L, 40),
            (6, L, 48), (16, L, 56), (7, A, 64)]
BLOCK_ADDR = 0x600000
WORD_ADDR = 0x610000


def stack_of(cid):
    lo = 0x7f0000000000 + cid * 0x10000
    return lo, lo + 0x10000


def image(mode, layout_recs, **more):
    img = TableImage()
    field = "block_layout" if mode == layout.REGS_MODE_BLOCK \
        else "frame_layout"
    img.set_desc(field, layout_recs)
    img.set_desc(field + "_count", len(layout_recs))
    img.set_desc("regs_modes", 1 << mode)
    lo, hi = stack_of(1)
    # What corodbg_regs_at_* leaves in the table's own block.
    f = dict(regs=[0, hi], regs_mode=mode,
             regs_addr=BLOCK_ADDR if mode == layout.REGS_MODE_BLOCK
             else WORD_ADDR)
    f.update(more)
    state = f.pop("state", BLOCKED)
    img.add(0, 1, state, "parked", **f)
    img.set_desc("live_count", 1)
    return img


def words(*vals):
    return struct.pack("<%dQ" % len(vals), *vals)


def test_block_mode_reads_the_runtimes_block():
    img = image(layout.REGS_MODE_BLOCK, BLOCK_LAYOUT)
    lo, hi = stack_of(1)
    sp = hi - 0x200
    # rsp, r15, r14, r13, r12, rbx, rbp, rip
    img.memory[BLOCK_ADDR] = words(sp, 15, 14, 13, 12, 3, sp + 0x30,
                                   0x401234)
    t = img.decode()
    co = t.coroutines[0]
    assert co.unreadable is None, co.note
    assert (co.pc, co.sp, co.fp) == (0x401234, sp, sp + 0x30)
    assert regs.saved_registers(t, co) == [
        (16, 0x401234), (7, sp), (6, sp + 0x30), (3, 3), (12, 12),
        (13, 13), (14, 14), (15, 15)]
    assert regs.in_place_addr(t, co) is None   # not one array in the entry
    assert t.warnings == []


def test_frame_mode_reads_the_pushed_frame():
    img = image(layout.REGS_MODE_FRAME, FCONTEXT)
    lo, hi = stack_of(1)
    sp = hi - 0x300
    img.memory[WORD_ADDR] = words(sp)
    img.memory[sp] = words(0x1f80037f, 12, 13, 14, 15, 3, sp + 0x90,
                           0x402000)
    t = img.decode()
    co = t.coroutines[0]
    assert co.unreadable is None, co.note
    assert (co.pc, co.sp, co.fp) == (0x402000, sp + 64, sp + 0x90)
    assert dict(regs.saved_registers(t, co)) == {
        16: 0x402000, 7: sp + 64, 6: sp + 0x90, 3: 3, 12: 12, 13: 13,
        14: 14, 15: 15}


def test_table_mode_is_in_place():
    t = TableImage.sample().decode()
    co = t.by_id[1]
    off = t.entry_layout[2]["regs"][0]
    assert regs.in_place_addr(t, co) == co.addr + off
    assert regs.saved_registers(t, co)[0] == (16, co.pc)


def test_saved_sp_zero_is_no_context_yet():
    img = image(layout.REGS_MODE_FRAME, FCONTEXT)
    img.memory[WORD_ADDR] = words(0)
    t = img.decode()
    co = t.coroutines[0]
    assert co.unreadable is None and not co.pc
    with pytest.raises(errors.NoContextError, match="has no saved context"):
        regs.saved_registers(t, co)


def bad(img):
    t = img.decode()
    co = t.coroutines[0]
    assert co.unreadable is not None
    with pytest.raises(errors.NoContextError) as e:
        regs.saved_registers(t, co)
    assert str(e.value) == "coroutine 1: %s" % co.note
    assert "\n" not in co.note
    return co


def test_saved_sp_outside_the_stack():
    img = image(layout.REGS_MODE_FRAME, FCONTEXT)
    img.memory[WORD_ADDR] = words(0x5000)
    co = bad(img)
    lo, hi = stack_of(1)
    assert co.unreadable == "bad-stack"
    assert co.note == "saved sp 0x5000 outside its stack [0x%x, 0x%x)" % (
        lo, hi)


def test_frame_layout_reading_past_the_stack():
    img = image(layout.REGS_MODE_FRAME, FCONTEXT)
    lo, hi = stack_of(1)
    img.memory[WORD_ADDR] = words(hi - 16)   # a 64-byte frame cannot fit
    img.memory[hi - 0x100] = bytes(0x200)
    co = bad(img)
    assert co.unreadable == "bad-regs"
    assert co.note == ("frame layout reads 0x%x outside its stack "
                       "[0x%x, 0x%x)" % (hi - 16 + 56, lo, hi))


def test_block_gives_an_sp_outside_the_stack():
    img = image(layout.REGS_MODE_BLOCK, BLOCK_LAYOUT)
    img.memory[BLOCK_ADDR] = words(0x1000, 0, 0, 0, 0, 0, 0, 0x401234)
    co = bad(img)
    assert co.unreadable == "bad-stack"
    assert co.note.startswith("saved sp 0x1000 outside its stack")


def test_unreadable_block_and_word():
    co = bad(image(layout.REGS_MODE_BLOCK, BLOCK_LAYOUT))
    assert co.note == "saved registers at 0x%x unreadable" % BLOCK_ADDR
    co = bad(image(layout.REGS_MODE_FRAME, FCONTEXT))
    assert co.note == "saved-sp word at 0x%x unreadable" % WORD_ADDR


@pytest.mark.parametrize("recs,count,note", [
    (BLOCK_LAYOUT, 0, "the runtime set no block_layout"),
    (BLOCK_LAYOUT[1:], 7, "block_layout gives no sp"),
    (BLOCK_LAYOUT[:7], 7, "block_layout gives no pc"),
    (BLOCK_LAYOUT[:7] + [(16, 9, 56)], 8,
     "block_layout: register 16 has unknown how 9"),
    (BLOCK_LAYOUT + [(7, L, 64)], 9, "block_layout: register 7 given twice"),
    (BLOCK_LAYOUT[:7] + [(16, L, 1 << 20)], 8,
     "block_layout: register 16 at implausible offset 1048576"),
    (BLOCK_LAYOUT, 200, "block_layout count 200 exceeds its 24 records"),
])
def test_bad_layouts(recs, count, note):
    img = image(layout.REGS_MODE_BLOCK, recs)
    img.set_desc("block_layout_count", count)
    img.memory[BLOCK_ADDR] = words(*range(9))
    co = bad(img)
    assert (co.unreadable, co.note) == ("bad-regs", note)


def test_unknown_mode_and_missing_address():
    co = bad(image(layout.REGS_MODE_BLOCK, BLOCK_LAYOUT, regs_mode=7))
    assert co.note == "register mode 7 unknown to this corodbg: upgrade it"
    co = bad(image(layout.REGS_MODE_BLOCK, BLOCK_LAYOUT, regs_addr=0))
    assert co.note == "block mode without an address"


def test_running_entry_is_not_resolved():
    img = image(layout.REGS_MODE_FRAME, FCONTEXT,
                state=layout.STATE_RUNNING, tid=77)
    t = img.decode()   # the saved-sp word is not even readable
    assert t.coroutines[0].unreadable is None


def test_reader_of_abi_1_0_shows_no_stack():
    """A reader that predates the modes skips their field ids and sees the
    table's own block as the library leaves it: pc 0, no stack, no '?'."""
    img = image(layout.REGS_MODE_FRAME, FCONTEXT)
    # Hide the new entry fields the way an old reader does not know them.
    p = img.prefix
    base = p["entry_fields_off"]
    for i in range(p["entry_fields_count"]):
        off = base + i * p["field_record_size"]
        fid = struct.unpack_from("<H", img.desc, off)[0]
        if fid in (layout.ENTRYF_REGS_MODE, layout.ENTRYF_REGS_ADDR):
            struct.pack_into("<H", img.desc, off, 999)
    t = img.decode()
    co = t.coroutines[0]
    assert co.unreadable is None and co.pc == 0
    with pytest.raises(errors.NoContextError):
        regs.saved_registers(t, co)


def test_read_entry_resolves_too():
    from corodbg.core import decode
    img = image(layout.REGS_MODE_BLOCK, BLOCK_LAYOUT)
    lo, hi = stack_of(1)
    img.memory[BLOCK_ADDR] = words(hi - 64, 0, 0, 0, 0, 0, 0, 0x401111)
    r = img.reader()
    t = decode.decode_table(r, 0x10000)
    again = decode.read_entry(r, t, t.coroutines[0])
    assert again.pc == 0x401111 and again.sp == hi - 64
