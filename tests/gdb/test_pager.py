"""`info coroutines` goes through GDB's pager on a terminal: it stops after
a screenful, and `q` at the prompt ends the listing quietly (no error, no
traceback) with GDB still alive."""
import os
import pty
import select
import time

from gdbdriver import LOADER, ROOT, binary, line_of


def test_pager_stops_and_quits_cleanly():
    pid, fd = pty.fork()
    if pid == 0:  # child: gdb on the pty
        os.chdir(str(ROOT))
        os.execvp("gdb", ["gdb", "-nx", "-q", "-ex", "source %s" % LOADER,
                          "-ex", "set height 12", "-ex", "set width 200",
                          "-ex", "set style enabled off",
                          "-ex", "break fixture_ready",
                          "--args", str(binary()), "list", "40"])
    buf = [b""]
    pos = [0]  # output before pos was consumed by an earlier until()

    def until(pat, timeout=30):
        # Search only what arrived after the previous match: a busy machine
        # delivers "Breakpoint 1," and the next prompt in one read.
        end = time.time() + timeout
        while time.time() < end and buf[0].find(pat, pos[0]) < 0:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    buf[0] += os.read(fd, 65536)
                except OSError:
                    break
        at = buf[0].find(pat, pos[0])
        assert at >= 0, buf[0][-2000:]
        pos[0] = at + len(pat)

    try:
        until(b"(gdb) ")
        os.write(fd, b"run\n")
        until(b"Breakpoint 1,")
        until(b"(gdb) ")
        start = pos[0]
        os.write(fd, b"info coroutines\n")
        until(b"--Type <RET> for more, q to quit")
        page = buf[0][start:pos[0]].decode(errors="replace")
        assert "consumer fx_park at minirt.c:%d" % line_of("LINE_PARK") in page
        assert "Total:" not in page            # stopped after a screenful
        start = pos[0]
        os.write(fd, b"q\n")
        until(b"(gdb) ")
        os.write(fd, b"echo ALIVE\\n\n")
        until(b"ALIVE\r\n")
        text = buf[0][start:].decode(errors="replace")
        assert "Traceback" not in text and "Python Exception" not in text
        assert "Total:" not in text
    finally:
        os.write(fd, b"kill\n")
        time.sleep(0.2)
        os.write(fd, b"y\nquit\n")
        time.sleep(0.2)
        try:
            os.kill(pid, 9)
        except OSError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
