"""The rules both adapters used to spell out themselves: naming a return
address, the clock for ages, the union of several catch requests."""
import time

from corodbg.core import filter as corefilter
from corodbg.core import layout, symbols
from corodbg.core.model import Location, Table, state_name

FUNCS = {0x1000: "first", 0x1010: "second"}   # start -> name


def _start(pc):
    starts = [s for s in FUNCS if s <= pc]
    return max(starts) if starts else None


def _describe_calls(calls):
    def describe(pc, look):
        calls.append((pc, look))
        return Location(FUNCS.get(_start(look)), "f.c", look, pc)
    return describe


def test_a_return_address_is_named_by_its_call():
    calls = []
    cache = symbols.SymbolCache(_start, _describe_calls(calls))
    # 0x1010 starts `second`; as a return address after a call at the end
    # of `first` it names `first`, unless it is a function's start
    loc = cache.symbolize(0x1011)
    assert (loc.function, loc.pc, calls[-1]) == ("second", 0x1011,
                                                  (0x1011, 0x1010))
    assert cache.symbolize(0x1010).function == "second"      # a start
    assert cache.symbolize(0x1010, False).function == "second"
    assert cache.symbolize(0x100f, False).function == "first"


def test_the_cache_asks_once_per_pc_and_kind_until_cleared():
    calls = []
    cache = symbols.SymbolCache(_start, _describe_calls(calls))
    for _ in range(3):
        cache.symbolize(0x1005)
        cache.symbolize(0x1005, False)
    assert calls == [(0x1005, 0x1004), (0x1005, 0x1005)]
    cache.clear()
    cache.symbolize(0x1005)
    assert len(calls) == 3
    assert cache.symbolize(0) == Location(None, None, 0, 0)
    assert len(calls) == 3


def test_the_clock_rule():
    t = Table(0, {}, {"clock_ns": 1234}, [])
    assert t.now_ns(False) == 1234
    before = time.monotonic_ns()
    assert before <= t.now_ns(True) <= time.monotonic_ns()
    assert Table(0, {}, {}, []).now_ns(False) is None


def test_state_names():
    assert state_name(layout.STATE_BLOCKED) == "blocked"
    assert state_name(99) == "state-99"


def test_union_of_catch_requests():
    u = corefilter.union_values
    assert u([]) == (0, 0, 0, "")
    assert u([((), True, 0, "")]) == (0, layout.FILTER_PANIC, 0, "")
    blocked = 1 << layout.STATE_BLOCKED
    dead = 1 << layout.STATE_DEAD
    armed = layout.FILTER_ARMED
    # one request: its id and name restrict the filter
    assert u([((layout.STATE_BLOCKED,), False, 7, "w*")]) == \
        (blocked, armed, 7, "w*")
    # the same id and name twice: still restricted; states add up
    assert u([((layout.STATE_BLOCKED,), False, 7, "w*"),
              ((layout.STATE_DEAD,), False, 7, "w*"),
              ((), True, 0, "")]) == \
        (blocked | dead, armed | layout.FILTER_PANIC, 7, "w*")
    # different ids or names: the widest filter (re-checked at the stop)
    assert u([((layout.STATE_BLOCKED,), False, 7, ""),
              ((layout.STATE_BLOCKED,), False, 8, "")]) == \
        (blocked, armed, 0, "")
    assert u([((layout.STATE_BLOCKED,), False, 0, "a"),
              ((layout.STATE_DEAD,), False, 0, "b")]) == \
        (blocked | dead, armed, 0, "")
