"""Who may reach the agent, and what at the socket's path refuses the
start: another uid is refused (by the socket's mode, and by SO_PEERCRED
where the mode lets it through), a symlink, a foreign file, somebody
else's socket or a directory others may enter or write makes
corodbg_agent_start fail with one clear line, and the program runs on."""
import os
import pwd
import grp
import shutil
import socket
import stat
import subprocess

import pytest

from agent_util import (CORODBG, TARGET, get, need, private_dir, runner_copy,
                        service)

NOBODY = "nobody"


def as_root():
    if os.geteuid() != 0 or not shutil.which("runuser"):
        pytest.skip("needs root and runuser (to act as another uid)")


def start_fails(spec, env=None):
    """agent_target with AGENT_SPEC=spec: exits 2 printing one line."""
    e = dict(os.environ, AGENT_SPEC=spec)
    e.pop("CORODBG_AGENT", None)
    e.update(env or {})
    r = subprocess.run([str(need(TARGET)), "1"], capture_output=True,
                       text=True, env=e, timeout=30)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("agent: "), r.stdout
    return lines[0]


def test_socket_and_directory_are_owner_only(d, tmp_path):
    with service(2, spec=d + "/") as s:
        st = os.lstat(s.sock)
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700


def test_directory_created_0700(tmp_path):
    top = private_dir(0o755)
    try:
        with service(2, spec=top + "/sub/") as s:
            assert os.path.dirname(s.sock) == top + "/sub"
            assert stat.S_IMODE(os.stat(top + "/sub").st_mode) == 0o700
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_another_uid_is_refused():
    as_root()
    d = private_dir()
    bindir = runner_copy([CORODBG])
    try:
        # a directory nobody can enter: connect() is refused by the kernel
        with service(2, spec=d + "/") as s:
            r = subprocess.run(["runuser", "-u", NOBODY, "--",
                                os.path.join(bindir, "corodbg"), "fetch",
                                s.sock, "metrics"],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 3, r.stderr
            assert "Permission denied" in r.stderr
            assert r.stderr.count("\n") == 1
            assert get(s.sock, "/metrics")[0] == 200      # root may
    finally:
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(bindir, ignore_errors=True)


def test_peer_credentials_checked_with_allowed_gid():
    """gid=G: the directory is 0710 and the socket 0660 with group G, so the
    file modes let any member of G connect; SO_PEERCRED then admits only
    a client whose (primary) gid is G.  A user with G only as a
    supplementary group passes the modes and is refused by the check."""
    as_root()
    nogroup = grp.getgrnam("nogroup").gr_gid
    nobody = pwd.getpwnam(NOBODY)
    assert nobody.pw_gid == nogroup
    top = private_dir(0o755)
    d = top + "/agent"          # the agent makes it, 0710 group G
    bindir = runner_copy([CORODBG])
    try:
        with service(2, spec="%s/,gid=%d" % (d, nogroup)) as s:
            assert stat.S_IMODE(os.stat(d).st_mode) == 0o710
            assert os.stat(d).st_gid == nogroup
            assert stat.S_IMODE(os.lstat(s.sock).st_mode) == 0o660
            fetch = [os.path.join(bindir, "corodbg"), "fetch", s.sock,
                     "metrics"]
            r = subprocess.run(["runuser", "-u", NOBODY, "--"] + fetch,
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            assert "corodbg_coroutines{" in r.stdout
            # daemon with nogroup as a supplementary group only
            r = subprocess.run(["runuser", "-u", "daemon", "-g", "daemon",
                                "-G", "nogroup",
                                "--"] + fetch,
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 1, (r.stdout, r.stderr)
            assert "HTTP 403" in r.stderr and "is not allowed" in r.stderr
    finally:
        shutil.rmtree(top, ignore_errors=True)
        shutil.rmtree(bindir, ignore_errors=True)


def test_symlink_at_socket_path_refused(d, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("precious")
    os.symlink(str(target), d + "/agent.sock")
    line = start_fails(d + "/agent.sock")
    assert "is a symlink; refusing" in line, line
    assert target.read_text() == "precious"
    assert os.path.islink(d + "/agent.sock")


def test_foreign_file_at_socket_path_refused(d):
    with open(d + "/agent.sock", "w") as f:
        f.write("not a socket")
    line = start_fails(d + "/agent.sock")
    assert "exists and is not a socket; refusing" in line, line
    assert open(d + "/agent.sock").read() == "not a socket"


def test_someone_elses_socket_refused(d):
    as_root()
    s = socket.socket(socket.AF_UNIX)
    s.bind(d + "/agent.sock")
    s.close()
    os.chown(d + "/agent.sock", pwd.getpwnam(NOBODY).pw_uid, -1)
    line = start_fails(d + "/agent.sock")
    assert "belongs to uid %d" % pwd.getpwnam(NOBODY).pw_uid in line


def test_stale_socket_of_ours_replaced_live_one_refused(d):
    s = socket.socket(socket.AF_UNIX)
    s.bind(d + "/agent.sock")       # bound, never listening: stale
    s.close()
    with service(2, spec=d + "/agent.sock") as svc:
        assert get(svc.sock, "/metrics")[0] == 200
        line = start_fails(d + "/agent.sock")
        assert "another agent is listening there" in line


@pytest.mark.parametrize("mode", [0o755, 0o770, 0o701])
def test_directory_with_wrong_permissions_refused(mode):
    d = private_dir(mode)
    try:
        line = start_fails(d + "/")
        assert "has mode %04o; it must be 0700" % mode in line, line
        assert not os.listdir(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_symlinked_directory_refused(tmp_path):
    real = private_dir()
    link = str(tmp_path / "link")
    os.symlink(real, link)
    try:
        line = start_fails(link + "/")
        assert "is a symlink; refusing" in line, line
        assert not os.listdir(real)
    finally:
        shutil.rmtree(real, ignore_errors=True)


def test_foreign_directory_refused():
    as_root()
    d = private_dir()
    os.chown(d, pwd.getpwnam(NOBODY).pw_uid, -1)
    try:
        line = start_fails(d + "/")
        assert "is not a directory of uid 0" in line, line
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("spec,why", [
    ("relative/", "expected 1, an absolute DIR/"),
    ("/tmp/x.sock,color=red", "unknown agent option 'color'"),
    ("1,tcp=0.0.0.0:6060,token_file=/nonexistent", "only a loopback"),
    ("1,tcp=127.0.0.1:6060", "tcp= needs token_file="),
    ("1,gid=abc", "gid=abc: expected a number"),
])
def test_bad_spec_is_one_line(spec, why):
    assert why in start_fails(spec)


def test_bad_environment_leaves_the_program_running(d, tmp_path):
    """CORODBG_AGENT with a bad spec: one line on stderr, the program runs."""
    e = {"CORODBG_AGENT": "relative/"}
    with service(2, env=e) as s:
        assert s.sock == "-"
        assert s.proc.poll() is None
    err = s.proc.stderr.read()
    assert err.startswith("corodbg-agent: not started: agent place "
                          "'relative/'"), err


def test_tcp_needs_the_token(d, tmp_path):
    tok = tmp_path / "token"
    tok.write_text("s3cret-token-0123456789\n")
    os.chmod(tok, 0o600)
    port = 20000 + os.getpid() % 20000
    with service(2, spec="%s/,tcp=127.0.0.1:%d,token_file=%s"
                 % (d, port, tok)) as s:
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        c.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
        ans = c.recv(4096)
        c.close()
        assert ans.startswith(b"HTTP/1.1 401 "), ans
        r = subprocess.run([str(CORODBG), "fetch", "--tcp",
                            "127.0.0.1:%d" % port, "--token-file",
                            str(tok), "metrics"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "corodbg_coroutines{" in r.stdout
        assert get(s.sock, "/metrics")[0] == 200
    os.chmod(tok, 0o644)
    assert "must be a regular file of uid" in start_fails(
        "%s/,tcp=127.0.0.1:%d,token_file=%s" % (d, port, tok))
