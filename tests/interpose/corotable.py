"""A small corodbg-table decoder for the interposer tests.

It reads the table only through its self-description: the fixed 40-byte
prefix, then the field records that locate every other field.  READ is a
one-method memory interface, read(address, size) -> bytes, so the same
code serves a gdb inferior and a byte copy.  It stands in until the shared
Python core (python/corodbg/) exists; keep it small.

The field ids and state values below are ABI (corodbg.h, only appended);
test_interpose.py checks them against the header's X-macros.
"""
import struct

MAGIC = b"\x7fCORODBG"
PREFIX = struct.Struct("<8sHHHHBBHHHHHHHHH")  # 40 bytes, little endian
MAX_CHUNKS = 1024
MAX_ENTRY_SIZE = 4096

STATES = {0: "free", 1: "runnable", 2: "running", 3: "blocked", 4: "dead",
          5: "panicked", 6: "crashed"}
DESC_FIELDS = {1: "generation", 2: "live_count", 3: "next_id",
               4: "chunk_dir", 5: "nchunks", 6: "chunk_entries",
               7: "clock_ns", 8: "filter_state_mask", 9: "filter_flags",
               10: "filter_id", 11: "filter_name", 12: "event_hook",
               13: "event_seq", 14: "event_kind", 15: "event_id",
               16: "event_old_state", 17: "event_new_state",
               18: "crashed_id", 19: "runtime_name", 20: "hook_calls",
               21: "filtered", 22: "regs_modes", 23: "block_layout",
               24: "block_layout_count", 25: "frame_layout",
               26: "frame_layout_count", 27: "runtime_code",
               28: "runtime_start", 29: "runtime_code_lo",
               30: "runtime_code_hi"}
ENTRY_FIELDS = {1: "id", 2: "seq", 3: "state", 4: "tid", 5: "last_tid",
                6: "switches", 7: "entry_fn", 8: "create_pc", 9: "stack_lo",
                10: "stack_hi", 11: "created_ns", 12: "since_ns",
                13: "wait_reason", 14: "signal", 15: "wait_addr",
                16: "fault_addr", 17: "panic_msg", 18: "panic_len",
                19: "parent_id", 20: "name", 21: "regs", 22: "regs_mode",
                23: "regs_addr"}
KIND_UINT, KIND_PTR, KIND_CHARS, KIND_U64S, KIND_REGLOCS = 1, 2, 3, 4, 5


class TableError(Exception):
    """The bytes are not a table this decoder can read."""


class Layout:
    """The self-description of one table: where each field lives."""

    def __init__(self, raw):
        if len(raw) < PREFIX.size:
            raise TableError("descriptor truncated")
        (magic, self.abi_major, self.abi_minor, self.desc_size,
         self.entry_size, self.ptr_size, self.byte_order, self.arch,
         dfo, dfc, efo, efc, rego, regc, recsz, _) = PREFIX.unpack_from(raw)
        if magic != MAGIC:
            raise TableError("bad magic %r" % magic)
        if self.abi_major != 1:
            raise TableError("unknown ABI major %d" % self.abi_major)
        if self.byte_order != 1:
            raise TableError("only little-endian tables are supported")
        if not 0 < self.entry_size <= MAX_ENTRY_SIZE or recsz < 8:
            raise TableError("implausible entry or record size")
        self.e = "<"
        self.desc = self._records(raw, dfo, dfc, recsz, DESC_FIELDS)
        self.entry = self._records(raw, efo, efc, recsz, ENTRY_FIELDS)
        if rego + 2 * regc > len(raw):
            raise TableError("register list outside the descriptor")
        self.reg_dwarf = list(struct.unpack_from("<%dH" % regc, raw, rego))

    @staticmethod
    def _records(raw, off, count, recsz, names):
        if off + count * recsz > len(raw):
            raise TableError("field records outside the descriptor")
        out = {}
        for i in range(count):
            fid, foff, size, kind = struct.unpack_from("<HHHH", raw,
                                                       off + i * recsz)
            if fid in names:  # unknown (newer) fields are skipped
                out[names[fid]] = (foff, size, kind)
        return out

    def field(self, fields, raw, name):
        foff, size, kind = fields[name]
        chunk = raw[foff:foff + size]
        if len(chunk) != size:
            raise TableError("field %s outside the record" % name)
        if kind in (KIND_UINT, KIND_PTR):
            return int.from_bytes(chunk, "little")
        if kind == KIND_CHARS:
            return chunk.split(b"\0", 1)[0].decode("utf-8", "replace")
        if kind == KIND_U64S:
            return list(struct.unpack("<%dQ" % (size // 8), chunk))
        if kind == KIND_REGLOCS:   # (dwarf, how, offset) records
            return list(struct.iter_unpack("<HHi", chunk))
        raise TableError("unknown field kind %d" % kind)


def decode(read, addr):
    """Decode the table at ADDR: (descriptor dict, list of entry dicts).

    Entries are the slots that are not free, in slot order."""
    prefix = read(addr, PREFIX.size)
    if len(prefix) < PREFIX.size or prefix[:8] != MAGIC:
        raise TableError("no corodbg table at 0x%x" % addr)
    desc_size = PREFIX.unpack_from(prefix)[3]
    if desc_size < PREFIX.size:
        raise TableError("implausible descriptor size %d" % desc_size)
    raw = read(addr, desc_size)
    layout = Layout(raw)
    desc = {name: layout.field(layout.desc, raw, name) for name in layout.desc}
    desc["abi_major"], desc["abi_minor"] = layout.abi_major, layout.abi_minor
    desc["reg_dwarf"] = layout.reg_dwarf
    nchunks, per = desc["nchunks"], desc["chunk_entries"]
    if nchunks > MAX_CHUNKS or per > 1 << 20:
        raise TableError("implausible chunk counts %d x %d" % (nchunks, per))
    entries = []
    if nchunks:
        dir_raw = read(desc["chunk_dir"], 8 * nchunks)
        for c in struct.unpack("<%dQ" % nchunks, dir_raw):
            block = read(c, per * layout.entry_size)
            for i in range(per):
                rec = block[i * layout.entry_size:(i + 1) * layout.entry_size]
                e = {name: layout.field(layout.entry, rec, name)
                     for name in layout.entry}
                if e["id"] == 0 or e["state"] == 0:
                    continue
                e["state_name"] = STATES.get(e["state"], "?%d" % e["state"])
                e["slot_addr"] = c + i * layout.entry_size
                entries.append(e)
    return desc, entries, layout
