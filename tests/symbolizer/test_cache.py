"""The persistent per-build-id index: warm runs answer like cold ones,
corrupt / truncated / stale index files are detected and rebuilt, and
concurrent runs are safe."""
import os
import subprocess

import pytest

from symutil import compile_c, run, sample_addresses, HERE

SRC = HERE / "src"


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    d = tmp_path_factory.mktemp("cache")
    p = compile_c(d / "prog", ["prog.c", "lib.c"],
                  flags=["-O2", "-g", "-I", str(SRC)])
    return p


def bid(path):
    for line in run(["readelf", "-n", path]).stdout.splitlines():
        if "Build ID:" in line:
            return line.split()[-1]


def sym(corosym, args, inp, env=None):
    return run([corosym, "--stats", "--no-default-debug-dir"] + args,
               input=inp, env=env)


def inp_for(prog):
    addrs = sample_addresses(prog, limit=800)
    return "".join("%s 0x%x\n" % (prog, a) for a in addrs)


def test_warm_equals_cold(prog, corosym, tmp_path):
    inp = inp_for(prog)
    cold = sym(corosym, ["--no-cache"], inp)
    first = sym(corosym, ["--cache-dir", tmp_path / "c"], inp)
    warm = sym(corosym, ["--cache-dir", tmp_path / "c"], inp)
    assert "index built" in first.stderr
    assert "index from cache" in warm.stderr
    assert cold.stdout == first.stdout == warm.stdout
    assert (tmp_path / "c" / (bid(prog) + ".idx")).is_file()
    assert "compute\n" in warm.stdout


def test_default_cache_dir_is_xdg(prog, corosym, tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    sym(corosym, [], inp_for(prog), env=env)
    assert (tmp_path / "xdg" / "corosym" / (bid(prog) + ".idx")).is_file()


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "garbage",
                                    "header"])
