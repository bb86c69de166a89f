"""The C decoder (capture/lib/decode.c) against the Python core on the same
byte images: good tables, the corruptions of tests/core/test_decode.py and
random byte flips.  Both print one canonical text; they must be equal,
warnings and one-line errors included."""
import random
import struct
import subprocess

import pytest

from corodbg.core import decode, errors, layout

import tablegen
from tablegen import DESC_ADDR, TableImage

ROOT = tablegen.FIXTURES.parent.parent.parent
DECODE_IMAGE = ROOT / "build" / "capture" / "tests" / "decode_image"
# the same decoder under ASan/UBSan (any finding aborts it)
DECODE_IMAGE_SAN = ROOT / "build" / "capture" / "tests" / "decode_image-san"


def write_image(img, path):
    """The reader's regions as records: u64 base, u64 length, bytes."""
    out = bytearray()
    for base, data in img.reader().regions.items():
        out += struct.pack("<QQ", base, len(data)) + bytes(data)
    path.write_bytes(bytes(out))


def _name(co):
    # the core escapes names once, in the decoder (escape.py): both sides
    # print them as they are, so the C escaping is compared too
    if co.name is None:
        return "-"
    return "'%s'" % co.name


def python_text(img):
    try:
        t = img.decode()
    except errors.CorodbgError as e:
        return "error: %s\n" % e
    out = ["warning: %s\n" % w for w in t.warnings]
    out.append("table nregs=%d mid_update=%d\n"
               % (len(t.reg_dwarf), int(t.mid_update)))
    for c in t.coroutines:
        regs = c.regs
        pc = regs[0] if regs else 0
        out.append(
            "co slot=%d addr=0x%x id=%d state=%d tid=%d wait=%d since=%d "
            "pc=0x%x name=%s unreadable=%s note=%s\n"
            % (c.slot, c.addr, c.id, c.state, c.tid or 0, c.wait_reason or 0,
               c.since_ns or 0, pc, _name(c), c.unreadable or "-",
               c.note or "-"))
    return "".join(out)


