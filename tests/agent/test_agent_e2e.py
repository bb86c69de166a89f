"""The user's story through the endpoint (issue 12): a stripped service
runs as an unprivileged user and is not dumpable, so no debugger and no
`corodbg dump` may read it; its own agent, reached through its socket by
the same user, serves the coroutine profile; on "another machine" that
has only the separate debug file, `corosym pprof` symbolizes it by
build-id and `go tool pprof` reads it."""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from agent_util import AGENT_SO, CORODBG, TARGET, need
import pprof_fixture as pf  # noqa: E402 (tests/symbolizer)

USER = "nobody"
N = 300
GO = shutil.which("go") or "/usr/bin/go"


@pytest.fixture
def world():
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root (to run the service as %s)" % USER)
    top = tempfile.mkdtemp(prefix="corodbg-agent-e2e-")
    os.chmod(top, 0o755)
    prod, dev = os.path.join(top, "prod"), os.path.join(top, "dev")
    os.makedirs(prod + "/bin")
    os.mkdir(dev)
    # the service finds libcorodbg-agent.so through its rpath $ORIGIN/..
    exe = os.path.join(prod, "bin", "agent_target")
    subprocess.run(["strip", "--strip-all", "-o", exe, str(need(TARGET))],
                   check=True)
    shutil.copy(str(need(AGENT_SO)) + ".1",
                os.path.join(prod, "libcorodbg-agent.so.1"))
    shutil.copy(str(CORODBG), os.path.join(prod, "corodbg"))
    os.chmod(prod, 0o777)
    bid = pf.build_id(TARGET)
    assert bid == pf.build_id(exe)
    dbg = os.path.join(dev, "debug", ".build-id", bid[:2])
    os.makedirs(dbg)
    subprocess.run(["objcopy", "--only-keep-debug", str(TARGET),
                    os.path.join(dbg, bid[2:] + ".debug")], check=True)
    yield prod, dev, exe
    shutil.rmtree(top, ignore_errors=True)


def test_users_story_without_ptrace(world, tmp_path):
    prod, dev, exe = world
    assert "symtab" not in subprocess.run(
        ["readelf", "-S", exe], capture_output=True, text=True).stdout
    env = {k: v for k, v in os.environ.items()
           if k not in ("XDG_RUNTIME_DIR", "AGENT_SPEC")}
    env.update(CORODBG_AGENT="1", AGENT_NODUMP="1")
    p = subprocess.Popen(["runuser", "-u", USER, "--", exe, str(N)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env,
                         start_new_session=True)
    raw = os.path.join(prod, "coroutine.pb.gz")
    try:
        line = p.stdout.readline()
        assert line.startswith("ready "), (line, p.stderr.read())
        _, pid, sock = line.split()
        uid = int(subprocess.run(["id", "-u", USER], capture_output=True,
                                 text=True).stdout)
        assert sock == "/tmp/corodbg-%d/%s.sock" % (uid, pid)
        # ptrace is not allowed: the process is not dumpable
        status = open("/proc/%s/status" % pid).read()
        corodbg = os.path.join(prod, "corodbg")
        r = subprocess.run(["runuser", "-u", USER, "--", corodbg, "dump",
                            pid], capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and "not allowed to read process" in \
            r.stderr, (r.stderr, status)
        # the endpoint is, for the same user, by pid
        r = subprocess.run(["runuser", "-u", USER, "--", corodbg, "fetch",
                            pid, "goroutine", "-o", raw],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        r = subprocess.run(["runuser", "-u", USER, "--", corodbg, "fetch",
                            pid, "metrics"],
                           capture_output=True, text=True, timeout=120)
        assert 'corodbg_coroutines_blocked{wait="chan receive"} %d' % N in \
            r.stdout, r.stdout + r.stderr
    finally:
        os.killpg(p.pid, 9)
        p.wait()
    # on another machine, with the debug file only
    prof, out = pf.symbolize_elsewhere(raw, dev, exe, TARGET)
    assert sum(v[0] for _, v in prof.samples) == N + 2
    r = subprocess.run([GO, "tool", "pprof", "-traces", "-lines", out],
                       capture_output=True, text=True, env=pf.go_env(tmp_path),
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Type: coroutines" in r.stdout
    assert re.search(r"^ +%d +\S.*\n(?: +\S.*\n)*? +wait_for_job \S+/agent/"
                     r"tests/agent_target.c:\d+$" % N, r.stdout, re.M), \
        r.stdout[:3000]
