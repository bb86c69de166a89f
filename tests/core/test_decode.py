"""The table decoder on byte images: good tables and every kind of
corruption (issue 3 section 9).  Each bad case must give a clear message
and still return the entries that can be read."""
import random
import struct

import pytest

from corodbg.core import decode, errors, layout, model
from corodbg.core.reader import BytesReader, CachingReader, FunctionReader

import tablegen
from tablegen import DESC_ADDR, TableImage


def test_sample_decodes_exactly(image):
    t = image.decode()
    assert t.warnings == []
    assert not t.mid_update
    assert [c.id for c in t.coroutines] == [1, 2, 3, 4, 5, 6]
    assert [c.state_name for c in t.coroutines] == [
        "blocked", "blocked", "runnable", "running", "panicked", "crashed"]
    assert [c.name for c in t.coroutines] == [
        "consumer", "sleeper", "yielder", "worker", "panicker", "crasher"]
    c1 = t.by_id[1]
    assert c1.wait_name == "chan receive" and c1.wait_addr == 0x5000
    assert c1.pc == 0x401000 and c1.sp == c1.stack_hi - 0x100
    assert c1.regs[3:] == (1, 2, 3, 4, 5)
    assert c1.age_ns(t.get("clock_ns")) == 6 * 10**9
    assert t.by_tid == {4242: t.by_id[4]}
    assert t.by_id[6].signal == 11 and t.by_id[6].fault_addr == 0x10
    assert t.reg_dwarf == (16, 7, 6, 3, 12, 13, 14, 15)
    assert t.get("live_count") == 6


def test_free_slots_and_chunks_skipped():
    img = TableImage(chunk_entries=4)
    img.add(0, 1, layout.STATE_RUNNABLE, "a")
    img.add(9, 10, layout.STATE_BLOCKED, "b", wait_reason=layout.WAIT_IO)
    img.set_entry(5, id=0, state=layout.STATE_BLOCKED)  # free: id 0
    img.set_entry(6, id=7, state=layout.STATE_FREE)     # free: state FREE
    img.set_desc("live_count", 2)
    t = img.decode()
    assert [(c.id, c.slot) for c in t.coroutines] == [(1, 0), (10, 9)]
    assert t.coroutines[1].addr == img.entry_addr(9)
    assert t.warnings == []


def test_read_plan_is_few_large_reads(image):
    calls = []
    inner = image.reader()

    def fn(addr, size):
        calls.append((addr, size))
        return inner.read(addr, size)
    decode.decode_table(FunctionReader(fn), DESC_ADDR)
    # prefix, descriptor, directory, one chunk
    assert len(calls) == 4
    assert calls[0] == (DESC_ADDR, 40)


def test_bad_magic(image):
    image.desc[0:8] = b"NOTCORO!"
    with pytest.raises(errors.BadTableError, match="bad magic"):
        image.decode()


def test_future_major(image):
    image.set_prefix("abi_major", 2)
    with pytest.raises(errors.BadTableError,
                       match=r"ABI version 2\.\d+ is not supported"):
        image.decode()


def test_newer_minor_with_unknown_field_is_read(image):
    image.set_prefix("abi_minor", 7)
    # turn the last descriptor field record into an unknown future id
    p = image.prefix
    off = p["desc_fields_off"] + (p["desc_fields_count"] - 1) * 8
    struct.pack_into("<H", image.desc, off, 999)
    t = image.decode()
    assert len(t.coroutines) == 6 and t.warnings == []


@pytest.mark.parametrize("field,value,msg", [
    ("desc_size", 0, "bad desc_size"),
    ("desc_size", 60000, "bad desc_size"),
    ("entry_size", 0, "bad entry_size"),
    ("entry_size", 65535, "bad entry_size"),
    ("ptr_size", 3, "bad ptr_size"),
    ("byte_order", 9, "bad byte_order"),
    ("field_record_size", 0, "bad field_record_size"),
    ("desc_fields_count", 60000, "do not fit"),
    ("entry_fields_off", 65000, "do not fit"),
])
def test_bad_prefix_fields(image, field, value, msg):
    image.set_prefix(field, value)
    with pytest.raises(errors.BadTableError, match=msg):
        image.decode()


def test_regs_map_out_of_range_is_a_warning(image):
    image.set_prefix("regs_count", 60)
    t = image.decode()
    assert any("register map" in w for w in t.warnings)
    assert len(t.coroutines) == 6


def test_count_2_pow_40(image):
    image.set_desc("live_count", 1 << 40)
    t = image.decode()
    assert [c.id for c in t.coroutines] == [1, 2, 3, 4, 5, 6]
    assert t.warnings == ["live_count 1099511627776 disagrees with the 6 "
                          "live entries found"]


