"""Where a parked coroutine's registers are, in every register mode.

docs/abi.md, "Register modes".  An entry's regs_mode says where:
  table  the entry's own register block (ABI 1.0, the default);
  block  the runtime's own context block at regs_addr, read with the
         descriptor's block_layout (DWARF register -> offset);
  frame  regs_addr is the word holding the saved sp; the registers are on
         the coroutine's stack at frame_layout offsets from that sp (the
         fcontext, libco and libaco shape).

The decoder resolves block and frame entries once per table (resolve()),
so co.regs, co.pc and co.sp mean the same in every mode: the registers in
the table's reg_dwarf order.  Adapters get registers only through
saved_registers() and in_place_addr() and never learn the modes.
"""
import struct

from . import layout
from .errors import MemoryReadError, NoContextError

TABLE = layout.REGS_MODE_TABLE
BLOCK = layout.REGS_MODE_BLOCK
FRAME = layout.REGS_MODE_FRAME
LOAD = layout.LOC_HOW_LOAD
ADDR = layout.LOC_HOW_ADDR
MODE_NAMES = {v: t for _, v, t in layout.REGS_MODES}
LAYOUT_FIELD = {BLOCK: "block_layout", FRAME: "frame_layout"}
_REC = struct.calcsize("<" + layout.REG_LOC_FORMAT)
# A layout reading further than this from its base is corrupt: no real
# context block or switch frame is anywhere near 64 KiB.
MAX_SPAN = 1 << 16


def parse_layout(raw, endian):
    """The (dwarf, how, offset) records of a layout field's bytes."""
    n = len(raw) // _REC
    return tuple(struct.iter_unpack(endian + layout.REG_LOC_FORMAT,
                                    raw[:n * _REC]))


def _check_layout(table, mode):
    """The records of MODE's layout, or a one-line reason it is unusable."""
    name = LAYOUT_FIELD[mode]
    recs = table.desc.get(name)
    count = table.desc.get(name + "_count")
    if recs is None or count is None:
        return "the table describes no %s" % name
    if count == 0:
        return "the runtime set no %s" % name
    if count > len(recs):
        return "%s count %d exceeds its %d records" % (name, count, len(recs))
    recs = recs[:count]
    seen = set()
    for dwarf, how, off in recs:
        if how not in (LOAD, ADDR):
            return "%s: register %d has unknown how %d" % (name, dwarf, how)
        if dwarf in seen:
            return "%s: register %d given twice" % (name, dwarf)
        if not -MAX_SPAN <= off <= MAX_SPAN:
            return "%s: register %d at implausible offset %d" % (name, dwarf,
                                                                off)
        seen.add(dwarf)
    for slot in (layout.REG_PC, layout.REG_SP):
        if len(table.reg_dwarf) <= slot or table.reg_dwarf[slot] not in seen:
            return "%s gives no %s" % (name, ("pc", "sp")[slot])
    return recs


def _layouts(table):
    got = getattr(table, "_reg_layouts", None)
    if got is None:
        got = table._reg_layouts = {m: _check_layout(table, m)
                                    for m in LAYOUT_FIELD}
    return got


def _apply(reader, table, recs, base, bounds):
    """Register values in reg_dwarf order (None: not in the layout), read
    with one read of the layout's span from BASE.  BOUNDS (lo, hi), when
    given, is the stack every LOAD must stay inside.  Returns (values,
    None) or (None, (reason, note))."""
    loads = [off for _, how, off in recs if how == LOAD]
    lo_off = min(loads) if loads else 0
    hi_off = max(loads) + 8 if loads else 0
    start = base + lo_off
    if bounds is not None and loads and not (
            bounds[0] <= start and base + hi_off <= bounds[1]):
        bad = start if start < bounds[0] else base + hi_off - 8
        return None, ("bad-regs", "frame layout reads 0x%x outside its "
                      "stack [0x%x, 0x%x)" % (bad, bounds[0], bounds[1]))
    data = b""
    if loads:
        try:
            data = reader.read(start, hi_off - lo_off)
        except MemoryReadError:
            return None, ("bad-regs", "saved registers at 0x%x unreadable"
                          % start)
    fmt = table.prefix["endian"] + "Q"
    mask = (1 << 64) - 1
    by_dwarf = {}
    for dwarf, how, off in recs:
        if how == LOAD:
            by_dwarf[dwarf] = struct.unpack_from(fmt, data, off - lo_off)[0]
        else:
            by_dwarf[dwarf] = (base + off) & mask
    return tuple(by_dwarf.get(d) for d in table.reg_dwarf), None


