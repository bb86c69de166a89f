"""The C decoder against the Python core on register-mode tables (ABI
1.1: block and frame entries, docs/abi.md) and on the corrupt-chunk
cut-off: the same registers, the same '?' reasons and notes, the same
warnings.  Byte fixtures from tests/core/test_core_regmodes.py."""
import pytest

from corodbg.core import layout

import tablegen
from tablegen import TableImage
from test_core_regmodes import (BLOCK_ADDR, BLOCK_LAYOUT, FCONTEXT, L,
                                WORD_ADDR, image, stack_of, words)
from test_decode_diff import DECODE_IMAGE_SAN, same

BLOCK, FRAME = layout.REGS_MODE_BLOCK, layout.REGS_MODE_FRAME
LO, HI = stack_of(1)


def block(*vals, recs=BLOCK_LAYOUT, count=None, **more):
    img = image(BLOCK, recs, **more)
    if count is not None:
        img.set_desc("block_layout_count", count)
    if vals:
        img.memory[BLOCK_ADDR] = words(*vals)
    return img


def frame(sp, frame_words=None, **more):
    img = image(FRAME, FCONTEXT, **more)
    if sp is not None:
        img.memory[WORD_ADDR] = words(sp)
    if frame_words is not None:
        img.memory[sp] = words(*frame_words)
    return img


def _garbage_chunk():
    img = TableImage(chunk_entries=64)
    for cid in (1, 2, 3):
        img.add(cid - 1, cid, layout.STATE_BLOCKED, "w%d" % cid)
    img.chunks.append(bytearray(b"A" * (64 * img.esize)))
    img.chunks.append(bytearray(b"\x05" * (64 * img.esize)))
    img.set_desc("nchunks", 3)
    return img


SP = HI - 0x300
CASES = {
    "block_good": lambda: block(HI - 0x200, 15, 14, 13, 12, 3, HI - 0x1d0,
                                0x401234),
    "block_sp_outside": lambda: block(0x1000, 0, 0, 0, 0, 0, 0, 0x401234),
    "block_unreadable": lambda: block(),
    "block_count_0": lambda: block(*range(9), count=0),
    "block_no_sp": lambda: block(*range(9), recs=BLOCK_LAYOUT[1:], count=7),
    "block_no_pc": lambda: block(*range(9), recs=BLOCK_LAYOUT[:7], count=7),
    "block_bad_how": lambda: block(*range(9), count=8,
                                   recs=BLOCK_LAYOUT[:7] + [(16, 9, 56)]),
    "block_twice": lambda: block(*range(9), count=9,
                                 recs=BLOCK_LAYOUT + [(7, L, 64)]),
    "block_far_offset": lambda: block(*range(9), count=8,
                                      recs=BLOCK_LAYOUT[:7] +
                                      [(16, L, 1 << 20)]),
    "block_count_too_big": lambda: block(*range(9), count=200),
    # a wide (allowed) span: read into the heap, not onto the stack
    "block_wide_span": lambda: block(*([HI - 0x200] + [7] * 512 +
                                       [0x401777]), count=8,
                                     recs=BLOCK_LAYOUT[:7] +
                                     [(16, L, 8 * 513)]),
    "unknown_mode": lambda: block(*range(9), regs_mode=7),
    "no_address": lambda: block(*range(9), regs_addr=0),
    "frame_good": lambda: frame(SP, (0x1f80037f, 12, 13, 14, 15, 3,
                                     SP + 0x90, 0x402000)),
    "frame_sp_zero": lambda: frame(0),
    "frame_word_unreadable": lambda: frame(None),
    "frame_sp_outside": lambda: frame(0x5000),
    "frame_past_stack": lambda: frame(HI - 16),
    "frame_unreadable_frame": lambda: frame(HI - 0x200),
    "frame_running": lambda: frame(None, state=layout.STATE_RUNNING,
                                   tid=77),
    "garbage_chunks_cut_off": _garbage_chunk,
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("san", [False, True], ids=["plain", "asan-ubsan"])
def test_same_as_python(name, san, tmp_path):
    img = CASES[name]()
    args = (DECODE_IMAGE_SAN,) if san else ()
    same(img, tmp_path, *args)


def test_cases_reach_every_outcome(tmp_path):
    """The cases give registers, each '?' reason and the cut-off warning
    (the comparison could not pass by both printing nothing)."""
    out = {n: same(f(), tmp_path) for n, f in CASES.items()}
    assert "pc=0x401234" in out["block_good"]
    assert "pc=0x402000" in out["frame_good"]
    assert "pc=0x401777" in out["block_wide_span"]
    assert "unreadable=bad-regs note=saved registers at 0x%x unreadable" \
        % BLOCK_ADDR in out["block_unreadable"]
    assert "frame layout reads" in out["frame_past_stack"]
    assert "unreadable=bad-stack" in out["frame_sp_outside"]
    assert "unknown to this corodbg" in out["unknown_mode"]
    assert "only the first 16 listed" in out["garbage_chunks_cut_off"]
    assert out["garbage_chunks_cut_off"].count("\nco ") + \
        out["garbage_chunks_cut_off"].startswith("co ") <= 3 + 2 * 16
