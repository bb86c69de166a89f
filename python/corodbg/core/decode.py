"""Decode the coroutine table from raw target memory.

The read plan is fixed and small: the 40-byte prefix, the descriptor
(desc_size bytes), the chunk directory (nchunks x 8 bytes), then one read
per chunk.  Every count, size, offset and pointer is validated before use.
Only an unusable descriptor raises (BadTableError); a bad chunk becomes a
warning and a bad entry an `unreadable` coroutine, so the rest is listed.
"""
import struct

from . import layout
from .errors import BadTableError, MemoryReadError
from .model import Coroutine, Table, ENTRY_FIELD_NAMES
from .reader import MAX_READ

MAX_DESC_SIZE = 4096
MAX_ENTRY_SIZE = 4096
MAX_FIELDS = 256
KIND_UINT = layout.FIELD_KIND_UINT
KIND_PTR = layout.FIELD_KIND_PTR
KIND_CHARS = layout.FIELD_KIND_CHARS
KIND_U64S = layout.FIELD_KIND_U64S
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


def _field_records(data, p, off_key, count_key, owner_size, names, what,
                   warnings):
    """Return {field name: (offset, size, kind)} for one record array."""
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
        elif kind == KIND_U64S and fsize % 8:
            bad = "register block size %d" % fsize
        elif kind not in (KIND_UINT, KIND_PTR, KIND_CHARS, KIND_U64S):
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


def _expected_kinds(name):
    if name in ("name", "filter_name", "runtime_name"):
        return (KIND_CHARS,)
    if name == "regs":
        return (KIND_U64S,)
    return (KIND_UINT, KIND_PTR)


def _code(size, kind):
    if kind in (KIND_UINT, KIND_PTR):
        return UINT_CODES[size], 1
    if kind == KIND_CHARS:
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
    dfields = _field_records(data, p, "desc_fields_off", "desc_fields_count",
                             p["desc_size"], DESC_NAMES, "descriptor",
                             warnings)
    efields = _field_records(data, p, "entry_fields_off",
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
        if isinstance(v, bytes):
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
    table.make = _make_factory(eindex, efields)
    if desc.get("generation") is not None and desc["generation"] & 1:
        table.mid_update = True
        table.warnings.append(
            "the table was being updated when the program stopped "
            "(generation %d is odd): the listing may be inconsistent"
            % desc["generation"])
    return table


def _make_factory(eindex, efields):
    """Compile a function turning one unpacked tuple into a Coroutine.

    Generated once per table layout: it is the hot loop of a 1M listing.
    """
    lines = ["def make(t, slot, addr):",
             "    c = new(Coroutine)",
             "    c.slot = slot",
             "    c.addr = addr",
             "    c.unreadable = None",
             "    c.note = None"]
    for name in ENTRY_FIELD_NAMES:
        if name not in eindex:
            lines.append("    c.%s = None" % name)
            continue
        i, n = eindex[name]
        kind = efields[name][2]
        if kind == KIND_CHARS:
            lines += ["    v = t[%d]" % i,
                      "    z = v.find(b'\\0')",
                      "    if z < 0:",
                      "        c.unreadable = 'bad-name'",
                      "        c.note = '%s not NUL-terminated'" % name,
                      "    else:",
                      "        v = v[:z]",
                      "    c.%s = v.decode('utf-8', 'replace')" % name]
        elif n == 1:
            lines.append("    c.%s = t[%d]" % (name, i))
        else:
            lines.append("    c.%s = t[%d:%d]" % (name, i, i + n))
    lines.append("    return c")
    ns = {"new": object.__new__, "Coroutine": Coroutine}
    exec("\n".join(lines), ns)  # noqa: S102 - generated from field names
    return ns["make"]


def _check(co, nstates=NSTATES):
    """Mark CO unreadable when its values are impossible."""
    if co.state >= nstates:
        co.unreadable = "bad-state"
        co.note = "state value %d out of range" % co.state
    elif co.seq is not None and co.seq & 1:
        co.unreadable = "mid-update"
        co.note = "entry being updated (seq %d is odd)" % co.seq
    elif (co.regs and co.stack_lo and co.stack_hi and co.state != 2
          and not co.stack_lo <= co.regs[1] <= co.stack_hi):
        co.unreadable = "bad-stack"
        co.note = ("saved sp 0x%x outside its stack [0x%x, 0x%x)"
                   % (co.regs[1], co.stack_lo, co.stack_hi))


def decode_table(reader, addr, max_coroutines=layout.MAX_COROUTINES):
    """Read the whole table at ADDR: descriptor, directory, chunks.

    Returns a Table whose coroutines are the live entries in slot order.
    Raises BadTableError/MemoryReadError only when the descriptor itself
    cannot be used.
    """
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
    estruct, eindex, _ = table.entry_layout
    make = table.make
    out = table.coroutines
    seen_chunks = {}
    chunk_bytes = per_chunk * esize
    id_i = eindex["id"][0]
    state_i = eindex["state"][0]
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
        try:
            data = reader.read(base, chunk_bytes)
        except MemoryReadError:
            warn("chunk %d at 0x%x is unreadable: its %d slots are missing"
                 % (ci, base, per_chunk))
            continue
        slot0 = ci * per_chunk
        for k, t in enumerate(estruct.iter_unpack(data)):
            if t[id_i] == 0 or t[state_i] == 0:
                continue
            co = make(t, slot0 + k, base + k * esize)
            _check(co)
            out.append(co)
    _check_table(table)
    return table


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
    seen = {}
    for co in table.coroutines:
        prev = seen.get(co.id)
        if prev is not None:
            co.unreadable = "duplicate-id"
            co.note = "id %d also in slot %d" % (co.id, prev.slot)
        else:
            seen[co.id] = co
    live = table.desc.get("live_count")
    if live is not None and not table.mid_update and \
            live != len(table.coroutines):
        table.warnings.append(
            "live_count %d disagrees with the %d live entries found"
            % (live, len(table.coroutines)))
    bad = sum(1 for c in table.coroutines if c.unreadable)
    if bad:
        table.warnings.append("%d entr%s could not be fully read (marked "
                              "'?')" % (bad, "y" if bad == 1 else "ies"))


def read_entry(reader, table, co):
    """Re-read CO's entry (e.g. at a breakpoint).  Returns a new Coroutine
    or None when the slot no longer holds a live coroutine."""
    estruct, eindex, _ = table.entry_layout
    data = reader.read(co.addr, table.prefix["entry_size"])
    t = estruct.unpack(data)
    if t[eindex["id"][0]] == 0 or t[eindex["state"][0]] == 0:
        return None
    c = table.make(t, co.slot, co.addr)
    _check(c)
    return c


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
    return data.decode("utf-8", "replace"), z >= 0 or len(data) == size