def c_text(img, tmp_path, prog=DECODE_IMAGE):
    assert prog.exists(), "build it first: make testbin"
    path = tmp_path / "image.bin"
    write_image(img, path)
    r = subprocess.run([str(prog), str(path), hex(DESC_ADDR)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def same(img, tmp_path, prog=DECODE_IMAGE):
    py = python_text(img)
    assert c_text(img, tmp_path, prog) == py
    return py


def _records(img, key_off, key_count):
    p = img.prefix
    return p[key_off], p[key_count]


def _set_record(img, which, fid, **vals):
    """Rewrite field record FID of 'desc' or 'entry' (offset/size/kind)."""
    p = img.prefix
    off = p["%s_fields_off" % which]
    for i in range(p["%s_fields_count" % which]):
        at = off + 8 * i
        rid, roff, rsize, rkind = struct.unpack_from("<HHHH", img.desc, at)
        if rid == fid:
            struct.pack_into("<HHHH", img.desc, at, vals.get("id", rid),
                             vals.get("offset", roff), vals.get("size", rsize),
                             vals.get("kind", rkind))
            return
    raise AssertionError("no record %d" % fid)


def _cases():
    L = layout
    cases = {}

    def case(f):
        cases[f.__name__] = f
        return f

    @case
    def sample(img):
        pass

    @case
    def newer_minor_unknown_field(img):
        img.set_prefix("abi_minor", 7)
        p = img.prefix
        off = p["desc_fields_off"] + (p["desc_fields_count"] - 1) * 8
        struct.pack_into("<H", img.desc, off, 999)

    for field, value in [("desc_size", 0), ("desc_size", 60000),
                         ("entry_size", 0), ("entry_size", 65535),
                         ("ptr_size", 3), ("byte_order", 9),
                         ("field_record_size", 0),
                         ("desc_fields_count", 60000),
                         ("entry_fields_off", 65000), ("abi_major", 2),
                         ("regs_count", 60)]:
        def f(img, field=field, value=value):
            img.set_prefix(field, value)
        f.__name__ = "prefix_%s_%d" % (field, value)
        case(f)

    @case
    def bad_magic(img):
        img.desc[0:8] = b"NOTCORO!"

    @case
    def live_count_2_pow_40(img):
        img.set_desc("live_count", 1 << 40)

    @case
    def nchunks_huge(img):
        img.set_desc("nchunks", 0xFFFFFFFF)

    @case
    def chunk_entries_huge(img):
        img.set_desc("chunk_entries", 1 << 31)

    @case
    def chunk_dir_invalid(img):
        img.set_desc("chunk_dir", 0x20003)

    @case
    def chunk_dir_unmapped(img):
        img.set_desc("chunk_dir", 0x70000000)

    @case
    def chunk_cycle(img):
        img.dir_override = [tablegen.CHUNK_BASE, tablegen.CHUNK_BASE]
        img.set_desc("nchunks", 2)

    @case
    def chunk_null_and_descriptor(img):
        img.dir_override = [0, DESC_ADDR, tablegen.CHUNK_BASE]
        img.set_desc("nchunks", 3)

    @case
    def chunk_unmapped(img):
        img.dir_override = [tablegen.CHUNK_BASE, 0xdead0000]
        img.set_desc("nchunks", 2)

    @case
    def name_escapes(img):
        # ESC/OSC, BEL, CR/LF/TAB, DEL, a bidi override, bad UTF-8
        img.set_entry(1, name=b"a\x1b]0;x\x07\r\n\t\x7f\xe2\x80\xae"
                      b"\xff\xc3(\xe2\x82\xc2\xa0\xc3\xa9\0")
        img.set_entry(2, name=b"\xf0\x9f\x98\x80\xef\xbf\xbe\xe2\x80\xa8"
                      b"\xc2\x85\xed\xa0\x80\xf4\x90\0")

    @case
    def pc_zero_no_context(img):
        # created without a context (pc 0, sp 0): not a bad stack
        img.set_entry(2, regs=[0, 0, 0])

    @case
    def name_unterminated(img):
        img.set_entry(1, name=b"x" * 32)

    @case
    def runtime_name_unterminated(img):
        img.set_desc("runtime_name", b"r" * 16)

    @case
    def generation_odd(img):
        img.set_desc("generation", 7)

    @case
    def mid_update_and_bad_state(img):
        img.set_entry(0, seq=3)
        img.set_entry(2, state=77)

    @case
    def sp_outside_stack(img):
        img.set_entry(0, regs=[0x401000, 0x10, 0])

    @case
    def duplicate_ids(img):
        img.set_entry(2, id=1)
        img.set_entry(4, id=1)

    @case
    def record_outside_entry(img):
        _set_record(img, "entry", 20, offset=220)

    @case
    def record_bad_kind(img):
        _set_record(img, "entry", 13, kind=3)

    @case
    def record_bad_size(img):
        _set_record(img, "entry", 11, size=3)

    @case
    def record_ptr_size(img):
        _set_record(img, "entry", 7, size=4, kind=2)

    @case
    def record_regs_size(img):
        _set_record(img, "entry", 21, size=60)

    @case
    def record_unknown_kind(img):
        _set_record(img, "desc", 7, kind=9)

    @case
    def record_twice(img):
        _set_record(img, "entry", 19, id=6)

    @case
    def record_overlap(img):
        _set_record(img, "entry", 6, offset=28)

    @case
    def record_overlap_hot(img):
        _set_record(img, "entry", 12, offset=160)

    @case
    def missing_required(img):
        _set_record(img, "desc", 5, id=900)

    @case
    def missing_required_entry(img):
        _set_record(img, "entry", 3, id=900)

    @case
    def required_overlaps(img):
        _set_record(img, "desc", 6, offset=72)

    return cases


CASES = _cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_as_python(name, tmp_path):
    img = TableImage.sample()
    CASES[name](img)
    same(img, tmp_path)


def test_cases_cover_errors_and_warnings(tmp_path):
    """The case list reaches both kinds of outcome (the test could not
    pass by both sides printing nothing)."""
    outs = []
    for name in ("bad_magic", "duplicate_ids", "sample"):
        img = TableImage.sample()
        CASES[name](img)
        outs.append(same(img, tmp_path))
    assert outs[0].startswith("error: bad magic")
    assert "duplicate-id" in outs[1] and "also in slot 0" in outs[1]
    assert outs[2].count("\nco ") + outs[2].startswith("co ") == 6


def test_many_distinct_bad_chunk_pointers(tmp_path):
    """500k distinct unmapped chunk pointers: linear time, one warning each
    (a quadratic cycle check or warning list once made this hang)."""
    img = TableImage.sample()
    img.dir_override = [tablegen.CHUNK_BASE] + [0x7000000000 + 8 * i
                                               for i in range(1, 300000)]
    img.set_desc("nchunks", 300000)
    out = same(img, tmp_path, DECODE_IMAGE_SAN)
    assert out.count("is unreadable: its 8 slots are missing") == 299999


def test_many_chunks_and_free_slots(tmp_path):
    img = TableImage(chunk_entries=4)
    for slot in range(0, 40, 3):
        img.add(slot, slot + 100, layout.STATE_BLOCKED, "c%d" % slot,
                wait_reason=layout.WAIT_SLEEP)
    img.set_entry(7, id=0, state=layout.STATE_BLOCKED)
    img.set_desc("live_count", 14)
    assert same(img, tmp_path).count("co slot=") == 14


@pytest.mark.parametrize("prog", [DECODE_IMAGE, DECODE_IMAGE_SAN],
                         ids=["plain", "asan-ubsan"])
def test_random_corruption(tmp_path, prog):
    rnd = random.Random(4321)
    # (the sanitized binary starts slower: fewer images, the same seed)
    for _ in range(150 if prog == DECODE_IMAGE else 40):
        same(TableImage.randomly_corrupted(rnd), tmp_path, prog)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cases_under_sanitizers(name, tmp_path):
    img = TableImage.sample()
    CASES[name](img)
    same(img, tmp_path, DECODE_IMAGE_SAN)