def _locate(reader, table, co, mode):
    """(values or None, problem or None) for one block or frame entry.
    (None, None): no context yet (a saved sp of 0)."""
    recs = _layouts(table).get(mode)
    if recs is None:
        return None, ("bad-regs", "register mode %d unknown to this "
                      "corodbg: upgrade it" % mode)
    if isinstance(recs, str):
        return None, ("bad-regs", recs)
    addr = co.regs_addr
    if not addr:
        return None, ("bad-regs", "%s mode without an address"
                      % MODE_NAMES[mode])
    lo, hi = co.stack_lo or 0, co.stack_hi or 0
    bounds = (lo, hi) if lo and hi else None
    if mode == BLOCK:
        return _apply(reader, table, recs, addr, None)
    try:
        raw = reader.read(addr, 8)
    except MemoryReadError:
        return None, ("bad-regs", "saved-sp word at 0x%x unreadable" % addr)
    sp = struct.unpack(table.prefix["endian"] + "Q", raw)[0]
    if sp == 0:
        return None, None
    if bounds is not None and not lo <= sp < hi:
        return None, ("bad-stack", "saved sp 0x%x outside its stack "
                      "[0x%x, 0x%x)" % (sp, lo, hi))
    return _apply(reader, table, recs, sp, bounds)


def _slot_names(cls):
    out = []
    for klass in cls.__mro__:
        s = klass.__dict__.get("__slots__", ())
        out.extend((s,) if isinstance(s, str) else s)
    return out


def _resolved_class(table):
    cls = getattr(table, "_resolved_class", None)
    if cls is None:
        # pc and sp too: the entry class may read them straight from the
        # entry's own register block (decode's per-field getters), which
        # in these modes holds only a placeholder (pc 0, sp = stack top).
        ns = {"__slots__": ("_r",), "regs": property(lambda self: self._r),
              "sp": property(lambda self: self._r[layout.REG_SP])}
        if "pc" not in _slot_names(table.entry_class):
            ns["pc"] = property(lambda self: self._r[layout.REG_PC])
        cls = table._resolved_class = type("ResolvedEntry",
                                           (table.entry_class,), ns)
    return cls


def _resolve_one(reader, table, co):
    values, problem = _locate(reader, table, co, co.regs_mode)
    if problem is not None:
        co.unreadable, co.note = problem
        return co
    if values is None:
        return co
    sp = values[layout.REG_SP]
    lo, hi = co.stack_lo, co.stack_hi
    if lo and hi and not lo <= sp <= hi:
        co.unreadable = "bad-stack"
        co.note = "saved sp 0x%x outside its stack [0x%x, 0x%x)" % (sp, lo,
                                                                    hi)
        return co
    cls = _resolved_class(table)
    new = object.__new__(cls)
    for name in _slot_names(type(co)):
        try:
            setattr(new, name, getattr(co, name))
        except AttributeError:   # a lazily filled slot (_t) not set yet
            pass
    new._r = values
    if "pc" in _slot_names(cls):   # pc is hot: a slot of its own
        new.pc = values[layout.REG_PC]
    return new


def needs_resolve(table):
    """Has any entry of TABLE its registers elsewhere than in the entry
    (modes block and frame)?"""
    return bool(table.get("regs_modes", 0) & ~(1 << TABLE)) and \
        "regs_mode" in table.entry_layout[2]


def resolve(reader, table, cos=None):
    """Give every block and frame entry of COS (default: the table's
    coroutines, replaced in place) its registers, or a '?' reason.
    A table whose runtime never used those modes costs one test."""
    if not needs_resolve(table):
        return cos
    out = table.coroutines if cos is None else cos
    running = layout.STATE_RUNNING
    for i, co in enumerate(out):
        if co.state == running or co.unreadable:
            continue   # a running one's registers are its thread's
        if co.regs_mode:
            out[i] = _resolve_one(reader, table, co)
    return out


# The '?' reasons meaning "no registers to unwind from".
NO_CONTEXT = ("bad-stack", "bad-regs")


def check_context(co):
    """Raise NoContextError (one line, with the '?' reason) when CO's saved
    registers are known to be bad, so no debugger shows a wrong stack."""
    if co.unreadable in NO_CONTEXT:
        raise NoContextError("coroutine %d: %s" % (co.id, co.note))


def saved_registers(table, co):
    """[(DWARF register number, value)] of CO's saved context, whatever its
    register mode: what a debugger's unwinder or thread plugin hands over.
    Raises NoContextError (one line) when there is none to show."""
    check_context(co)
    regs = co.regs
    if not regs or not co.pc or not co.sp:
        raise NoContextError("coroutine %d has no saved context" % co.id)
    return [(d, v) for d, v in zip(table.reg_dwarf, regs) if v is not None]


def in_place_addr(table, co):
    """Address of CO's registers as one plain array in reg_dwarf order
    (the entry's own block, ABI 1.0), or None when they must be read
    through saved_registers().  LLDB's register_data_addr uses it."""
    if co.regs_mode or not co.addr:
        return None
    f = table.entry_layout[2].get("regs")
    return co.addr + f[0] if f else None
