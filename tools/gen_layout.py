#!/usr/bin/env python3
"""Generate python/corodbg/core/layout.py from runtime-hooks/include/corodbg.h.

The debugger side holds no hard-coded offsets beyond the descriptor's fixed
prefix; everything else it reads through the table's self-description.  The
few constants it does need (the vocabulary X-macros, the field lists with
each field's kind, the magic, the ABI major, the fixed prefix, size limits,
each architecture's default register list) come from the C header through
this script, so they cannot drift.  tests/core/test_layout_and_isolation.py
checks the committed file is up to date.

Usage: tools/gen_layout.py [HEADER [OUTPUT]]    (OUTPUT "-" = stdout)
"""
import pathlib
import re
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent
HEADER = ROOT / "runtime-hooks" / "include" / "corodbg.h"
OUTPUT = ROOT / "python" / "corodbg" / "core" / "layout.py"

XMACROS = {
    "CORODBG_STATES": "STATES",
    "CORODBG_WAITS": "WAITS",
    "CORODBG_EVENTS": "EVENTS",
    "CORODBG_FIELD_KINDS": "FIELD_KINDS",
    "CORODBG_REGS_MODES": "REGS_MODES",
    "CORODBG_LOC_HOWS": "LOC_HOWS",
}
# The self-description's field lists, X(NAME, id, member, KIND): the
# Python name of the list and the prefix of its id constants.
FIELD_XMACROS = {
    "CORODBG_DESC_FIELDS": ("DESC_FIELDS", "DESCF"),
    "CORODBG_ENTRY_FIELDS": ("ENTRY_FIELDS", "ENTRYF"),
}
DEFINES = ["CORODBG_ABI_MAJOR", "CORODBG_ABI_MINOR", "CORODBG_NAME_MAX",
           "CORODBG_PANIC_MAX", "CORODBG_FILTER_NAME_MAX",
           "CORODBG_ARCH_X86_64", "CORODBG_ARCH_AARCH64",
           "CORODBG_REG_PC", "CORODBG_REG_SP", "CORODBG_REG_FP",
           "CORODBG_FILTER_ARMED", "CORODBG_FILTER_PANIC",
           "CORODBG_FILTER_CRASH", "CORODBG_MAX_COROUTINES",
           "CORODBG_LAYOUT_MAX"]
CTYPES = {"char": "s", "uint8_t": "B", "uint16_t": "H", "uint32_t": "I",
          "uint64_t": "Q", "int32_t": "i"}


class LayoutError(Exception):
    pass


def xmacro_body(text, name):
    """The lines of one X-macro list, comments removed."""
    m = re.search(r"#define\s+%s\(X\)(.*?)(?:\n\s*\n|\n#)" % name, text,
                  re.S)
    if not m:
        raise LayoutError("X-macro %s not found" % name)
    return re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)


def parse_xmacro(text, name):
    """Return [(NAME, value, text)] of one X-macro list, in order."""
    items = re.findall(r'X\(\s*(\w+)\s*,\s*(\d+)\s*,\s*"([^"]*)"\s*\)',
                       xmacro_body(text, name))
    if not items:
        raise LayoutError("X-macro %s is empty" % name)
    return [(n, int(v), t) for n, v, t in items]


def parse_fields(text, name, kinds):
    """Return [(NAME, id, member, KIND)] of a field list, checking what C
    cannot: ids are 1, 2, 3... in order (only appended, none dropped),
    members are unique and each KIND is a CORODBG_FIELD_KINDS name."""
    items = re.findall(r"X\(\s*(\w+)\s*,\s*(\d+)\s*,\s*(\w+)\s*,\s*(\w+)"
                       r"\s*\)", xmacro_body(text, name))
    if not items:
        raise LayoutError("X-macro %s is empty" % name)
    seen = set()
    for i, (n, v, member, kind) in enumerate(items):
        if int(v) != i + 1:
            raise LayoutError("%s: %s has id %s, expected %d (ids are "
                              "1, 2, 3... in order)" % (name, n, v, i + 1))
        if member in seen:
            raise LayoutError("%s: member %s listed twice" % (name, member))
        if kind not in kinds:
            raise LayoutError("%s: %s has kind %s, not one of %s"
                              % (name, n, kind, ", ".join(kinds)))
        seen.add(member)
    return [(n, int(v), member, kind) for n, v, member, kind in items]


def parse_reg_dwarf(text):
    """{ARCH name: (DWARF numbers)} from each CORODBG_REG_DWARF_<ARCH>."""
    out = {}
    for arch, body in re.findall(
            r"#define\s+CORODBG_REG_DWARF_(\w+)\s*\\?\s*\{([^}]*)\}", text):
        if "CORODBG_ARCH_" + arch not in DEFINES:
            raise LayoutError("CORODBG_REG_DWARF_%s: no CORODBG_ARCH_%s"
                              % (arch, arch))
        out[arch] = tuple(int(x) for x in
                          re.findall(r"\d+", body.replace("\\", " ")))
    if not out:
        raise LayoutError("no CORODBG_REG_DWARF_<ARCH> list found")
    return out


def parse_define(text, name):
    m = re.search(r"#define\s+%s\s+\(?([0-9a-fA-Fx]+)u?(?:\s*<<\s*(\d+))?"
                  % name, text)
    if not m:
        raise LayoutError("#define %s not found" % name)
    value = int(m.group(1), 0)
    if m.group(2):
        value <<= int(m.group(2))
    return value


