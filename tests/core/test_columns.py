"""A clean table decoded to columns (model.Table.columns) lists, finds and
makes its coroutines exactly as the per-object decode does."""
from corodbg.core import decode, layout, listing, query
from tablegen import DESC_ADDR, TableImage
from test_pipeline import FakeFrontend

FIELDS = ("id", "state", "tid", "since_ns", "wait_reason", "name", "pc",
          "sp", "stack_lo", "stack_hi", "create_pc", "entry_fn", "slot",
          "addr", "unreadable", "note", "regs")


def image():
    """Three chunks of 8 with free slots between the entries, every
    state, repeated and distinct names and pcs, one on thread 4242."""
    t = TableImage(chunk_entries=8)
    states = (layout.STATE_BLOCKED, layout.STATE_RUNNABLE,
              layout.STATE_BLOCKED, layout.STATE_DEAD,
              layout.STATE_PANICKED, layout.STATE_CRASHED)
    cid = 0
    for slot in range(24):
        if slot % 5 == 3:
            continue   # a free slot
        cid += 1
        st = states[cid % len(states)]
        t.add(slot, cid, st, "w%d" % (cid % 3), pc=0x401000 + 16 * (cid % 4),
              wait_reason=layout.WAIT_CHAN_RECV if st else 0,
              since_ns=(4 + cid % 3) * 10**9 + cid)
    t.add(24, cid + 1, layout.STATE_RUNNING, "worker", tid=4242,
          last_tid=4242)
    t.set_desc("live_count", cid + 1)
    return t


def columns(img):
    return decode.decode_table(img.reader(), DESC_ADDR, columns=True)


def listing_of(tbl):
    fe = FakeFrontend(tbl)
    return listing.list_lines(fe, query.parse_list_args(""),
                              tbl.get("clock_ns"), marker_id=7)


def test_plain_listing_from_columns_makes_no_objects():
    cols, objs = columns(image()), image().decode()
    assert cols.columns is not None
    assert objs.columns is None   # the default: objects
    out = listing_of(cols)
    assert out == listing_of(objs)
    assert "thread_fn" in "".join(out)
    assert [line.split()[1] for line in out if line.startswith("*")] == \
        ["7"]
    assert cols.columns is not None   # still no object per entry
    assert len(cols._made) == 1        # but the one on thread 4242


def test_coroutines_made_later_are_the_same_and_keep_identity():
    cols, ref = columns(image()), image().decode()
    early = cols.coroutine_at(5)
    on = cols.on_thread(4242)
    made = cols.coroutines
    assert made[5] is early and on in made and on.tid == 4242
    assert len(made) == len(ref.coroutines) == cols.size()
    for a, b in zip(made, ref.coroutines):
        assert [getattr(a, f) for f in FIELDS] == \
            [getattr(b, f) for f in FIELDS]


def test_a_thread_the_debugger_does_not_know_is_marked_in_columns():
    cols, objs = columns(image()), image().decode()
    for t in (cols, objs):
        t.mark_unknown_threads(set())
    out = listing_of(cols)
    assert out == listing_of(objs)
    assert any(line.startswith("? ") for line in out)
    assert cols.columns is not None


def test_an_entry_to_mark_sends_the_table_to_objects():
    img = image()
    img.set_entry(9, seq=3)   # being updated: '?'
    t = columns(img)
    assert t.columns is None
    bad = [c for c in t.coroutines if c.unreadable]
    assert [c.unreadable for c in bad] == ["mid-update"]
    assert any("could not be fully read" in w for w in t.warnings)


def test_corrupted_tables_list_the_same_either_way():
    """Random corruptions (as test_decode's fuzz): columns or objects,
    the same one-line error, or the same warnings and listing."""
    import random
    from corodbg.core import errors
    rnd = random.Random(1010)
    used = 0
    for _ in range(120):
        img = TableImage.randomly_corrupted(rnd)
        got = []
        for cols in (False, True):
            try:
                t = decode.decode_table(img.reader(), DESC_ADDR,
                                        columns=cols)
            except errors.CorodbgError as e:
                assert str(e) and "\n" not in str(e)
                got.append(str(e))
                continue
            used += cols and t.columns is not None
            got.append((t.warnings, listing_of(t)))
        assert got[0] == got[1]
    assert used > 10   # many corruptions leave a clean table


def test_columns_are_machine_integers_and_the_listing_streams():
    """The integer columns are arrays (8 bytes a value at most, no int
    object per entry: new memory is what a 1M listing paid for), and a
    streamed plain listing (what GDB writes as it comes) is the list's
    text, made as it is taken."""
    from array import array
    t = columns(image())
    for name in ("id", "state", "tid", "since_ns", "wait_reason", "pc"):
        assert isinstance(t.columns[name], array), name
    assert isinstance(t.columns["name"], list)   # shared str objects
    fe = FakeFrontend(t)
    lines = listing.list_lines(fe, query.parse_list_args(""),
                               t.get("clock_ns"), marker_id=7, stream=True)
    assert not isinstance(lines, list)
    assert list(lines) == listing_of(columns(image())) == \
        listing_of(image().decode())
