"""The agent over the program's life: slow and vanishing clients, the
program exiting under a connected client, fork, exec, and programs with
no coroutines that merely inherit CORODBG_AGENT."""
import os
import re
import socket
import subprocess
import time

from agent_util import AGENT_SO, get, need, service


def test_slow_client_blocks_nobody(d):
    with service(5, spec=d + "/") as s:
        slow = socket.socket(socket.AF_UNIX)
        slow.connect(s.sock)
        slow.sendall(b"GET /metr")          # and nothing more
        others = []
        for _ in range(3):                 # idle connections too
            c = socket.socket(socket.AF_UNIX)
            c.connect(s.sock)
            others.append(c)
        t0 = time.monotonic()
        for _ in range(5):
            assert get(s.sock, "/metrics")[0] == 200
        assert time.monotonic() - t0 < 3
        # the slow one is dropped after the 5 s head deadline, with 408
        slow.settimeout(15)
        ans = slow.recv(4096)
        assert ans.startswith(b"HTTP/1.1 408 "), ans
        assert b"not received within 5 s" in ans
        for c in others:
            c.close()
        # and the program itself kept running its coroutines
        assert s.proc.poll() is None
        assert get(s.sock, "/metrics")[0] == 200


def test_client_vanishing_mid_answer_leaves_agent_healthy(d):
    with service(2000, spec=d + "/") as s:
        for _ in range(5):
            c = socket.socket(socket.AF_UNIX)
            c.connect(s.sock)
            c.sendall(b"GET /debug/pprof/goroutine?debug=2 HTTP/1.1"
                      b"\r\n\r\n")
            c.close()                       # before the answer
        # their dumps finish unread (at most 4 run at once: "busy")
        deadline = time.monotonic() + 30
        while True:
            st, _, body = get(s.sock, "/debug/pprof/goroutine?debug=1")
            if st != 503 or time.monotonic() > deadline:
                break
            assert body.startswith(b"busy: ")
            time.sleep(0.2)
        assert st == 200 and b"wait_for_job" in body


def test_program_exits_while_a_client_is_connected(d):
    with service(3, spec=d + "/") as s:
        c = socket.socket(socket.AF_UNIX)
        c.connect(s.sock)
        c.sendall(b"GET /metr")
        s.send("exit 7")
        assert s.proc.wait(timeout=20) == 7     # its own status
        c.settimeout(10)
        # EOF, or a reset when the agent had not read the partial head
        # yet (the kernel's answer to unread data): never a hang
        try:
            assert c.recv(100) == b""
        except ConnectionResetError:
            pass
        assert not os.path.exists(s.sock)       # and no stale socket


def fork_child(s):
    """Ask the service to fork; the child's (pid, socket)."""
    s.send("fork")
    child = [ln for ln in (s.readline(), s.readline())
             if ln.startswith("child ")][0]
    _, cpid, csock = child.split()
    return int(cpid), csock


def test_fork_child_gets_its_own_agent(d):
    with service(3, spec=d + "/") as s:
        cpid, csock = fork_child(s)
        assert cpid != s.pid
        assert csock == "%s/%s.sock" % (d, cpid) != s.sock
        st, _, body = get(csock, "/metrics")
        assert st == 200 and b"corodbg_coroutines{" in body
        # the parent's agent is untouched and still its own
        assert os.path.exists(s.sock)
        st, _, body = get(s.sock, "/debug/pprof/goroutine?debug=1")
        assert st == 200 and b"wait_for_job" in body
        os.kill(cpid, 9)


def test_explicit_socket_path_in_a_child_gets_the_pid_appended(d):
    with service(3, spec=d + "/svc.sock") as s:
        assert s.sock == d + "/svc.sock"
        cpid, csock = fork_child(s)
        assert csock == "%s/svc.sock.%d" % (d, cpid)
        assert get(csock, "/metrics")[0] == 200
        os.kill(cpid, 9)


def test_descriptors_are_close_on_exec(d):
    with service(2, spec=d + "/") as s:
        fds = os.listdir("/proc/%d/fd" % s.pid)
        socks = []
        for fd in fds:
            try:
                link = os.readlink("/proc/%d/fd/%s" % (s.pid, fd))
            except OSError:
                continue
            if link.startswith(("socket:", "pipe:")):
                flags = open("/proc/%d/fdinfo/%s" % (s.pid, fd)).read()
                fl = int(flags.split("flags:")[1].split()[0], 8)
                socks.append((fd, link, fl & 0o2000000))
        agent = [x for x in socks if int(x[0]) > 2]
        assert agent, socks
        assert all(x[2] for x in agent), agent


def test_processes_without_coroutines_ignore_the_environment(tmp_path):
    """CORODBG_AGENT and LD_PRELOAD reach every process of a service (a
    shell, `timeout` in front of it): only the one with a coroutine table
    serves; the others neither listen nor print anything."""
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    env = dict(os.environ, CORODBG_AGENT="1", XDG_RUNTIME_DIR=str(run),
               LD_PRELOAD=str(need(AGENT_SO)))
    r = subprocess.run(["sh", "-c", "echo hi"], capture_output=True,
                       text=True, env=env, timeout=30)
    assert r.returncode == 0 and r.stdout == "hi\n" and r.stderr == ""
    assert not (run / "corodbg").exists() or not os.listdir(run / "corodbg")


def test_stop_removes_the_socket_and_start_again_works(d):
    with service(3, spec=d + "/") as s:
        assert get(s.sock, "/metrics")[0] == 200
        s.send("stop")
        assert s.readline() == "stopped -"
        assert not os.path.exists(s.sock)
        s.send("stop")                      # stopping twice is harmless
        assert s.readline() == "stopped -"
        s.send("start %s/again.sock" % d)
        assert s.readline() == "started %s/again.sock" % d
        assert get(d + "/again.sock", "/metrics")[0] == 200
        s.send("start %s/" % d)             # already running: refused
        assert s.readline() == ("agent: the agent is already running on "
                                "%s/again.sock" % d)
        assert s.proc.poll() is None


def test_symbolize_0_leaves_names_to_corosym(d):
    with service(3, spec=d + "/,symbolize=0") as s:
        text = get(s.sock, "/debug/pprof/goroutine?debug=1")[2].decode()
        assert "wait_for_job" not in text, text
        assert re.search(r"#\t0x[0-9a-f]+\t\S*agent_target\+0x[0-9a-f]+$",
                         text, re.M), text
