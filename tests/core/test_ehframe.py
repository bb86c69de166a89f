"""core/ehframe.py: function starts from a loaded .eh_frame_hdr, and no
index (never a wrong one) from a header it does not handle."""
import struct

from corodbg.core import ehframe
from corodbg.core.reader import BytesReader

HDR = 0x5000


def _hdr(starts, table_enc=0x3B, version=1, count=None):
    head = struct.pack("<BBBBiI", version, 0x1B, 0x03, table_enc, 0x100,
                       len(starts) if count is None else count)
    body = b"".join(struct.pack("<ii", s - HDR, 0x200 + 16 * i)
                    for i, s in enumerate(starts))
    return head + body


def _read(data, size=None):
    r = BytesReader()
    r.add(HDR, bytearray(data))
    return ehframe.read_eh_frame_hdr(r, HDR, len(data) if size is None
                                     else size)


def test_function_start_by_fde():
    hdr = _read(_hdr([0x1000, 0x1400, 0x1040]))    # (sorted by us)
    assert hdr.starts == [0x1000, 0x1040, 0x1400]
    assert hdr.start_of(0xfff) is None
    assert ehframe.function_start(hdr, 0x1041) == 0x1040
    # a return address just past a call at a function's last byte
    assert ehframe.function_start(hdr, 0x1400) == 0x1400  # a start itself
    assert ehframe.function_start(hdr, 0x1401) == 0x1400
    assert ehframe.function_start(hdr, 0x1040 + 5) == 0x1040


def test_headers_not_handled_give_no_index():
    assert _read(_hdr([0x1000], table_enc=0x03)) is None   # absolute table
    assert _read(_hdr([0x1000], version=2)) is None
    assert _read(_hdr([0x1000], count=1 << 30)) is None    # corrupt count
    assert _read(_hdr([0x1000, 0x2000]), size=16) is None  # truncated
    assert _read(b"\x01\x1b") is None
    r = BytesReader()        # nothing mapped there
    assert ehframe.read_eh_frame_hdr(r, HDR, 64) is None