def test_corrupt_index_is_rebuilt(prog, corosym, tmp_path, damage):
    inp = inp_for(prog)
    c = tmp_path / "c"
    good = sym(corosym, ["--cache-dir", c], inp).stdout
    f = c / (bid(prog) + ".idx")
    data = bytearray(f.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x40
    elif damage == "truncate":
        data = data[: len(data) - 100]
    elif damage == "empty":
        data = b""
    elif damage == "garbage":
        data = os.urandom(4096)
    else:
        data[24:32] = b"\xff" * 8      # a header field (file_size)
    f.write_bytes(bytes(data))
    r = sym(corosym, ["--cache-dir", c], inp)
    assert "index built" in r.stderr
    assert r.stdout == good
    r = sym(corosym, ["--cache-dir", c], inp)     # replaced atomically
    assert "index from cache" in r.stderr
    assert r.stdout == good


def test_stale_index_rebuilt_when_binary_changes(corosym, tmp_path):
    p = compile_c(tmp_path / "p", ["prog.c", "lib.c"],
                  flags=["-O0", "-g", "-I", str(SRC), "-Wl,--build-id=0x1234abcd"])
    inp = inp_for(p)
    c = tmp_path / "c"
    a = sym(corosym, ["--cache-dir", c], inp)
    # same build-id, other contents (a forced id, as some builds do)
    compile_c(p, ["prog.c", "lib.c"],
              flags=["-O2", "-g", "-I", str(SRC), "-Wl,--build-id=0x1234abcd"])
    inp2 = inp_for(p)
    b = sym(corosym, ["--cache-dir", c], inp2)
    assert "index built" in b.stderr
    assert b.stdout == sym(corosym, ["--no-cache"], inp2).stdout
    assert a.stdout != b.stdout


def test_concurrent_runs(prog, corosym, tmp_path):
    inp = inp_for(prog)
    c = tmp_path / "c"
    want = sym(corosym, ["--no-cache"], inp).stdout
    procs = [subprocess.Popen([str(corosym), "--cache-dir", str(c)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    outs = [p.communicate(inp) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(o == want for o, _ in outs)
    assert not [x for x in c.iterdir() if ".tmp." in x.name]
    r = sym(corosym, ["--cache-dir", c], inp)
    assert "index from cache" in r.stderr and r.stdout == want


def test_unwritable_cache_dir(prog, corosym, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    inp = inp_for(prog)
    r = sym(corosym, ["--cache-dir", blocker / "sub"], inp)
    assert r.returncode == 0
    assert r.stdout == sym(corosym, ["--no-cache"], inp).stdout


def test_same_build_id_by_path_and_by_id(prog, corosym, tmp_path):
    """A stripped binary (symbols) + its debug file (DWARF) and the debug
    file alone have the same build-id but different indexes: both stay
    cached, neither evicts the other."""
    b = bid(prog)
    tree = tmp_path / "tree" / ".build-id" / b[:2]
    tree.mkdir(parents=True)
    run(["objcopy", "--only-keep-debug", prog, tree / (b[2:] + ".debug")])
    stripped = tmp_path / "stripped"
    run(["strip", prog, "-o", stripped])
    c = tmp_path / "c"
    args = ["--cache-dir", c, "--debug-dir", tmp_path / "tree"]
    by_id = "BUILDID:%s 0x1\n" % b
    by_path = "%s 0x1\n" % stripped
    for rnd in ("index built", "index from cache"):
        assert rnd in sym(corosym, args, by_id).stderr
        assert rnd in sym(corosym, args, by_path).stderr
    names = sorted(p.name for p in c.iterdir())
    assert len(names) == 2 and names[0].startswith(b), names


# ---- a shared or hostile cache directory (issue 14 item 8) ----

def test_modes_are_private(prog, corosym, tmp_path):
    c = tmp_path / "a" / "c"
    sym(corosym, ["--cache-dir", c], inp_for(prog))
    assert (c.stat().st_mode & 0o777) == 0o700
    assert (c.parent.stat().st_mode & 0o777) == 0o700
    assert ((c / (bid(prog) + ".idx")).stat().st_mode & 0o777) == 0o600


def test_planted_symlink_at_a_temp_name_is_not_followed(prog, corosym,
                                                        tmp_path):
    """The old NAME.tmp.PID was predictable: a symlink planted there got
    the victim's file truncated and overwritten."""
    c = tmp_path / "c"
    c.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    p = subprocess.Popen([str(corosym), "--stats", "--no-default-debug-dir",
                          "--cache-dir", str(c)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    idx = c / (bid(prog) + ".idx")
    os.symlink(victim, "%s.tmp.%d" % (idx, p.pid))
    out, err = p.communicate(inp_for(prog))
    assert p.returncode == 0 and "index built" in err, err
    assert victim.read_text() == "precious\n"
    assert idx.is_file() and not idx.is_symlink()


@pytest.mark.parametrize("plant", ["symlink", "group-writable", "fifo",
                                   "other-owner"])
def test_untrusted_index_file_is_refused(prog, corosym, tmp_path, plant):
    inp = inp_for(prog)
    c = tmp_path / "c"
    good = sym(corosym, ["--cache-dir", c], inp).stdout
    idx = c / (bid(prog) + ".idx")
    if plant == "symlink":
        real = tmp_path / "elsewhere.idx"
        idx.rename(real)
        idx.symlink_to(real)
    elif plant == "group-writable":
        idx.chmod(0o664)
    elif plant == "fifo":
        idx.unlink()
        os.mkfifo(idx, 0o600)
    else:
        if os.getuid() != 0:
            pytest.skip("needs chown")
        os.chown(idx, 65534, 65534)
    r = run([corosym, "--stats", "--no-default-debug-dir", "--cache-dir", c],
            input=inp, timeout=30)
    assert "index built" in r.stderr and r.stdout == good, r.stderr
    assert idx.is_file() and not idx.is_symlink()   # replaced by ours
    st = idx.stat()
    assert st.st_uid == os.getuid() and (st.st_mode & 0o777) == 0o600


@pytest.mark.parametrize("mode", ["group-writable", "other-writable",
                                  "other-owner"])
def test_untrusted_cache_dir_is_not_used(prog, corosym, tmp_path, mode):
    inp = inp_for(prog)
    c = tmp_path / "c"
    c.mkdir()
    if mode == "group-writable":
        c.chmod(0o770)
    elif mode == "other-writable":
        c.chmod(0o1777)
    else:
        if os.getuid() != 0:
            pytest.skip("needs chown")
        c.chmod(0o755)
        os.chown(c, 65534, 65534)
    r = sym(corosym, ["--cache-dir", c], inp)
    why = "owned by another user" if mode == "other-owner" else \
        "writable by group or others"
    assert "corosym: warning: '%s': cache directory %s is %s: not used" % (
        prog, c, why) in r.stderr, r.stderr
    assert "index built" in r.stderr and not list(c.iterdir())
    assert r.stdout == sym(corosym, ["--no-cache"], inp).stdout


def test_key_is_not_size_mtime_and_build_id(corosym, tmp_path):
    """Another file with the same size, mtime and (forced) build-id does
    not get the first file's index."""
    flags = ["-g", "-I", str(SRC), "-Wl,--build-id=0x1234abcd"]
    a = compile_c(tmp_path / "a", ["prog.c", "lib.c"], flags=["-O0"] + flags)
    b = compile_c(tmp_path / "b", ["prog.c", "lib.c"], flags=["-O2"] + flags)
    size = max(a.stat().st_size, b.stat().st_size)
    for f in (a, b):               # same size: pad with zeros at the end
        with open(f, "ab") as fh:
            fh.write(b"\0" * (size - f.stat().st_size))
    p = tmp_path / "p"
    c = tmp_path / "c"
    p.write_bytes(a.read_bytes())
    os.utime(p, (1700000000, 1700000000))
    sym(corosym, ["--cache-dir", c], inp_for(p))
    p.write_bytes(b.read_bytes())
    os.utime(p, (1700000000, 1700000000))
    inp = inp_for(p)
    r = sym(corosym, ["--cache-dir", c], inp)
    assert "index built" in r.stderr, r.stderr
    assert r.stdout == sym(corosym, ["--no-cache"], inp).stdout
