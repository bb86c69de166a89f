"""Decode the coroutine table from raw target memory.

The read plan is fixed and small: the 40-byte prefix, the descriptor
(desc_size bytes), the chunk directory (nchunks x 8 bytes), then one read
per chunk.  Every count, size, offset and pointer is validated before use.
Only an unusable descriptor raises (BadTableError); a bad chunk becomes a
warning and a bad entry an `unreadable` coroutine, so the rest is listed.
"""
import collections
import functools
import gc
import struct
import sys
from array import array
from bisect import bisect_right
from itertools import chain, compress, islice
from operator import attrgetter, countOf, itemgetter, le, lt

from . import layout, regs
from .errors import BadTableError, MemoryReadError
from .escape import printable
from .model import Coroutine, Table, ENTRY_FIELD_NAMES, COLUMNS
from .reader import MAX_READ

MAX_DESC_SIZE = 4096
MAX_ENTRY_SIZE = 4096
MAX_FIELDS = 256
KIND_UINT = layout.FIELD_KIND_UINT
KIND_PTR = layout.FIELD_KIND_PTR
KIND_CHARS = layout.FIELD_KIND_CHARS
KIND_U64S = layout.FIELD_KIND_U64S
KIND_REGLOCS = layout.FIELD_KIND_REGLOCS
UINT_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}
DESC_NAMES = {v: t for _, v, t in layout.DESC_FIELDS}
ENTRY_NAMES = {v: t for _, v, t in layout.ENTRY_FIELDS}
NSTATES = max(v for _, v, _ in layout.STATES) + 1
# Strings of the descriptor; an unterminated one gets a warning.
REQUIRED_DESC = ("chunk_dir", "nchunks", "chunk_entries")
REQUIRED_ENTRY = ("id", "state")


def _endian(prefix_bytes_order):
    if prefix_bytes_order == 1:
        return "<"
    if prefix_bytes_order == 2:
        return ">"
    return None


def decode_prefix(data):
    """Parse the fixed prefix (bytes) into a dict; validate magic/major."""
    if len(data) < struct.calcsize("<" + layout.PREFIX_FORMAT):
        raise BadTableError("descriptor prefix truncated")
    magic = data[:8]
    if magic != layout.MAGIC:
        raise BadTableError("bad magic %s: not a corodbg table"
                            % magic.hex())
    # byte_order sits at a fixed place; peek it to pick the format.
    names = [n for n, _ in layout.PREFIX_FIELDS]
    little = struct.unpack_from("<" + layout.PREFIX_FORMAT, data)
    order = little[names.index("byte_order")]
    endian = _endian(order)
    if endian is None:
        raise BadTableError("bad byte_order %d (expected 1 or 2)" % order)
    values = struct.unpack_from(endian + layout.PREFIX_FORMAT, data)
    p = dict(zip(names, values))
    p["endian"] = endian
    if p["abi_major"] != layout.ABI_MAJOR:
        raise BadTableError(
            "table ABI version %d.%d is not supported (this corodbg reads "
            "major %d): upgrade corodbg" % (p["abi_major"], p["abi_minor"],
                                            layout.ABI_MAJOR))
    if p["ptr_size"] not in (4, 8):
        raise BadTableError("bad ptr_size %d" % p["ptr_size"])
    rec = struct.calcsize("<" + layout.FIELD_RECORD_FORMAT)
    if p["field_record_size"] < rec or p["field_record_size"] > 64:
        raise BadTableError("bad field_record_size %d"
                            % p["field_record_size"])
    if not layout.PREFIX_READ_SIZE <= p["desc_size"] <= MAX_DESC_SIZE:
        raise BadTableError("bad desc_size %d" % p["desc_size"])
    if not 8 <= p["entry_size"] <= MAX_ENTRY_SIZE:
        raise BadTableError("bad entry_size %d" % p["entry_size"])
    return p


