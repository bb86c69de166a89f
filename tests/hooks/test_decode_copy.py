"""The shared Python decoder reads a byte-for-byte copy of a real process's
table through the table's self-description alone (issue: "a decoder test
that reads a table only through its self-description")."""
import struct
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def dump(root, build, tmp_path_factory):
    sys.path.insert(0, str(root / "python"))
    out = tmp_path_factory.mktemp("dump") / "table.bin"
    p = subprocess.run([str(build / "runtime-hooks/programs/dump_table"),
                        str(out)], capture_output=True, text=True, check=True)
    regions = []
    data = out.read_bytes()
    off = 0
    while off < len(data):
        addr, size = struct.unpack_from("<QQ", data, off)
        regions.append((addr, data[off + 16:off + 16 + size]))
        off += 16 + size
    expected = {}
    for line in p.stdout.splitlines():
        head, panic, regs = line.split("|")
        cid, state, wait, name = head.split(" ", 3)
        pc, sp = (int(x, 16) for x in regs.split())
        expected[int(cid)] = (int(state), int(wait), name, panic, pc, sp)
    return regions, expected


def test_decode_byte_copy(dump):
    from corodbg.core import decode, layout
    from corodbg.core.reader import BytesReader
    regions, expected = dump
    reader = BytesReader()
    for addr, data in regions:
        reader.add(addr, data)
    table_addr = regions[0][0]
    table = decode.decode_table(reader, table_addr)
    assert table.warnings == []
    assert not table.mid_update
    got = {c.id: c for c in table.coroutines}
    assert len(got) == len(expected) == 4900
    assert set(got) == set(expected)
    for cid, (state, wait, name, panic, pc, sp) in expected.items():
        co = got[cid]
        assert (co.state, co.name, co.pc, co.sp) == (state, name, pc, sp)
        if state == layout.STATE_BLOCKED:
            assert co.wait_reason == wait
        if panic:
            text, terminated = decode.read_string(reader, co.panic_msg,
                                                  co.panic_len + 1)
            assert text == panic
    assert got[2].state_name == "running"
    assert got[5].state_name == "panicked"
    assert got[1].wait_name == "chan send"


def test_decode_ignores_unknown_appended_fields(dump):
    """A newer writer appends a field: grow entry_size, add a record with an
    unknown id.  The reader must skip it and read the rest unchanged."""
    from corodbg.core import decode
    from corodbg.core.reader import BytesReader
    regions, expected = dump
    desc = bytearray(regions[0][1])
    entry_size, = struct.unpack_from("<H", desc, 14)
    ef_off, ef_count = struct.unpack_from("<HH", desc, 24)
    # Turn the regs record into an unknown future id 999: the decoder must
    # still find every other field through the records.
    last = next(ef_off + 8 * i for i in range(ef_count)
                if struct.unpack_from("<H", desc, ef_off + 8 * i)[0] == 21)
    rid, roff, rsize, rkind = struct.unpack_from("<HHHH", desc, last)
    struct.pack_into("<HHHH", desc, last, 999, roff, rsize, rkind)
    reader = BytesReader()
    reader.add(regions[0][0], bytes(desc))
    for addr, data in regions[1:]:
        reader.add(addr, data)
    table = decode.decode_table(reader, regions[0][0])
    got = {c.id: c for c in table.coroutines}
    assert len(got) == 4900
    assert got[5].name == "worker-4" and got[5].state_name == "panicked"
    assert got[5].regs is None  # the field it no longer knows is absent
