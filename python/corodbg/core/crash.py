"""Crash text: one rule, for both debuggers, for what a fatal signal says.

si_addr is a fault address only when the kernel raised the signal for a
fault (si_code > 0) of a kind that has one (SIGSEGV, SIGBUS, SIGFPE,
SIGILL).  For kill, tgkill and raise (abort() and assert included) the
same bytes of siginfo hold the sender's pid, so printing them as an
address shows the pid; and libcorodbg's crash handler re-sends such a
signal with the sender's siginfo, so the re-raised stop is the same kind.
The table's fault_addr is already filtered by the runtime (0 unless a
fault; docs/abi.md), so a recorded crash shows an address only for the
fault signals.
"""

# Linux numbers (the same on x86-64 and aarch64), not the host's `signal`
# module: a core may be read on another system.
SIGNAL_NAMES = {4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
                8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM"}
# The signals libcorodbg's crash handler records.
FATAL = frozenset(("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT"))
_FAULTS = frozenset((4, 7, 8, 11))


def signal_name(num):
    """'SIGSEGV' for 11; 'signal N' for a number we have no name for; a
    name (what a debugger's stop event gives) as it is."""
    if isinstance(num, str):
        return num
    return SIGNAL_NAMES.get(num, "signal %s" % num)


def fault_address(signo, si_code, si_addr):
    """SI_ADDR when it is a fault address, else None.

    Arguments: SIGNO, SI_CODE and SI_ADDR as the debugger read them from
    the stop's siginfo; any may be None when it could not be read, and
    then there is no address to show."""
    if signo not in _FAULTS or si_code is None or si_code <= 0:
        return None
    return si_addr


def crash_text(co_id, name, signo, address):
    """'Coroutine 7 "crasher" crashed: SIGSEGV, fault address 0x10', with
    the address part only when ADDRESS is not None.  SIGNO is a number or
    a signal name."""
    text = 'Coroutine %d "%s" crashed: %s' % (co_id, name, signal_name(signo))
    if address is not None:
        text += ", fault address 0x%x" % address
    return text


def recorded_crash_text(co):
    """The crash text of a coroutine the crash handler recorded."""
    sig = co.signal or 0
    address = (co.fault_addr or 0) if sig in _FAULTS else None
    return crash_text(co.id, co.name, sig, address)