def field_records(data, p, off_key, count_key, owner_size, names, what,
                  warnings):
    """Return {field name: (offset, size, kind)} for one record array (the
    descriptor's or the entry's self-description; filter.py reads the
    descriptor's too)."""
    off, count = p[off_key], p[count_key]
    rs = p["field_record_size"]
    if count > MAX_FIELDS or off + count * rs > len(data):
        raise BadTableError("%s field records (%d at offset %d) do not fit "
                            "the %d-byte descriptor"
                            % (what, count, off, len(data)))
    fmt = struct.Struct(p["endian"] + layout.FIELD_RECORD_FORMAT)
    out = {}
    for i in range(count):
        fid, foff, fsize, kind = fmt.unpack_from(data, off + i * rs)
        name = names.get(fid)
        if name is None:
            continue  # a field appended by a newer minor: skip it
        bad = None
        if foff + fsize > owner_size or fsize == 0:
            bad = "lies outside the %d-byte %s" % (owner_size, what)
        elif kind in (KIND_UINT, KIND_PTR) and fsize not in UINT_CODES:
            bad = "has size %d" % fsize
        elif kind == KIND_PTR and fsize != p["ptr_size"]:
            bad = "pointer of size %d" % fsize
        elif kind in (KIND_U64S, KIND_REGLOCS) and fsize % 8:
            bad = "register array size %d" % fsize
        elif kind not in (KIND_UINT, KIND_PTR, KIND_CHARS, KIND_U64S,
                          KIND_REGLOCS):
            bad = "has unknown kind %d" % kind
        if not bad and _expected_kinds(name) and \
                kind not in _expected_kinds(name):
            bad = "has kind %d" % kind
        if bad:
            warnings.append("%s field %s %s: ignored" % (what, name, bad))
            continue
        if name in out:
            warnings.append("%s field %s described twice: first kept"
                            % (what, name))
            continue
        out[name] = (foff, fsize, kind)
    return out


# The kind corodbg.h gives each field (its X-macros, through layout.py).
_HEADER_KINDS = dict(layout.DESC_FIELD_KIND, **layout.ENTRY_FIELD_KIND)


def _expected_kinds(name):
    """The kinds a record of field NAME may have: the header's, where a
    uint and a pointer are the same bytes and either stands for the
    other."""
    kind = _HEADER_KINDS.get(name, KIND_UINT)
    return (KIND_UINT, KIND_PTR) if kind in (KIND_UINT, KIND_PTR) else (kind,)


