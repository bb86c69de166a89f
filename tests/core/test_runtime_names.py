"""Runtime globs match a function by its qualified name, whatever a
debugger prints before it (LLDB's '::' scope, a template's return type);
and where a coroutine's stack ends (StackEnd)."""
import pytest

from corodbg.core import runtime_rules
from corodbg.core.runtime_rules import RuntimeMatcher, qualified_name


CASES = [
    # LLDB's name of an Asio template (its mangled name holds the return
    # type; GDB prints the same function without it)
    ("auto boost::asio::basic_stream_socket<tcp, any<never_t<0> > >::"
     "async_read_some<buf, yield<void (*)()> >(buf const&, yield&&)",
     "boost::asio::basic_stream_socket<tcp, any<never_t<0> > >::"
     "async_read_some<buf, yield<void (*)()> >(buf const&, yield&&)"),
    ("void park<int>(int)", "park<int>(int)"),
    ("std::vector<int, std::allocator<int> > const& make<int>(int)",
     "make<int>(int)"),
    ("::lock_table(int)", "lock_table(int)"),
    ("auto (anonymous namespace)::g<int>(int)",
     "(anonymous namespace)::g<int>(int)"),
    ("int f()::{lambda(int)#1}::operator()(int) const",
     "f()::{lambda(int)#1}::operator()(int) const"),
    # unchanged: C names, plain C++ names, operators
    ("corort_park", "corort_park"),
    ("lock_table(int)", "lock_table(int)"),
    ("operator new(unsigned long)", "operator new(unsigned long)"),
    ("pool::operator<(pool const&) const", "pool::operator<(pool const&) const"),
    ("pool::operator bool() const", "pool::operator bool() const"),
    ("cooperator_run(int)", "cooperator_run(int)"),
]


@pytest.mark.parametrize("shown, name", CASES)
def test_qualified_name(shown, name):
    assert qualified_name(shown) == name


def test_globs_match_through_the_return_type():
    m = RuntimeMatcher(["boost::asio::*", "corort_*"])
    assert m("auto boost::asio::basic_waitable_timer<clock>::"
             "async_wait<yield>(yield&&)")
    assert m("boost::asio::basic_waitable_timer<clock>::"
             "async_wait<yield>(yield&&)")
    assert m("corort_park")
    assert not m("read_request(boost::asio::ip::tcp::socket&, "
                 "boost::asio::yield_context)")
    assert not m("void user_fn<boost::asio::yield_context>(int)")


def test_stack_end_rule():
    """Where a parked coroutine's `bt` ends (runtime_rules.StackEnd): at
    the entry function by address; before the runtime's start function
    once a frame was shown, after it when it is the first; before a
    frame that is no code (zero or a sentinel at the bottom).  Each
    lookup at most once a frame."""
    End = runtime_rules.StackEnd
    end = End(0x1000, 0x9000)
    asked = []

    def start(v):
        return lambda: asked.append(v) or v

    def code(ok=True):
        return lambda: asked.append("code") or ok

    assert end.check(0x1234, start(0x1200), code(), False) == End.SHOW
    assert asked == [0x1200, "code"]
    assert end.check(0x1010, start(0x1000), code(), True) == End.LAST
    assert end.check(0x1010, start(None), code(), True) == End.SHOW  # inlined
    assert end.check(0x9010, start(0x9000), code(), True) == End.HIDE
    # the start as the first frame is the last: a finish stub below it
    # is code with a name, and no frame of the coroutine's
    assert end.check(0x9010, start(0x9000), code(), False) == End.LAST
    del asked[:]
    assert end.check(0, start(0x9000), code(), True) == End.HIDE
    assert asked == []
    assert end.check(0xdeaddeaddeaddead, start(None), code(False),
                     True) == End.HIDE
    none = End(0, 0)                   # nothing described: no lookups
    del asked[:]
    assert none.check(0x9010, start(0x9000), code(), True) == End.SHOW
    assert asked == ["code"]
