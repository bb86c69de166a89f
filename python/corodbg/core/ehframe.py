"""Function start addresses from a loaded module's .eh_frame_hdr.

A stripped program has no symbols for its static functions, so a
debugger names their frames `?? ()` and knows no function start.  But
every function with unwind information has an FDE, and the linker's
.eh_frame_hdr holds a table of the FDEs' initial locations, sorted: the
start of the function holding a pc is the greatest initial location not
above it.  That is enough to find a coroutine's entry function by
address (runtime_rules.StackEnd) in a stripped program.

Only the encodings GNU ld, gold and lld write are read (the table as
datarel|sdata4 pairs); anything else gives no index (None), never a
wrong answer.  Code without an FDE (hand-written assembly without CFI)
maps to the FDE before it: callers compare starts for equality with a
known function, so a wrong start only means "not that function".
"""
import struct
from bisect import bisect_right

from .errors import MemoryReadError

_DW_EH_PE_DATAREL_SDATA4 = 0x3B   # the table's encoding, as ld/lld write it
_SIZE4 = {0x03: "I", 0x0B: "i", 0x1B: "i"}  # udata4, sdata4, pcrel|sdata4
MAX_FDES = 1 << 22     # a larger count is a corrupt header, not a program


class EhFrameHdr:
    """Sorted FDE initial locations of one loaded .eh_frame_hdr."""

    def __init__(self, starts):
        self.starts = starts

    def start_of(self, pc):
        """Start of the function holding PC (by its FDE), or None."""
        i = bisect_right(self.starts, pc)
        return self.starts[i - 1] if i else None


def read_eh_frame_hdr(reader, addr, size, endian="<"):
    """The EhFrameHdr of the .eh_frame_hdr section loaded at ADDR (SIZE
    bytes, from the module's section table; one read), or None when it
    cannot be read or uses encodings not handled here."""
    if not 12 <= size <= 12 + 8 * MAX_FDES:
        return None
    try:
        data = reader.read(addr, size)
    except MemoryReadError:
        return None
    version, ptr_enc, count_enc, table_enc = data[:4]
    if version != 1 or table_enc != _DW_EH_PE_DATAREL_SDATA4 or \
            count_enc not in _SIZE4 or ptr_enc not in _SIZE4:
        return None
    count, = struct.unpack_from(endian + _SIZE4[count_enc], data, 8)
    if count <= 0 or 12 + 8 * count > size:
        return None
    # pairs of (initial location, FDE address), each relative to ADDR
    rel = struct.unpack_from("%s%di" % (endian, 2 * count), data, 12)[0::2]
    return EhFrameHdr(sorted(addr + r for r in rel))


def function_start(hdr, pc):
    """Start of the function holding code address PC by HDR, taking PC
    as a return address (the call is at PC - 1) unless PC is itself a
    function's start (a coroutine that never ran sits there)."""
    start = hdr.start_of(pc)
    if start is None or start == pc:
        return start
    return hdr.start_of(pc - 1)
