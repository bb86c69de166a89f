"""The table's field records come from one place, the X-macros of
corodbg.h: appending a line and a member is the whole edit, and every way
the two can disagree stops the build (table.c's static asserts) or the
generator (tools/gen_layout.py) with a one-line reason."""
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None,
                                reason="needs gcc")

# A program that prints the entry's last field record and the counts.
MAIN = r"""
#include <stdio.h>
#include <corodbg.h>
int main(void)
{
    const struct corodbg_field *f =
        &corodbg_table.entry_fields[corodbg_table.entry_fields_count - 1];
    printf("%u %u %u %u %u %u\n", corodbg_table.desc_fields_count,
           corodbg_table.entry_fields_count, f->id, f->offset, f->size,
           f->kind);
    return 0;
}
"""


def header_with(root, tmp_path, *edits):
    """A copy of corodbg.h with each (old, new) replacement made once."""
    text = (root / "runtime-hooks" / "include" / "corodbg.h").read_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    inc = tmp_path / "include"
    inc.mkdir()
    (inc / "corodbg.h").write_text(text)
    return inc


def build_table(root, tmp_path, inc):
    """Compile libcorodbg's sources and MAIN against header dir INC."""
    (tmp_path / "main.c").write_text(MAIN)
    src = sorted(str(p) for p in (root / "runtime-hooks" / "src").glob("*.c"))
    exe = tmp_path / "table"
    p = subprocess.run(
        ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
         "-O0", "-I%s" % inc, "-I%s" % (root / "runtime-hooks" / "src"),
         str(tmp_path / "main.c")] + src + ["-o", str(exe), "-lpthread",
                                            "-ldl"],
        capture_output=True, text=True, timeout=300)
    return p, exe


APPEND_LINE = ("    X(WAIT_PC, 24, wait_pc, PTR)\n",
               "    X(WAIT_PC, 24, wait_pc, PTR)                            "
               "       \\\n    X(EXTRA, 25, extra, UINT)\n")
APPEND_MEMBER = ("    uint64_t wait_pc;", "    uint64_t wait_pc;\n"
                 "    uint32_t extra;\n    uint32_t extra_pad;")
APPEND_PAD_LINE = ("    X(EXTRA, 25, extra, UINT)\n",
                   "    X(EXTRA, 25, extra, UINT)                         "
                   "             \\\n    X(EXTRA_PAD, 26, extra_pad, UINT)\n")


def test_appending_a_line_and_a_member_is_the_whole_edit(root, tmp_path):
    inc = header_with(root, tmp_path, APPEND_LINE, APPEND_MEMBER)
    text = (inc / "corodbg.h").read_text()
    (inc / "corodbg.h").write_text(text.replace(*APPEND_PAD_LINE))
    p, exe = build_table(root, tmp_path, inc)
    assert p.returncode == 0, p.stderr[-3000:]
    out = subprocess.run([str(exe)], capture_output=True, text=True,
                         check=True).stdout.split()
    ndesc, nentry, fid, off, size, kind = map(int, out)
    assert (ndesc, nentry, fid, size, kind) == (30, 26, 26, 4, 1)
    assert off > 0


@pytest.mark.parametrize("edits,message", [
    ((APPEND_MEMBER,),
     "an entry member without a CORODBG_ENTRY_FIELDS line"),
    ((("    uint64_t runtime_code_hi;",
       "    uint64_t runtime_code_hi;\n    uint64_t extra;"),),
     "a descriptor member without a CORODBG_DESC_FIELDS line"),
    ((("X(SEQ, 2, seq, UINT)", "X(SEQ, 2, seq, PTR) "),),
     "seq: its size does not suit kind PTR"),
    ((APPEND_LINE,), "has no member named"),
    ((("#define CORODBG_NREGS 8 ", "#define CORODBG_NREGS 9 "),),
     "CORODBG_NREGS is not the length of CORODBG_REG_DWARF"),
], ids=["entry-member", "desc-member", "kind", "no-member", "nregs"])
def test_disagreement_stops_the_build(root, tmp_path, edits, message):
    inc = header_with(root, tmp_path, *edits)
    p, _ = build_table(root, tmp_path, inc)
    assert p.returncode != 0
    assert message in p.stderr, p.stderr[-3000:]


@pytest.mark.parametrize("old,new,message", [
    ("X(SEQ, 2, seq, UINT)", "X(SEQ, 3, seq, UINT)",
     "CORODBG_ENTRY_FIELDS: SEQ has id 3, expected 2"),
    ("X(SEQ, 2, seq, UINT)", "X(SEQ, 2, seq, INT) ",
     "CORODBG_ENTRY_FIELDS: SEQ has kind INT, not one of"),
    ("X(SEQ, 2, seq, UINT)", "X(SEQ, 2, id, UINT) ",
     "CORODBG_ENTRY_FIELDS: member id listed twice"),
    ("X(FILTER_ID, 10, filter_id, UINT)", "X(FILTER_ID, 10, name, UINT)",
     "member name has kind CHARS here and UINT in the other list"),
    ("#define CORODBG_REG_DWARF_X86_64 ", "#define CORODBG_REG_DWARF_MIPS ",
     "CORODBG_REG_DWARF_MIPS: no CORODBG_ARCH_MIPS"),
])
def test_generator_refuses_a_bad_list(root, tmp_path, old, new, message):
    inc = header_with(root, tmp_path, (old, new))
    p = subprocess.run(
        [sys.executable, str(root / "tools" / "gen_layout.py"),
         str(inc / "corodbg.h"), "-"], capture_output=True, text=True)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and message in p.stderr, p.stderr

