"""The .debug_gdb_scripts record (runtime-hooks/src/gdb_autoload.c) sources
only trusted files (issue 14 item 3): $CORODBG_GDB, or a gdb/corodbg-gdb.py
above the program (or under the install prefix) whose every directory is
owned by the user or root and writable by neither group nor others."""
import os
import shutil
import subprocess

import pytest

from gdbdriver import BUILD, GDB, LOADER, binary, run_gdb

SCRIPT = "import gdb\ngdb.write('PLANTED %s\\n')\n"


def _tree(top, name):
    """TOP/bin/prog (the fixture) and TOP/gdb/corodbg-gdb.py, 0755."""
    if top.exists():
        shutil.rmtree(top)
    (top / "bin").mkdir(parents=True)
    (top / "gdb").mkdir()
    shutil.copy(binary(), top / "bin" / "prog")
    script = top / "gdb" / "corodbg-gdb.py"
    script.write_text(SCRIPT % name)
    for d in (top, top / "bin", top / "gdb"):
        os.chmod(d, 0o755)
    os.chmod(script, 0o644)
    return top / "bin" / "prog"


def _gdb(prog, env=None):
    return run_gdb(["echo done\\n"], source=False, target=[str(prog)],
                   env=env)


@pytest.fixture
def tree():
    top = BUILD / "autoload-test"
    yield top
    if top.exists():
        shutil.rmtree(top)


def test_trusted_tree_is_loaded(tree):
    out = _gdb(_tree(tree, "tree"))
    assert "PLANTED tree" in out and "not loading" not in out, out


@pytest.mark.parametrize("mode", [0o775, 0o757])
def test_tree_writable_by_others_is_refused(tree, mode):
    prog = _tree(tree, "writable")
    os.chmod(tree, mode)
    out = _gdb(prog)
    assert "PLANTED" not in out, out
    assert ("corodbg: not loading %s/gdb/corodbg-gdb.py: %s is writable by "
            "group or others (set CORODBG_GDB to load a file you trust)"
            % (tree, tree)) in out, out


@pytest.mark.skipif(os.getuid() != 0, reason="needs a root-owned tree")
def test_sticky_root_directory_above_gdb_is_trusted(tree):
    # Like /tmp: in a root-owned sticky directory nobody can rename or
    # replace an entry another user owns, so a tree built there works;
    # the gdb/ directory itself must still be writable by no one else.
    prog = _tree(tree, "sticky")
    os.chmod(tree, 0o1777)
    out = _gdb(prog)
    assert "PLANTED sticky" in out and "not loading" not in out, out
    os.chmod(tree, 0o755)
    os.chmod(tree / "gdb", 0o1777)
    out = _gdb(prog)
    assert "PLANTED" not in out, out
    assert "%s/gdb is writable by group or others" % tree in out, out


def test_file_writable_by_others_is_refused(tree):
    prog = _tree(tree, "file")
    os.chmod(tree / "gdb" / "corodbg-gdb.py", 0o666)
    out = _gdb(prog)
    assert "PLANTED" not in out and "is writable by group" in out, out


@pytest.mark.skipif(os.getuid() != 0, reason="needs chown")
def test_tree_owned_by_another_user_is_refused(tree):
    prog = _tree(tree, "owned")
    os.chown(tree / "gdb", 65534, -1)
    out = _gdb(prog)
    assert "PLANTED" not in out, out
    assert "%s/gdb is owned by uid 65534" % tree in out, out


@pytest.mark.skipif(os.getuid() != 0, reason="needs chown")
def test_planted_in_tmp_is_refused_env_is_trusted(tmp_path):
    """The issue's case: /tmp/build/x/prog must not source a
    gdb/corodbg-gdb.py that another user planted above it unless the user
    names it in $CORODBG_GDB."""
    prog = _tree(tmp_path / "build", "tmp")
    (tmp_path / "build" / "gdb").rename(tmp_path / "gdb")
    for p in (tmp_path / "gdb", tmp_path / "gdb" / "corodbg-gdb.py"):
        os.chown(p, 65534, 65534)    # the planter: nobody
    out = _gdb(prog)
    assert "PLANTED" not in out, out
    assert ("not loading %s/gdb/corodbg-gdb.py: %s/gdb/corodbg-gdb.py is "
            "owned by uid 65534" % (tmp_path, tmp_path)) in out, out
    out = _gdb(prog, env={"CORODBG_GDB": str(tmp_path / "gdb" /
                                             "corodbg-gdb.py")})
    assert "PLANTED tmp" in out and "not loading" not in out, out


def test_source_from_a_gdb_x_python_script(tmp_path):
    """Issue 14 item 17: inside `gdb -x script.py`, __file__ is the outer
    script's; the loader still finds its own directory."""
    outer = tmp_path / "outer.py"
    outer.write_text("import gdb\ngdb.execute('source %s')\n"
                     "gdb.execute('help info coroutines')\n" % LOADER)
    res = subprocess.run([GDB, "-nx", "-q", "-batch", "-x", str(outer)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=60, cwd=str(tmp_path),
                         stdin=subprocess.DEVNULL)
    assert "Traceback" not in res.stdout and "Error" not in res.stdout, \
        res.stdout
    assert "Usage: info coroutines" in res.stdout, res.stdout
