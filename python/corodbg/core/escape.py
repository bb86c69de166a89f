"""Text from the target made safe for a terminal: one rule for every
front end.

Coroutine names and panic messages often carry request data.  Written
raw, an ESC or OSC sequence retitles or reprograms the user's terminal, a
CR overwrites the line, and a newline followed by "(gdb) ..." fakes
debugger output.  Every character Python does not consider printable
(controls, line and paragraph separators, bidi overrides, unassigned
code points) is shown as an escape, as repr() would: \\n, \\r, \\t, \\xNN,
\\uNNNN, \\UNNNNNNNN.  Printable text, the common case, is returned as is.
"""

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch):
    if ch.isprintable():
        return ch
    short = _SHORT.get(ch)
    if short:
        return short
    n = ord(ch)
    if n < 0x100:
        return "\\x%02x" % n
    if n < 0x10000:
        return "\\u%04x" % n
    return "\\U%08x" % n


def printable(text):
    """TEXT with every non-printable character escaped (see above)."""
    if text.isprintable():
        return text
    return "".join(map(_escape_char, text))