def _code(size, kind):
    if kind in (KIND_UINT, KIND_PTR):
        return UINT_CODES[size], 1
    if kind in (KIND_CHARS, KIND_REGLOCS):  # layouts: regs.py parses them
        return "%ds" % size, 1
    return "%dQ" % (size // 8), size // 8


def build_struct(fields, endian, total, what, warnings):
    """One struct.Struct for the described fields, in memory order.

    Returns (Struct, {name: (index, count)}); overlapping fields after the
    first are dropped with a warning.
    """
    fmt, pos, index, at = [endian], 0, {}, 0
    for name, (off, size, kind) in sorted(fields.items(),
                                          key=lambda kv: kv[1][0]):
        if off < pos:
            warnings.append("%s field %s overlaps another: ignored"
                            % (what, name))
            continue
        if off > pos:
            fmt.append("%dx" % (off - pos))
        code, n = _code(size, kind)
        fmt.append(code)
        index[name] = (at, n)
        at += n
        pos = off + size
    if total > pos:
        fmt.append("%dx" % (total - pos))
    return struct.Struct("".join(fmt)), index


def decode_descriptor(reader, addr):
    """Read and validate the descriptor at ADDR.  Returns a Table (empty).

    Raises BadTableError (unusable) or MemoryReadError (unreadable).
    """
    head = reader.read(addr, layout.PREFIX_READ_SIZE)
    p = decode_prefix(head)
    data = reader.read(addr, p["desc_size"])
    warnings = []
    dfields = field_records(data, p, "desc_fields_off", "desc_fields_count",
                            p["desc_size"], DESC_NAMES, "descriptor",
                            warnings)
    efields = field_records(data, p, "entry_fields_off",
                            "entry_fields_count", p["entry_size"],
                            ENTRY_NAMES, "entry", warnings)
    for name in REQUIRED_DESC:
        if name not in dfields:
            raise BadTableError("descriptor does not describe %s" % name)
    for name in REQUIRED_ENTRY:
        if name not in efields:
            raise BadTableError("entry layout does not describe %s" % name)
    dstruct, dindex = build_struct(dfields, p["endian"], p["desc_size"],
                                   "descriptor", warnings)
    for name in REQUIRED_DESC:
        if name not in dindex:
            raise BadTableError("descriptor field %s overlaps another field"
                                % name)
    values = dstruct.unpack_from(data)
    desc = {}
    for name, (i, n) in dindex.items():
        v = values[i] if n == 1 else values[i:i + n]
        if dfields[name][2] == KIND_REGLOCS:
            v = regs.parse_layout(v, p["endian"])
        elif isinstance(v, bytes):
            z = v.find(b"\0")
            if z < 0:
                warnings.append("descriptor string %s is not NUL-terminated"
                                % name)
            else:
                v = v[:z]
            v = v.decode("utf-8", "replace")
        desc[name] = v
    regs_off, regs_count = p["regs_off"], p["regs_count"]
    if regs_count > 64 or regs_off + 2 * regs_count > len(data):
        warnings.append("register map (%d at offset %d) outside the "
                        "descriptor: ignored" % (regs_count, regs_off))
        reg_dwarf = ()
    else:
        reg_dwarf = struct.unpack_from("%s%dH" % (p["endian"], regs_count),
                                       data, regs_off)
    table = Table(addr, p, desc, reg_dwarf)
    table.warnings.extend(warnings)
    estruct, eindex = build_struct(efields, p["endian"], p["entry_size"],
                                   "entry", table.warnings)
    for name in REQUIRED_ENTRY:
        if name not in eindex:
            raise BadTableError("entry field %s overlaps another field"
                                % name)
    table.entry_layout = (estruct, eindex, efields)
    hstruct, hindex, hot = _hot_struct(efields, p["endian"], p["entry_size"])
    table.hot_struct = hstruct
    table.hot_index = hindex
    getters = _field_getters(efields, eindex, p["endian"])
    getters.update(_field_getters(hot, hindex, p["endian"]))
    table.entry_class = _entry_class(estruct, eindex, efields, hindex,
                                     getters)
    table.scan = _scanner(hindex, table.entry_class)
    if desc.get("generation") is not None and desc["generation"] & 1:
        table.mid_update = True
        table.warnings.append(
            "the table was being updated when the program stopped "
            "(generation %d is odd): the listing may be inconsistent"
            % desc["generation"])
    return table


_CSTR = {}


def _cstr(raw):
    """NUL-terminated bytes -> str, memoised (names repeat a lot)."""
    s = _CSTR.get(raw)
    if s is None:
        z = raw.find(b"\0")
        # escaped here, once: no raw control reaches any front end
        s = printable((raw if z < 0 else raw[:z]).decode("utf-8",
                                                          "replace"))
        if len(_CSTR) < 65536:
            _CSTR[raw] = s
    return s


# Fields unpacked eagerly for every entry: what the listing shows plus
# what the per-entry checks need.  Only STORED ones are kept in the
# Coroutine's slots (a 1M table is 1M objects: every slot and every int
# object costs memory and time); the others, and the rest of the entry,
# are unpacked from the chunk bytes on first access.
HOT = ("id", "seq", "state", "tid", "since_ns", "wait_reason", "name",
       "stack_lo", "stack_hi")
STORED = ("id", "state", "tid", "since_ns", "wait_reason", "name", "pc")


def _hot_struct(efields, endian, esize):
    """A struct for the hot fields plus pc and sp (first two registers)."""
    hot = {n: efields[n] for n in HOT if n in efields}
    if "regs" in efields and efields["regs"][1] >= 16:
        off = efields["regs"][0]
        hot["pc"] = (off, 8, KIND_UINT)
        hot["sp"] = (off + 8, 8, KIND_UINT)
    st, index = build_struct(hot, endian, esize, "entry", [])
    for name in REQUIRED_ENTRY:
        if name not in index:
            raise BadTableError("entry field %s overlaps another field"
                                % name)
    return st, index, hot


def _field_getters(fields, index, endian):
    """Properties for the integer FIELDS (those of INDEX: not dropped as
    overlapping) not kept in slots: sp, stack_hi, create_pc, ...  Each
    unpacks its one field from the chunk bytes on every access: the stack
    walker reads sp and stack_hi of 100,000 coroutines and `leaks` their
    create_pc, and unpacking the whole entry for one field (and keeping
    it) cost more than the walk.  Nothing is stored: a 1M listing pays
    nothing."""
    out = {}
    for name, (off, size, kind) in fields.items():
        if name in STORED or name not in index or \
                kind not in (KIND_UINT, KIND_PTR) or size not in UINT_CODES:
            continue
        st = struct.Struct(endian + UINT_CODES[size])
        out[name] = property(
            lambda self, f=st.unpack_from, off=off:
            f(self._c[0], self._k * self._c[3] + off)[0])
    return out


def _entry_class(estruct, eindex, efields, hindex, getters=None):
    """A Coroutine subclass for this layout: hot fields in slots,
    GETTERS (integer fields, one unpack each), the others as properties
    unpacking the whole entry once."""
    slots = tuple(n for n in hindex if n in STORED) + \
        (() if "name" in hindex else ("name",))
    ns = {"__slots__": slots}
    unpack_from = estruct.unpack_from

    def full(self):
        try:
            return self._t
        except AttributeError:   # not unpacked yet (the scan leaves it)
            c = self._c
            t = self._t = unpack_from(c[0], self._k * c[3])
            return t
    ns["_full"] = full
    ns.update(getters or {})
    # pc, when hot, is a slot of its own (shadowing the base class's
    # property reading regs): no Python call per access.
    for name in ENTRY_FIELD_NAMES:
        if name in slots or name in ns:
            continue
        if name not in eindex:
            ns[name] = None
            continue
        i, n = eindex[name]
        if efields[name][2] == KIND_CHARS:
            ns[name] = property(lambda self, i=i: _cstr(self._full()[i]))
        elif n == 1 and efields[name][2] != KIND_U64S:
            # (a one-register block is still a tuple: callers index it)
            ns[name] = property(lambda self, i=i: self._full()[i])
        else:
            ns[name] = property(lambda self, i=i, j=i + n:
                                self._full()[i:j])
    return type("CoroutineEntry", (Coroutine,), ns)


# The in-chunk indexes (_k) of every chunk's entries: one shared int
# object per index instead of a new one per entry (enumerate's), 32 bytes
# less per coroutine.  _need_ks() grows it before a scan.
_KS = list(range(4096))


def _need_ks(n):
    if n > len(_KS):
        _KS.extend(range(len(_KS), n))


def _scanner(hindex, cls):
    """Compile the loop turning one chunk's hot tuples into Coroutines,
    with the per-entry checks inlined (the hot loop of a 1M listing).
    Each hot tuple is unpacked into locals in one step."""
    order = sorted(hindex, key=lambda n: hindex[n][0])
    assert [hindex[n] for n in order] == [(i, 1) for i in range(len(order))]
    v = {name: "v_" + name for name in order}
    lines = [
        "def scan(it, data, slot0, base, esize, out):",
        "    append = out.append",
        "    chunk = (data, base, slot0, esize)",
        "    for k, (%s,) in zip(KS, it):" % ", ".join(v[n] for n in order),
        "        if not %s or not %s:" % (v["id"], v["state"]),
        "            continue",
        "        c = new(cls)",
        "        c._c = chunk",
        "        c._k = k",
        "        c.unreadable = None",
        "        c.note = None",
    ]
    for name in order:
        if name not in STORED:
            continue
        if name == "name":
            lines += ["        s = names.get(v_name)",
                      "        c.name = s if s is not None else cstr(v_name)"]
        else:
            lines.append("        c.%s = %s" % (name, v[name]))
    if "name" not in v:
        lines.append("        c.name = None")
    st = v["state"]
    lines += [
        "        if %s >= NSTATES:" % st,
        "            c.unreadable = 'bad-state'",
        "            c.note = 'state value %%d out of range' %% %s" % st,
    ]
    if "seq" in v:
        lines += [
            "        elif v_seq & 1:",
            "            c.unreadable = 'mid-update'",
            "            c.note = 'entry being updated (seq %d is odd)' % "
            "v_seq"]
    if "name" in v:
        lines += [
            "        elif 0 not in v_name:",
            "            c.unreadable = 'bad-name'",
            "            c.note = 'name not NUL-terminated'"]
    if "sp" in v and "stack_lo" in v and "stack_hi" in v:
        lines += [
            # sp 0: created, no context yet (abi.md), not a bad stack
            "        elif %s != 2 and v_sp and v_stack_lo and v_stack_hi "
            "and not v_stack_lo <= v_sp <= v_stack_hi:" % st,
            "            c.unreadable = 'bad-stack'",
            "            c.note = ('saved sp 0x%x outside its stack "
            "[0x%x, 0x%x)' % (v_sp, v_stack_lo, v_stack_hi))"]
    lines.append("        append(c)")
    ns = {"new": object.__new__, "cls": cls, "NSTATES": NSTATES, "KS": _KS,
          "names": _CSTR, "cstr": _cstr}
    exec("\n".join(lines), ns)  # noqa: S102 - generated from the layout
    return ns["scan"]


def decode_table(reader, addr, max_coroutines=layout.MAX_COROUTINES,
                 columns=False):
    """Read the whole table at ADDR: descriptor, directory, chunks.

    Returns a Table whose coroutines are the live entries in slot order.
    Raises BadTableError/MemoryReadError only when the descriptor itself
    cannot be used.  COLUMNS: a clean table comes as columns (see
    _Columns), for a caller whose first use is a plain listing; the
    others make every Coroutine now, as they will use them.
    """
    # A million small objects and no cycles among them: the cyclic
    # collector would rescan them again and again while they are made.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _decode_table(reader, addr, max_coroutines, columns)
    finally:
        if enabled:
            gc.enable()


def _decode_table(reader, addr, max_coroutines, columns):
    table = decode_descriptor(reader, addr)
    desc, p, warn = table.desc, table.prefix, table.warnings.append
    esize = p["entry_size"]
    per_chunk = desc["chunk_entries"]
    nchunks = desc["nchunks"]
    chunk_dir = desc["chunk_dir"]
    if nchunks == 0:
        return table
    if not 1 <= per_chunk <= max_coroutines or per_chunk * esize > MAX_READ:
        warn("chunk_entries %d is implausible: no entries read" % per_chunk)
        return table
    limit = max_coroutines // per_chunk
    if nchunks > limit:
        warn("nchunks %d exceeds the table maximum (%d): reading the "
             "first %d" % (nchunks, limit, limit))
        nchunks = limit
    if chunk_dir == 0 or chunk_dir % 8:
        warn("chunk directory pointer 0x%x is invalid: no entries read"
             % chunk_dir)
        return table
    try:
        raw = reader.read(chunk_dir, 8 * nchunks)
    except MemoryReadError:
        raw = _read_dir_prefix(reader, chunk_dir, nchunks)
        if not raw:
            warn("chunk directory at 0x%x (%d chunks) is unreadable: no "
                 "entries read" % (chunk_dir, nchunks))
            return table
        warn("chunk directory at 0x%x is readable for %d of %d chunks"
             % (chunk_dir, len(raw) // 8, nchunks))
        nchunks = len(raw) // 8
    chunks = struct.unpack("%s%dQ" % (p["endian"], nchunks), raw)
    hstruct = table.hot_struct
    out = table.coroutines
    _need_ks(per_chunk)
    seen_chunks = {}
    kept = []
    cols = _Columns.make(table) if columns else None
    chunk_bytes = per_chunk * esize
    desc_end = addr + p["desc_size"]
    for ci, base in enumerate(chunks):
        if base == 0:
            warn("chunk %d: null pointer: skipped" % ci)
            continue
        if base in seen_chunks:
            warn("chunk %d repeats chunk %d at 0x%x (cycle): skipped"
                 % (ci, seen_chunks[base], base))
            continue
        if base % 8 or (base < desc_end and base + chunk_bytes > addr) or \
                (base < chunk_dir + 8 * nchunks
                 and base + chunk_bytes > chunk_dir):
            warn("chunk %d: pointer 0x%x overlaps the descriptor or is "
                 "misaligned: skipped" % (ci, base))
            continue
        seen_chunks[base] = ci
        lost = ("chunk %d at 0x%x is unreadable: its %d slots are missing"
                % (ci, base, per_chunk))
        try:   # for columns only, GDB's buffer: read, not kept
            data = (reader.read if cols is None else reader.read_view)(
                base, chunk_bytes)
        except MemoryReadError:
            warn(lost)
            continue
        if cols is not None:
            kept.append((ci, base, None, lost))
            if not cols.add(ci, data):
                cols = None   # an entry to mark '?': objects after all
            continue
        kept.append((ci, base, data, lost))
    data = None
    if cols is not None and cols.finish(kept, reader, esize):
        return table
    for ci, base, data, lost in kept:
        if data is None:   # read for columns, not kept: once more
            try:
                data = reader.read(base, chunk_bytes)
            except MemoryReadError:
                warn(lost)
                continue
        table.scan(hstruct.iter_unpack(data), data, ci * per_chunk, base,
                   esize, out)
    regs.resolve(reader, table)
    _check_table(table)
    return table


class _Columns:
    """A clean table's live entries as columns (Table.set_columns): no
    Coroutine object, and no chunk bytes kept, until one is asked for.
    The scan's checks are made a column at a time, in C but for the rare
    chunk whose stack bounds need a closer look.  At 1M entries the
    scan's objects and the kept chunks were 3.5 s of a 5 s first
    listing, much of it page faults on their fresh memory.

    Use: make() (None when the table needs objects: a listed field
    missing from the layout, registers to resolve); add(chunk index,
    chunk bytes) for each chunk in slot order, False when an entry would
    be marked '?' (the per-object path then marks, counts and cuts, as
    it always has); finish() False for a repeated id."""

    @classmethod
    def make(cls, table):
        get = _column_getters(table)
        if not all(n in get for n in COLUMNS) or regs.needs_resolve(table):
            return None
        return cls(table, get)

    def __init__(self, table, get):
        self.table, self.get = table, get
        # integer fields as arrays of machine integers: 8 bytes a value
        # or less, where a list of ints is 8 for the pointer and 32 for
        # each int object, all of it new memory (page faults: at 1M
        # entries the lists' 300 MB cost more than decoding them)
        size = dict((n, f[1]) for n, f in table.entry_layout[2].items())
        size["pc"] = 8
        self.cols = {n: [] if n == "name" else array(UINT_CODES[size[n]])
                     for n in COLUMNS}
        # the slots of the rows, a run per chunk: (first row, its
        # slots: a range, or a list when the chunk has free slots)
        self.first_rows, self.runs = [], []
        self.n = 0
        self.names = {}
        self.per_chunk = table.desc["chunk_entries"]

    def add(self, ci, data):
        get, cols = self.get, self.cols
        ids, states = get["id"](data), get["state"](data)
        slot0 = ci * self.per_chunk
        rows = range(slot0, slot0 + len(ids))
        live = None
        if 0 in ids or 0 in states:   # free slots: not listed
            live = list(map(all, zip(ids, states)))
            rows = list(compress(rows, live))
            if not rows:
                return True

        got = {"id": ids, "state": states} if live is None else {}

        def col(name):   # each field read once (the checks use them too)
            v = got.get(name)
            if v is None:
                v = get[name](data)
                if live is not None:
                    v = list(compress(v, live))
                got[name] = v
            return v
        if not _clean(col, get):
            return False
        names = self.names
        for name in COLUMNS:
            v = col(name)
            if name == "name":   # decoded once per distinct name
                for raw in set(v).difference(names):
                    names[raw] = _cstr(raw)
                v = map(names.__getitem__, v)
            cols[name].extend(v)
        self.first_rows.append(self.n)
        self.runs.append(rows)
        self.n += len(rows)
        return True

    def finish(self, kept, reader, esize):
        """Hand the columns to the table (True), unless an id repeats."""
        table, per_chunk = self.table, self.per_chunk
        first_rows, runs = self.first_rows, self.runs
        ids = self.cols["id"]
        if not all(map(lt, ids, islice(ids, 1, None))) and \
                len(set(ids)) != len(ids):
            return False
        bases = {ci: base for ci, base, _, _ in kept}
        got = {}
        scan, one = table.scan, table.hot_struct.unpack_from
        unpack = table.hot_struct.iter_unpack

        def chunk(ci):
            """Chunk CI's bytes, read again (the same stop) and kept."""
            data = got.get(ci)
            if data is None:
                data = got[ci] = reader.read(bases[ci], per_chunk * esize)
            return data

        def make_one(row):
            r = bisect_right(first_rows, row) - 1
            slot = runs[r][row - first_rows[r]]
            ci, k = divmod(slot, per_chunk)
            data, o = chunk(ci), k * esize
            out = []
            scan(iter((one(data, o),)), data[o:o + esize], slot,
                 bases[ci] + o, esize, out)
            return out[0]

        def make_all():
            enabled = gc.isenabled()
            gc.disable()   # see decode_table
            try:
                out = []
                for ci, base, _, _ in kept:
                    data = chunk(ci)
                    scan(unpack(data), data, ci * per_chunk, base, esize,
                         out)
                return out
            finally:
                if enabled:
                    gc.enable()
        table.set_columns(self.cols, make_one, make_all)
        _live_count_check(table, len(ids))
        return True


def _clean(col, get):
    """Would the scan mark none of the live entries of one chunk '?'
    (the checks of _scanner, a column at a time)?  COL(name): the live
    entries' values of a field of GET."""
    states = col("state")
    if max(states) >= NSTATES:
        return False
    if "seq" in get and any(map((1).__and__, col("seq"))):
        return False
    if "name" in get and not all(0 in raw for raw in set(col("name"))):
        return False
    if "sp" in get and "stack_lo" in get and "stack_hi" in get:
        sp, lo, hi = col("sp"), col("stack_lo"), col("stack_hi")
        if not (all(map(le, lo, sp)) and all(map(le, sp, hi))):
            for st, s, l, h in zip(states, sp, lo, hi):
                if st != 2 and s and l and h and not l <= s <= h:
                    return False
    return True


def _strings(one, sixteen, size16, data):
    """A chars field of each entry of DATA: sixteen entries per struct
    tuple when they fit (a tuple per entry cost a third of the time)."""
    if len(data) % size16:
        return list(map(itemgetter(0), one(data)))
    return list(chain.from_iterable(sixteen(data)))


def _column_getters(table):
    """{hot field: fn(chunk bytes) -> [its value in each entry]}: for an
    aligned integer in the host's byte order an array copied in C from a
    strided memoryview of the chunk (no object per entry), else a list
    from a one-field struct.  Fields dropped as overlapping have none."""
    p = table.prefix
    esize, endian = p["entry_size"], p["endian"]
    native = endian == ("<" if sys.byteorder == "little" else ">")
    efields = table.entry_layout[2]
    fields = {n: efields[n] for n in HOT if n in efields}
    if "regs" in efields and efields["regs"][1] >= 16:
        off = efields["regs"][0]
        fields["pc"] = (off, 8, KIND_UINT)
        fields["sp"] = (off + 8, 8, KIND_UINT)
    out = {}
    for name, (off, size, kind) in fields.items():
        if name not in table.hot_index:
            continue
        if kind == KIND_CHARS:
            one = "%dx%ds%dx" % (off, size, esize - off - size)
            out[name] = functools.partial(
                _strings, struct.Struct(endian + one).iter_unpack,
                struct.Struct(endian + one * 16).iter_unpack, 16 * esize)
        elif native and not off % size and not esize % size:
            out[name] = (lambda data, c=UINT_CODES[size], i=off // size,
                         step=esize // size:
                         array(c, data.cast(c)[i::step].tobytes()))
        else:
            st = struct.Struct("%s%dx%s%dx" % (endian, off, UINT_CODES[size],
                                                esize - off - size))
            out[name] = (lambda data, it=st.iter_unpack:
                         list(map(itemgetter(0), it(data))))
    return out


# A chunk pointer into readable memory that is no chunk (garbage, code)
# decodes to thousands of corrupt entries per chunk: 1,023 of them once
# made 4.19M '?' rows.  Past this many corrupt entries in one chunk, the
# rest of its corrupt entries are dropped, and a warning says so.
CHUNK_BAD_MAX = 16


def _cut_corrupt_chunks(table, bad):
    """Drop each chunk's corrupt entries past CHUNK_BAD_MAX (one warning
    per such chunk).  Runs only when the table has more than that many
    corrupt entries in all; returns the new count."""
    cos = table.coroutines
    per = collections.Counter(c._c[1] for c in cos if c.unreadable)
    over = {b: n for b, n in per.items() if n > CHUNK_BAD_MAX}
    if not over:
        return bad
    kept, seen = [], collections.Counter()
    for c in cos:
        b = c._c[1]
        if c.unreadable and b in over:
            seen[b] += 1
            if seen[b] > CHUNK_BAD_MAX:
                continue
        kept.append(c)
    cos[:] = kept
    first = {}
    for c in kept:
        first.setdefault(c._c[1], c._c[2])
    per_chunk = table.desc["chunk_entries"]
    for b in sorted(over, key=first.get):
        table.warnings.append(
            "chunk %d at 0x%x: %d corrupt entries (a wrong chunk pointer?): "
            "only the first %d listed" % (first[b] // per_chunk, b, over[b],
                                          CHUNK_BAD_MAX))
    return bad - sum(n - CHUNK_BAD_MAX for n in over.values())


def _live_count_check(table, n):
    live = table.desc.get("live_count")
    if live is not None and not table.mid_update and live != n:
        table.warnings.append(
            "live_count %d disagrees with the %d live entries found"
            % (live, n))


def _read_dir_prefix(reader, addr, n):
    """The readable leading part of a directory whose full read failed."""
    out = []
    for i in range(n):
        try:
            out.append(reader.read(addr + 8 * i, 8))
        except MemoryReadError:
            break
    return b"".join(out)


def _check_table(table):
    """Whole-table checks: duplicate ids, live_count agreement."""
    cos = table.coroutines
    ids = list(map(attrgetter("id"), cos))
    # ids increasing in slot order (the usual case) cannot repeat: checked
    # in C without a million-entry set
    if not all(map(lt, ids, islice(ids, 1, None))) and \
            len(set(ids)) != len(ids):  # rare: find and mark the repeats
        seen = {}
        for co in cos:
            prev = seen.get(co.id)
            if prev is not None:
                co.unreadable = "duplicate-id"
                co.note = "id %d also in slot %d" % (co.id, prev.slot)
            else:
                seen[co.id] = co
    bad = len(cos) - countOf(map(attrgetter("unreadable"), cos), None)
    if bad > CHUNK_BAD_MAX:
        bad = _cut_corrupt_chunks(table, bad)
    _live_count_check(table, len(cos))
    if bad:
        table.warnings.append("%d entr%s could not be fully read (marked "
                              "'?')" % (bad, "y" if bad == 1 else "ies"))


def read_entry(reader, table, co):
    """Re-read CO's entry (e.g. at a breakpoint).  Returns a new Coroutine
    or None when the slot no longer holds a live coroutine, or when TABLE
    is a descriptor whose entries were never decoded (no layout yet)."""
    if table.entry_layout is None:
        return None
    estruct, eindex, _ = table.entry_layout
    data = reader.read(co.addr, table.prefix["entry_size"])
    t = estruct.unpack(data)
    if t[eindex["id"][0]] == 0 or t[eindex["state"][0]] == 0:
        return None
    out = []
    table.scan(iter((table.hot_struct.unpack(data),)), data, co.slot,
               co.addr, 0, out)
    return regs.resolve(reader, table, out)[0] if out else None


def read_string(reader, addr, size):
    """Read at most SIZE bytes of a C string at ADDR; None if unreadable.

    Returns (text, terminated)."""
    if not addr or size <= 0:
        return None
    size = min(size, layout.PANIC_MAX)
    try:
        data = reader.read(addr, size)
    except MemoryReadError:
        return None
    z = data.find(b"\0")
    if z >= 0:
        data = data[:z]
    return (printable(data.decode("utf-8", "replace")),
            z >= 0 or len(data) == size)