def parse_magic(text):
    m = re.search(r'#define\s+CORODBG_MAGIC\s+((?:"[^"]*"\s*)+)', text)
    if not m:
        raise LayoutError("CORODBG_MAGIC not found")
    raw = "".join(re.findall(r'"([^"]*)"', m.group(1)))
    magic = raw.encode("latin-1").decode("unicode_escape").encode("latin-1")
    if len(magic) != 8:
        raise LayoutError("CORODBG_MAGIC is %d bytes, expected 8" % len(magic))
    return magic


def parse_prefix(text):
    """Fields of the descriptor's fixed prefix: [(name, struct code)]."""
    m = re.search(r"struct corodbg_descriptor \{(.*?)----\s*body", text, re.S)
    if not m:
        raise LayoutError("descriptor fixed prefix not found")
    fields = []
    for ctype, name, count in re.findall(
            r"^\s*(char|uint8_t|uint16_t|uint32_t|uint64_t)\s+(\w+)"
            r"(?:\[(\d+)\])?;", m.group(1), re.M):
        code = CTYPES[ctype]
        if count:
            code = count + code
        fields.append((name, code))
    return fields


def parse_struct_codes(text, name):
    """struct format codes of a C struct made of fixed-width integers."""
    m = re.search(r"struct %s \{(.*?)\};" % name, text, re.S)
    if not m:
        raise LayoutError("struct %s not found" % name)
    codes = [CTYPES[t] for t in re.findall(
        r"^\s*(u?int(?:8|16|32|64)_t)\s+\w+;", m.group(1), re.M)]
    if not codes:
        raise LayoutError("struct %s has no fields" % name)
    return "".join(codes)


def parse_field_record(text):
    return parse_struct_codes(text, "corodbg_field")


def generate(header_text):
    out = ['"""GENERATED by tools/gen_layout.py from '
           'runtime-hooks/include/corodbg.h: do not edit.',
           '',
           'Vocabulary and fixed-prefix layout of the corodbg coroutine table.',
           'Everything else is read through the table\'s self-description.',
           '"""', '']
    out.append("MAGIC = %r" % parse_magic(header_text))
    for d in DEFINES:
        out.append("%s = %d" % (d[len("CORODBG_"):],
                                parse_define(header_text, d)))
    out.append("")
    for macro, pyname in XMACROS.items():
        items = parse_xmacro(header_text, macro)
        out.append("# %s(X): (NAME, value, text)" % macro)
        out.append("%s = (" % pyname)
        for n, v, t in items:
            out.append("    (%r, %d, %r)," % (n, v, t))
        out.append(")")
        for n, v, _ in items:
            out.append("%s_%s = %d" % (pyname.rstrip("S"), n, v))
        out.append("")
    kinds = [n for n, _, _ in parse_xmacro(header_text, "CORODBG_FIELD_KINDS")]
    kind_of = {}  # member -> KIND over both lists, which readers merge
    for macro, (pyname, idname) in FIELD_XMACROS.items():
        items = parse_fields(header_text, macro, kinds)
        for _, _, member, kind in items:
            if kind_of.setdefault(member, kind) != kind:
                raise LayoutError("%s: member %s has kind %s here and %s "
                                  "in the other list"
                                  % (macro, member, kind, kind_of[member]))
        out.append("# %s(X): (NAME, id, member name)" % macro)
        out.append("%s = (" % pyname)
        for n, v, member, _ in items:
            out.append("    (%r, %d, %r)," % (n, v, member))
        out.append(")")
        for n, v, _, _ in items:
            out.append("%s_%s = %d" % (idname, n, v))
        out.append("# Each field's kind, by member name: what the table "
                   "must say it is.")
        out.append("%s_KIND = {" % pyname[:-1])
        for _, _, member, kind in items:
            out.append("    %r: FIELD_KIND_%s," % (member, kind))
        out.append("}")
        out.append("")
    out.append("# CORODBG_REG_DWARF_<ARCH>: each architecture's register "
               "block, slot by")
    out.append("# slot, as DWARF register numbers.")
    out.append("REG_DWARF = {")
    for arch, nums in parse_reg_dwarf(header_text).items():
        head = "    ARCH_%s: (" % arch
        out.append(textwrap.fill(", ".join(str(n) for n in nums) + "),",
                                 79, initial_indent=head,
                                 subsequent_indent=" " * len(head)))
    out.append("}")
    out.append("")
    prefix = parse_prefix(header_text)
    out.append("# struct corodbg_descriptor fixed prefix, in order.")
    out.append("PREFIX_FIELDS = (")
    for name, code in prefix:
        out.append("    (%r, %r)," % (name, code))
    out.append(")")
    out.append("PREFIX_FORMAT = %r  # byte order prepended by the reader"
               % "".join(c for _, c in prefix))
    out.append("PREFIX_READ_SIZE = 40  # prefix padded to 8-byte alignment")
    out.append("FIELD_RECORD_FORMAT = %r  # struct corodbg_field"
               % parse_field_record(header_text))
    out.append("REG_LOC_FORMAT = %r  # struct corodbg_reg_loc"
               % parse_struct_codes(header_text, "corodbg_reg_loc"))
    out.append("")
    return "\n".join(out)


def main(argv):
    header = pathlib.Path(argv[1]) if len(argv) > 1 else HEADER
    output = argv[2] if len(argv) > 2 else str(OUTPUT)
    try:
        text = generate(header.read_text())
    except (OSError, LayoutError) as e:
        print("gen_layout: %s" % e, file=sys.stderr)
        return 1
    if output == "-":
        sys.stdout.write(text)
    else:
        pathlib.Path(output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
