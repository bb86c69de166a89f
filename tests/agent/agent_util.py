"""Helpers for the in-process endpoint's tests: a corort service with the
agent (agent/tests/agent_target.c) and a raw HTTP client over its Unix
socket, so every byte a client sends is under the test's control."""
import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
BUILD = ROOT / "build"
TARGET = BUILD / "agent" / "tests" / "agent_target"
TARGET_SAN = BUILD / "agent" / "tests" / "agent_target-san"
AGENT_SO = BUILD / "agent" / "libcorodbg-agent.so"
CORODBG = BUILD / "capture" / "corodbg"
sys.path.insert(0, str(ROOT / "tests" / "symbolizer"))


def need(path):
    assert path.exists(), "%s not built: run make testbin" % path
    return path


class Service:
    """A running agent_target: .pid, .sock, .send(line), .lines()."""

    def __init__(self, proc, pid, sock):
        self.proc, self.pid, self.sock = proc, pid, sock

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def readline(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line:
                return line.strip()
            if self.proc.poll() is not None:
                break
        raise AssertionError("agent_target said nothing: %s"
                             % self.proc.stderr.read())


def private_dir(mode=0o700):
    d = tempfile.mkdtemp(prefix="corodbg-agent-")
    os.chmod(d, mode)
    return d


@contextlib.contextmanager
def service(n=20, spec=None, env=None, cmd_prefix=(), exe=None):
    """Start agent_target N (AGENT_SPEC=SPEC unless None) and wait for its
    "ready PID SOCKET"; kill it (and its process group) at the end."""
    e = dict(os.environ)
    e.pop("CORODBG_AGENT", None)
    if spec is not None:
        e["AGENT_SPEC"] = spec
    e.update(env or {})
    cmd = list(cmd_prefix) + [str(exe or need(TARGET)), str(n)]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=e,
                         start_new_session=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("ready "), (line, p.stderr.read())
        _, pid, sock = line.split()
        yield Service(p, int(pid), sock)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=30)


def raw(sock, data, timeout=20):
    """Send DATA (bytes) on a fresh connection, read until EOF."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock)
    try:
        s.sendall(data)
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)
    finally:
        s.close()


def parse(answer, head=False):
    """HTTP answer bytes -> (status, {header: value}, body bytes)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for h in lines[1:]:
        k, _, v = h.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers and not head:
        assert len(body) == int(headers["content-length"]), headers
    return status, headers, body


def get(sock, path, timeout=60):
    return parse(raw(sock, ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path)
                     .encode(), timeout))


def runner_copy(paths, mode=0o755):
    """Copy PATHS into a fresh directory any user can read (the build tree
    may be under /root); returns the directory."""
    d = tempfile.mkdtemp(prefix="corodbg-agent-bin-")
    os.chmod(d, mode)
    for p in paths:
        shutil.copy(str(p), d)
    return d