def test_nchunks_huge_is_clamped(image):
    image.set_desc("nchunks", 0xFFFFFFFF)
    t = image.decode()
    assert "exceeds the table maximum" in t.warnings[0]
    assert [c.id for c in t.coroutines] == [1, 2, 3, 4, 5, 6]


def test_chunk_entries_huge(image):
    image.set_desc("chunk_entries", 1 << 31)
    t = image.decode()
    assert t.coroutines == []
    assert "chunk_entries 2147483648 is implausible" in t.warnings[0]


def test_chunk_pointer_unmapped():
    img = TableImage(chunk_entries=2)
    for i in range(6):
        img.add(i, i + 1, layout.STATE_RUNNABLE, "c%d" % i)
    img.set_desc("live_count", 6)
    img.dir_override = [tablegen.CHUNK_BASE, 0xdead0000,
                        tablegen.CHUNK_BASE + 2 * tablegen.CHUNK_GAP]
    t = img.decode()
    assert [c.id for c in t.coroutines] == [1, 2, 5, 6]
    assert "chunk 1 at 0xdead0000 is unreadable" in t.warnings[0]


def test_chunk_dir_unmapped(image):
    image.set_desc("chunk_dir", 0x7777000)
    t = image.decode()
    assert t.coroutines == []
    assert "chunk directory at 0x7777000 (1 chunks) is unreadable" in \
        t.warnings[0]


def test_chunk_cycle(image):
    image.set_desc("nchunks", 3)
    image.dir_override = [tablegen.CHUNK_BASE] * 3
    t = image.decode()
    assert [c.id for c in t.coroutines] == [1, 2, 3, 4, 5, 6]
    assert "chunk 1 repeats chunk 0" in t.warnings[0]


def test_chunk_pointing_at_descriptor(image):
    image.dir_override = [DESC_ADDR]
    t = image.decode()
    assert t.coroutines == []
    assert "overlaps the descriptor" in t.warnings[0]


def test_name_without_terminator(image):
    image.set_entry(2, name=b"y" * 32)
    t = image.decode()
    c = t.by_id[3]
    assert c.name == "y" * 32
    assert c.unreadable == "bad-name"
    assert "1 entry could not be fully read" in t.warnings[-1]
    assert len(t.coroutines) == 6


def test_descriptor_string_without_terminator(image):
    image.set_desc("runtime_name", b"x" * 16)
    t = image.decode()
    assert t.desc["runtime_name"] == "x" * 16
    assert "runtime_name is not NUL-terminated" in t.warnings[0]


def test_generation_mid_update(image):
    image.set_desc("generation", 13)
    image.set_desc("live_count", 99)  # inconsistent: allowed mid-update
    t = image.decode()
    assert t.mid_update
    assert t.warnings == [
        "the table was being updated when the program stopped "
        "(generation 13 is odd): the listing may be inconsistent"]
    assert len(t.coroutines) == 6


def test_entry_mid_update_and_bad_state(image):
    image.set_entry(0, seq=7)
    image.set_entry(1, state=77)
    t = image.decode()
    assert t.by_id[1].unreadable == "mid-update"
    assert t.by_id[2].unreadable == "bad-state"
    assert t.by_id[2].state_name == "state-77"
    assert len(t.coroutines) == 6


def test_saved_sp_outside_stack(image):
    image.set_entry(2, regs=[0x401000, 0x10, 0, 0, 0, 0, 0, 0])
    t = image.decode()
    assert t.by_id[3].unreadable == "bad-stack"


def test_duplicate_ids(image):
    image.set_entry(1, id=1)
    t = image.decode()
    assert t.coroutines[1].unreadable == "duplicate-id"
    assert t.by_id[1].slot == 0


def test_field_record_outside_entry_is_ignored(image):
    rec = image.prefix["entry_fields_off"] + 5 * 8  # 6th record: switches
    struct.pack_into("<HH", image.desc, rec + 2, 60000, 8)
    t = image.decode()
    assert "entry field switches lies outside" in t.warnings[0]
    assert t.by_id[1].switches is None
    assert len(t.coroutines) == 6


def test_missing_required_field(image):
    rec = image.prefix["entry_fields_off"]  # id
    struct.pack_into("<H", image.desc, rec, 999)
    with pytest.raises(errors.BadTableError, match="does not describe id"):
        image.decode()


def test_unmapped_descriptor():
    with pytest.raises(errors.MemoryReadError,
                       match="cannot read 40 bytes at 0x10000"):
        decode.decode_table(BytesReader(), DESC_ADDR)


def test_read_entry(image):
    t = image.decode()
    r = image.reader()
    co = t.by_id[2]
    r.write(co.addr + image.efields["state"][0],
            struct.pack("<I", layout.STATE_RUNNABLE))
    again = decode.read_entry(r, t, co)
    assert again.id == 2 and again.state_name == "runnable"


