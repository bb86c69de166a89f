"""Build coroutine-table images in memory for the core's tests.

The descriptor bytes come from libcorodbg itself (fixtures/
descriptor-x86_64.bin is the .corodbg section of libcorodbg.so; a test
checks it matches the current build), so the field records, offsets and
sizes are the real ones.  Entries are written through those records.
"""
import pathlib
import struct

from corodbg.core import decode, layout
from corodbg.core.reader import BytesReader

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"
DESC_ADDR = 0x10000
DIR_ADDR = 0x20000
CHUNK_BASE = 0x10000000
CHUNK_GAP = 0x100000


class TableImage:
    def __init__(self, desc_bytes=None, chunk_entries=8):
        if desc_bytes is None:
            desc_bytes = (FIXTURES / "descriptor-x86_64.bin").read_bytes()
        self.desc = bytearray(desc_bytes)
        p = decode.decode_prefix(bytes(self.desc[:40]))
        self.prefix = p
        w = []
        self.dfields = decode.field_records(
            bytes(self.desc), p, "desc_fields_off", "desc_fields_count",
            p["desc_size"], decode.DESC_NAMES, "descriptor", w)
        self.efields = decode.field_records(
            bytes(self.desc), p, "entry_fields_off", "entry_fields_count",
            p["entry_size"], decode.ENTRY_NAMES, "entry", w)
        assert not w, w
        self.esize = p["entry_size"]
        self.chunk_entries = chunk_entries
        self.chunks = []            # bytearrays
        self.dir_extra = []         # raw pointers overriding the directory
        self.set_desc("chunk_entries", chunk_entries)
        self.set_desc("chunk_dir", DIR_ADDR)
        self.set_desc("nchunks", 0)
        self.set_desc("generation", 2)
        self.set_desc("clock_ns", 10 * 10**9)
        self.dir_override = None
        self.memory = {}            # more regions: {address: bytes}

    # -- raw field access --
    def _put(self, buf, base, rec, value):
        off, size, kind = rec
        if kind == layout.FIELD_KIND_CHARS:
            raw = value.encode() if isinstance(value, str) else bytes(value)
            buf[base + off:base + off + size] = raw[:size].ljust(size, b"\0")
        elif kind == layout.FIELD_KIND_REGLOCS:   # [(dwarf, how, offset)]
            raw = b"".join(struct.pack("<" + layout.REG_LOC_FORMAT, *r)
                           for r in value)
            buf[base + off:base + off + size] = raw[:size].ljust(size, b"\0")
        elif kind == layout.FIELD_KIND_U64S:
            vals = list(value) + [0] * (size // 8 - len(value))
            struct.pack_into("<%dQ" % (size // 8), buf, base + off, *vals)
        else:
            struct.pack_into("<" + decode.UINT_CODES[size], buf, base + off,
                             value)

    def set_desc(self, name, value):
        self._put(self.desc, 0, self.dfields[name], value)

    def set_prefix(self, name, value):
        names = [n for n, _ in layout.PREFIX_FIELDS]
        off = struct.calcsize("<" + "".join(
            c for _, c in layout.PREFIX_FIELDS[:names.index(name)]))
        code = dict(layout.PREFIX_FIELDS)[name]
        struct.pack_into("<" + code, self.desc, off, value)

    def entry_addr(self, slot):
        ci, k = divmod(slot, self.chunk_entries)
        return CHUNK_BASE + ci * CHUNK_GAP + k * self.esize

    def set_entry(self, slot, **fields):
        ci, k = divmod(slot, self.chunk_entries)
        while len(self.chunks) <= ci:
            self.chunks.append(bytearray(self.chunk_entries * self.esize))
        for name, value in fields.items():
            self._put(self.chunks[ci], k * self.esize, self.efields[name],
                      value)
        self.set_desc("nchunks", len(self.chunks))

    def add(self, slot, cid, state, name, pc=0x401000, sp=None, **more):
        stack_lo = 0x7f0000000000 + cid * 0x10000
        stack_hi = stack_lo + 0x10000
        if sp is None:
            sp = stack_hi - 0x100
        f = dict(id=cid, state=state, name=name, seq=2,
                 regs=[pc, sp, sp + 0x40, 1, 2, 3, 4, 5],
                 stack_lo=stack_lo, stack_hi=stack_hi,
                 entry_fn=0x400800 + cid, create_pc=0x400900,
                 created_ns=10**9, since_ns=4 * 10**9)
        f.update(more)
        self.set_entry(slot, **f)

    def reader(self):
        r = BytesReader()
        r.add(DESC_ADDR, bytes(self.desc))
        ptrs = [CHUNK_BASE + i * CHUNK_GAP for i in range(len(self.chunks))]
        if self.dir_override is not None:
            ptrs = self.dir_override
        # The real directory is a static array of MAX_CHUNKS slots.
        dir_slots = layout.MAX_COROUTINES // self.chunk_entries
        raw = struct.pack("<%dQ" % len(ptrs), *ptrs)
        r.add(DIR_ADDR, raw.ljust(8 * max(dir_slots, len(ptrs)), b"\0"))
        for i, c in enumerate(self.chunks):
            r.add(CHUNK_BASE + i * CHUNK_GAP, bytes(c))
        for base, data in self.memory.items():
            r.add(base, data)
        return r

    def decode(self):
        return decode.decode_table(self.reader(), DESC_ADDR)

    @classmethod
    def sample(cls):
        """Six coroutines: ids 1..6 in slots 0..5 (one chunk of 8):
        1 consumer blocked (chan receive), 2 sleeper blocked (sleep),
        3 yielder runnable, 4 worker running on tid 4242,
        5 panicker panicked, 6 crasher crashed (SIGSEGV at 0x10)."""
        t = cls()
        t.add(0, 1, layout.STATE_BLOCKED, "consumer",
              wait_reason=layout.WAIT_CHAN_RECV, wait_addr=0x5000)
        t.add(1, 2, layout.STATE_BLOCKED, "sleeper",
              wait_reason=layout.WAIT_SLEEP, since_ns=9 * 10**9)
        t.add(2, 3, layout.STATE_RUNNABLE, "yielder")
        t.add(3, 4, layout.STATE_RUNNING, "worker", tid=4242, last_tid=4242)
        t.add(4, 5, layout.STATE_PANICKED, "panicker")
        t.add(5, 6, layout.STATE_CRASHED, "crasher", signal=11,
              fault_addr=0x10)
        t.set_desc("live_count", 6)
        t.set_desc("next_id", 7)
        # described as corort describes itself (runtime/src/sched.c)
        t.set_desc("runtime_name", "corort")
        t.set_desc("runtime_code", "corort_*,corort__*,file:*runtime/src/*")
        return t

    @classmethod
    def randomly_corrupted(cls, rnd):
        """The sample with 1 to 6 random bytes of its descriptor or of its
        chunk overwritten (RND: a random.Random)."""
        img = cls.sample()
        for _ in range(rnd.randint(1, 6)):
            if rnd.random() < 0.5:
                i = rnd.randrange(len(img.desc))
                img.desc[i] = rnd.randrange(256)
            else:
                c = img.chunks[0]
                c[rnd.randrange(len(c))] = rnd.randrange(256)
        return img
