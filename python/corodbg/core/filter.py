"""The in-process event filter: where its descriptor fields are and what
bytes to write there.

The debugger arms the runtime's filter (descriptor fields
filter_state_mask, filter_flags, filter_id, filter_name) by writing target
memory; this module only computes the writes, so the GDB and LLDB adapters
write exactly the same bytes, in the same order (flags last: the runtime
reads them first, so a half-written filter is never armed).
"""
import struct

from . import decode, layout
from .errors import BadTableError, UsageError

FILTER_FIELDS = ("filter_id", "filter_name", "filter_state_mask",
                 "filter_flags")


def descriptor_fields(data, prefix):
    """{descriptor field name: (offset, size, kind)} from the descriptor's
    own field records.  DATA: the descriptor's bytes (prefix["desc_size"]
    of them, read at the table address); PREFIX: table.prefix."""
    return decode.field_records(data, prefix, "desc_fields_off",
                                 "desc_fields_count", prefix["desc_size"],
                                 decode.DESC_NAMES, "descriptor", [])


def encode_field(fields, prefix, name, value):
    """(offset, bytes) writing VALUE (int, or str for a chars field) into
    descriptor field NAME.  A string is cut to fit with its NUL."""
    rec = fields.get(name)
    if rec is None:
        raise BadTableError("this table has no %s field: its runtime cannot "
                            "filter events" % name)
    off, size, kind = rec
    if kind == layout.FIELD_KIND_CHARS:
        raw = (value or "").encode()[:size - 1].ljust(size, b"\0")
    else:
        raw = struct.pack(prefix["endian"] + decode.UINT_CODES[size],
                          int(value or 0) & ((1 << (8 * size)) - 1))
    return off, raw


def encode(table, data, mask, flags, fid=0, glob=""):
    """The writes arming the filter: [(address, bytes)] in write order
    (id, name, state mask, then flags).

    TABLE: the decoded table (or descriptor) whose .addr and .prefix locate
    it; DATA: the descriptor's current bytes (for its field records)."""
    if glob and len(glob.encode()) >= layout.FILTER_NAME_MAX:
        raise UsageError("name glob longer than %d bytes"
                         % (layout.FILTER_NAME_MAX - 1))
    fields = descriptor_fields(data, table.prefix)
    values = {"filter_id": fid or 0, "filter_name": glob or "",
              "filter_state_mask": mask, "filter_flags": flags}
    out = []
    for name in FILTER_FIELDS:
        off, raw = encode_field(fields, table.prefix, name, values[name])
        out.append((table.addr + off, raw))
    return out


def filter_values(states=(), panic=False, crash=False, cid=0, glob=""):
    """(mask, flags, id, glob) for a catch request: STATES (state values)
    arm the state filter, restricted to CID / GLOB when given."""
    mask = 0
    for s in states:
        mask |= 1 << s
    flags = (layout.FILTER_ARMED if mask else 0) | \
        (layout.FILTER_PANIC if panic else 0) | \
        (layout.FILTER_CRASH if crash else 0)
    return mask, flags, (cid or 0) if mask else 0, (glob or "") if mask else ""


def union_values(requests):
    """(mask, flags, id, glob) of the narrowest filter that lets through
    every request in REQUESTS, each (states, panic, cid, glob).  State
    requests for different ids or names arm no id or name restriction:
    the debugger re-checks each request precisely at the stop."""
    states, panic, ids, globs = set(), False, set(), set()
    for req_states, req_panic, cid, glob in requests:
        panic = panic or bool(req_panic)
        if req_states:
            states.update(req_states)
            ids.add(cid or 0)
            globs.add(glob or "")
    cid = ids.pop() if len(ids) == 1 else 0
    glob = globs.pop() if len(globs) == 1 else ""
    return filter_values(states, panic, False, cid, glob)
