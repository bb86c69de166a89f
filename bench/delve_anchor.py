"""Delve's `goroutines` commands on N parked goroutines: the anchor for the
grouped analyses (issue 10).  bench/gdb/goroutines.go parks N goroutines
on a channel and stops at runtime.Breakpoint(); a fresh Delve continues to
it, and each command is timed from when Delve reads it to its next prompt,
as a user at Delve's prompt meets it (Delve reads the next command only
once the previous one is done).

  python3 bench/delve_anchor.py N [COMMAND ...]
      (default: 'goroutines -group user')
prints `BENCH dlv:<command> <seconds> <lines>` per command, or one line
saying why the anchor is skipped (no go, no dlv, build failure).
"""
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPT = b"(dlv) "


def _build(tmp):
    src = os.path.join(tmp, "main.go")
    shutil.copy(os.path.join(HERE, "gdb", "goroutines.go"), src)
    env = dict(os.environ, GOCACHE=os.path.join(tmp, "gocache"),
               GOPATH=os.path.join(tmp, "gopath"), GO111MODULE="off",
               GOFLAGS="")
    out = os.path.join(tmp, "goroutines")
    r = subprocess.run(["go", "build", "-o", out, src], cwd=tmp, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise RuntimeError("go build failed: %s"
                           % r.stdout.decode(errors="replace")[:200])
    return out


class Delve:
    """dlv at its prompt, on a pipe."""

    def __init__(self, prog, n):
        self.p = subprocess.Popen(
            ["dlv", "exec", prog, "--allow-non-terminal-interactive=true",
             "--", str(n)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=dict(os.environ, TERM="dumb"))
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.p.stdout, selectors.EVENT_READ)
        self.buf = b""

    def until(self, marker, timeout=600):
        """Read up to MARKER; return what came before it."""
        end = time.monotonic() + timeout
        while marker not in self.buf:
            if time.monotonic() > end or not self.sel.select(1) and \
                    self.p.poll() is not None:
                raise RuntimeError("dlv: no %r (got %r)"
                                   % (marker, self.buf[-200:]))
            chunk = os.read(self.p.stdout.fileno(), 1 << 16)
            if not chunk:
                raise RuntimeError("dlv exited: %r" % self.buf[-200:])
            self.buf += chunk
        got, self.buf = self.buf.split(marker, 1)
        return got

    def send(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def close(self):
        try:
            self.send("exit")
            self.p.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()
            self.p.wait()


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-4].strip(), file=sys.stderr)
        return 2
    n = int(argv[1])
    cmds = argv[2:] or ["goroutines -group user"]
    for tool in ("go", "dlv"):
        if shutil.which(tool) is None:
            print("delve anchor skipped: %s not installed (%s)"
                  % (tool, "golang-go" if tool == "go" else "delve"))
            return 0
    with tempfile.TemporaryDirectory() as tmp:
        try:
            prog = _build(tmp)
        except RuntimeError as e:
            print("delve anchor skipped: %s" % e)
            return 0
        for c in cmds:   # each command first in a fresh Delve at the stop
            d = Delve(prog, n)
            try:
                d.until(PROMPT)
                d.send("continue")
                d.until(PROMPT)          # stopped at runtime.Breakpoint()
                t0 = time.perf_counter()
                d.send(c)
                out = d.until(PROMPT)
                dt = time.perf_counter() - t0
            finally:
                d.close()
            if b"Total: " not in out and b" goroutines]" not in out:
                print("delve anchor: %r printed no total: %r"
                      % (c, out[-200:]))
                return 1
            print("BENCH dlv:%s %.3f %d" % (c.replace(" ", "_"), dt,
                                           out.count(b"\n")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
