"""corodbg.core.crash: the one rule both debuggers use for crash text
(issue 14 item 12: a sent signal's si_addr bytes are the sender's pid)."""
import types

import pytest

from corodbg.core import crash

SEGV_MAPERR, SEGV_ACCERR, SI_USER, SI_TKILL, SI_KERNEL = 1, 2, 0, -6, 0x80


@pytest.mark.parametrize("signo, code, addr, expected", [
    (11, SEGV_MAPERR, 0x10, 0x10),
    (11, SEGV_ACCERR, 0, 0),          # a real NULL page fault shows 0x0
    (11, SI_KERNEL, 0, 0),            # general protection: kernel-raised
    (7, 2, 0x7f00, 0x7f00),           # SIGBUS, BUS_ADRERR
    (6, SI_TKILL, 4242, None),        # abort(): si_addr is the pid
    (11, SI_USER, 4242, None),        # kill -SEGV
    (11, SI_TKILL, 4242, None),       # the crash handler's re-sent stop
    (6, 1, 0x10, None),               # SIGABRT never has an address
    (11, None, 0x10, None),           # no si_code: do not guess
    (None, None, None, None),
])
def test_fault_address_only_for_kernel_faults(signo, code, addr, expected):
    assert crash.fault_address(signo, code, addr) == expected


def test_crash_text():
    assert crash.crash_text(7, "crasher", 11, 0x10) == \
        'Coroutine 7 "crasher" crashed: SIGSEGV, fault address 0x10'
    assert crash.crash_text(7, "aborter", 6, None) == \
        'Coroutine 7 "aborter" crashed: SIGABRT'
    assert crash.crash_text(7, "x", "SIGBUS", None) == \
        'Coroutine 7 "x" crashed: SIGBUS'
    assert crash.crash_text(7, "x", 99, None) == \
        'Coroutine 7 "x" crashed: signal 99'


@pytest.mark.parametrize("signal, fault_addr, expected", [
    (11, 0, 'Coroutine 3 "c" crashed: SIGSEGV, fault address 0x0'),
    (11, 0x38, 'Coroutine 3 "c" crashed: SIGSEGV, fault address 0x38'),
    (6, 0, 'Coroutine 3 "c" crashed: SIGABRT'),
    (6, 4242, 'Coroutine 3 "c" crashed: SIGABRT'),  # corrupt: no address
])
def test_recorded_crash_text(signal, fault_addr, expected):
    co = types.SimpleNamespace(id=3, name="c", signal=signal,
                               fault_addr=fault_addr)
    assert crash.recorded_crash_text(co) == expected
