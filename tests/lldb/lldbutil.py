"""Plain helpers of the LLDB tests.  They live here, not in conftest.py,
so test modules import them by a unique name: every test folder has a
conftest.py, and `from conftest import` picks whichever was loaded first."""
import os
import shutil
import time

LLDB = shutil.which("lldb-19")
LLDB_SERVER = "/usr/lib/llvm-19/bin/lldb-server"


def lldb_env():
    env = dict(os.environ)
    env["LLDB_DEBUGSERVER_PATH"] = LLDB_SERVER
    env.pop("CORODBG_LLDB_MAX_THREADS", None)
    return env


class Transcript:
    """LLDB's batch output split per command: t['coroutine list'] is the
    output of the first command with that text, t.all('bt') every one."""

    def __init__(self, text, rc):
        self.text = text
        self.rc = rc
        self.parts = []
        cur = None
        for line in text.splitlines():
            if line.startswith("(lldb) "):
                cur = [line[7:].strip(), []]
                self.parts.append(cur)
            elif cur is not None:
                cur[1].append(line)

    def __getitem__(self, cmd):
        for c, out in self.parts:
            if c == cmd:
                return "\n".join(out)
        raise KeyError("command %r not in transcript:\n%s" % (cmd, self.text))

    def all(self, cmd):
        return ["\n".join(out) for c, out in self.parts if c == cmd]


def wait_for(pred, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False
