"""Target text made terminal-safe (core/escape.py, issue 14 item 15):
names and panic messages never carry a raw control to a front end."""
from corodbg.core import decode, layout
from corodbg.core.escape import printable

HOSTILE = "ev\x1b]0;pwned\x07\r\n(gdb) fake\x9b\u202e\x7f"
SAFE = "ev\\x1b]0;pwned\\x07\\r\\n(gdb) fake\\x9b\\u202e\\x7f"


def test_printable_rule():
    assert printable("worker-7 ünïcode 名前") == "worker-7 ünïcode 名前"
    assert printable(HOSTILE) == SAFE
    assert printable("\t\U000e0001") == "\\t\\U000e0001"


def test_decoded_name_and_panic_message_are_escaped(image):
    image.set_entry(0, name=HOSTILE.encode()[:31])
    t = image.decode()
    name = t.by_id[1].name
    assert name.isprintable() and name.startswith("ev\\x1b]0;pwned")
    r = image.reader()
    r.add(0x600000000000, (HOSTILE.encode() + b"\0").ljust(layout.PANIC_MAX, b"\0"))
    text, terminated = decode.read_string(r, 0x600000000000, layout.PANIC_MAX)
    assert text == SAFE and terminated