def test_read_entry_without_layout(image):
    """A Table made without the decoder has no entry layout: no entry to
    re-read (the GDB adapter's breakpoint condition relies on None)."""
    t = image.decode()
    bare = model.Table(t.addr, t.prefix, t.desc, t.reg_dwarf)
    assert decode.read_entry(image.reader(), bare, t.by_id[2]) is None


def test_caching_reader_caches_failures():
    calls = []

    def fn(addr, size):
        calls.append(addr)
        raise OSError("boom")
    r = CachingReader(FunctionReader(fn))
    for _ in range(3):
        with pytest.raises(errors.MemoryReadError, match="boom"):
            r.read(0x1000, 8)
    assert calls == [0x1000]
    r.invalidate()
    with pytest.raises(errors.MemoryReadError):
        r.read(0x1000, 8)
    assert len(calls) == 2


def test_random_corruption_never_escapes():
    """Flip random bytes of descriptor and entries: only CorodbgError or a
    (partial) table, never another exception."""
    rnd = random.Random(1234)
    for _ in range(400):
        img = TableImage.randomly_corrupted(rnd)
        try:
            t = img.decode()
        except errors.CorodbgError as e:
            assert str(e) and "\n" not in str(e)
            continue
        for c in t.coroutines:
            assert isinstance(c.name, (str, type(None)))


def test_descriptor_fixture_matches_build(build):
    """fixtures/descriptor-x86_64.bin is libcorodbg.so's .corodbg section
    (regenerate with objcopy when the ABI grows)."""
    import subprocess
    so = build / "runtime-hooks" / "libcorodbg.so"
    assert so.exists(), "build libcorodbg first (make)"
    out = subprocess.run(
        ["objcopy", "-O", "binary", "--only-section=.corodbg", str(so),
         "/dev/stdout"], capture_output=True, check=True).stdout
    fixture = (tablegen.FIXTURES / "descriptor-x86_64.bin").read_bytes()
    # chunk_dir and event_hook are relocated pointers: compare the rest.
    img = TableImage(out)
    img2 = TableImage(fixture)
    for name in ("chunk_dir", "event_hook"):
        img.set_desc(name, 0)
        img2.set_desc(name, 0)
    assert bytes(img.desc) == bytes(img2.desc)


def test_created_without_context_is_readable(image):
    """Issue 14 item 17: pc 0 / sp 0 (created, no context yet; valid per
    docs/abi.md) is not a bad stack."""
    image.add(6, 7, layout.STATE_RUNNABLE, "fresh", pc=0, sp=0,
              regs=[0] * 8)
    t = image.decode()
    co = t.by_id[7]
    assert co.pc == 0 and co.unreadable is None, co.note
    assert not any("could not be fully read" in w for w in t.warnings)


def test_garbage_chunk_is_cut_off():
    """Issue 14 item 17: a chunk pointer into readable garbage gave one '?'
    row per slot (1,023 such chunks: 4.19M rows).  Each chunk lists at
    most CHUNK_BAD_MAX corrupt entries, and a warning says so."""
    image = TableImage(chunk_entries=64)
    for cid in (1, 2, 3):
        image.add(cid - 1, cid, layout.STATE_BLOCKED, "w%d" % cid)
    image.chunks.append(bytearray(b"A" * (64 * image.esize)))
    image.set_desc("nchunks", 2)
    t = image.decode()
    assert [c.id for c in t.coroutines[:3]] == [1, 2, 3]
    bad = [c for c in t.coroutines if c.unreadable]
    assert len(bad) == decode.CHUNK_BAD_MAX == len(t.coroutines) - 3
    assert ("chunk 1 at 0x%x: 64 corrupt entries (a wrong chunk pointer?): "
            "only the first %d listed" % (tablegen.CHUNK_BASE +
                                          tablegen.CHUNK_GAP,
                                          decode.CHUNK_BAD_MAX)) \
        in t.warnings, t.warnings


def test_walker_fields_read_alone_without_unpacking_the_entry():
    # -u, -group user and leaks read sp, stack_hi and create_pc of
    # 100,000 coroutines: each is unpacked alone from the chunk, equal to
    # the whole entry's value, and no whole entry is unpacked and kept
    t = TableImage()
    t.add(0, 7, layout.STATE_BLOCKED, "w", pc=0x401234, sp=0x7f0000070f00,
          create_pc=0x400abc, stack_lo=0x7f0000070000,
          stack_hi=0x7f0000080000)
    co = t.decode().coroutines[0]
    got = (co.sp, co.stack_hi, co.stack_lo, co.create_pc, co.seq)
    assert not hasattr(co, "_t")
    assert got == (0x7f0000070f00, 0x7f0000080000, 0x7f0000070000,
                   0x400abc, 2)
    assert co.regs[1] == co.sp and hasattr(co, "_t")   # the whole entry
