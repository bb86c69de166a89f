"""layout.py is generated and current; the core never imports a debugger."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent


def test_layout_is_up_to_date():
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_layout.py"),
         str(ROOT / "runtime-hooks" / "include" / "corodbg.h"), "-"],
        capture_output=True, text=True, check=True).stdout
    committed = (ROOT / "python" / "corodbg" / "core" / "layout.py"
                 ).read_text()
    assert out == committed, "run tools/gen_layout.py and commit layout.py"


def test_layout_values_match_header():
    from corodbg.core import layout
    assert layout.MAGIC == b"\x7fCORODBG"
    assert layout.STATE_CRASHED == 6 and layout.WAIT_CHAN_RECV == 2
    assert layout.PREFIX_FORMAT == "8sHHHHBBHHHHHHHHH"


def test_layout_kinds_and_registers_match_the_table():
    """layout.py's field kinds and default register list (generated from
    the header's X-macros and CORODBG_REG_DWARF_X86_64) are what the built
    table says (the fixture is libcorodbg's, test_decode checks)."""
    from corodbg.core import decode, layout, registers
    data = (ROOT / "tests" / "core" / "fixtures" / "descriptor-x86_64.bin"
            ).read_bytes()
    p = decode.decode_prefix(data[:40])
    for key, names, kinds in (
            ("desc", decode.DESC_NAMES, layout.DESC_FIELD_KIND),
            ("entry", decode.ENTRY_NAMES, layout.ENTRY_FIELD_KIND)):
        recs = decode.field_records(
            data, p, key + "_fields_off", key + "_fields_count",
            p[key + "_size"], names, key, [])
        assert {n: r[2] for n, r in recs.items()} == kinds
    off, n = p["regs_off"], p["regs_count"]
    dwarf = tuple(int.from_bytes(data[off + 2 * i:off + 2 * i + 2], "little")
                  for i in range(n))
    assert registers.DEFAULT_DWARF[layout.ARCH_X86_64] == dwarf


def test_core_does_not_import_debuggers():
    core = ROOT / "python" / "corodbg"
    for path in core.rglob("*.py"):
        text = path.read_text()
        for mod in ("gdb", "lldb"):
            assert "import %s" % mod not in text, path
            assert "from %s" % mod not in text, path
    code = ("import sys; sys.path.insert(0, %r); import corodbg.core, "
            "corodbg.core.query, corodbg.core.leaks, corodbg.core.render; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('gdb', 'lldb')))" % str(ROOT / "python"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"
