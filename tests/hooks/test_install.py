"""`make install` lays out a usable SDK: a user program builds against the
installed header and library through pkg-config alone."""
import os
import subprocess

PROGRAM = r'''
#include <corodbg.h>
int main(void) {
    corodbg_co *co = corodbg_create("installed", 0, 0, 0, 0);
    return corodbg_id(co) == 1 && corodbg_exit(co) == CORODBG_OK ? 0 : 1;
}
'''


def install_and_build(root, tmp_path, prefix):
    """`make install` into a staging tree, then build a user program with
    the flags pkg-config gives; returns the staged prefix."""
    dest = tmp_path / ("dest" + prefix.replace("/", "_"))
    subprocess.run(["make", "-s", "--no-print-directory", "install",
                    "DESTDIR=%s" % dest, "PREFIX=%s" % prefix],
                   cwd=root, check=True, capture_output=True)
    inst = dest / prefix.lstrip("/")
    for rel in ("include/corodbg.h", "lib/libcorodbg.a", "lib/libcorodbg.so",
                "lib/libcorodbg.so.1", "lib/pkgconfig/corodbg.pc"):
        assert (inst / rel).exists(), rel
    pc = (inst / "lib/pkgconfig/corodbg.pc").read_text()
    assert "prefix=%s\n" % prefix in pc, pc
    # The GDB auto-load record looks in the install prefix it was built
    # for (and no longer in fixed /usr/local, /usr/share paths).
    for lib in ("lib/libcorodbg.a", "lib/libcorodbg.so.1"):
        data = (inst / lib).read_bytes()
        want = "'%s/share/corodbg/gdb/corodbg-gdb.py'" % prefix
        assert want.encode() in data, lib
        assert b"/usr/share/corodbg" not in data

    # Build against the staged tree: point pkg-config's sysroot at DESTDIR.
    env = dict(os.environ, PKG_CONFIG_PATH=str(inst / "lib/pkgconfig"),
               PKG_CONFIG_SYSROOT_DIR=str(dest))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "--static",
                            "corodbg"], env=env, capture_output=True,
                           text=True, check=True).stdout.split()
    src = tmp_path / "user.c"
    src.write_text(PROGRAM)
    exe = tmp_path / "user"
    subprocess.run(["gcc", "-std=c11", "-Wall", "-Werror", str(src), "-o",
                    str(exe), "-static-libgcc"] + flags +
                   ["-Wl,-rpath,%s" % (inst / "lib")], check=True)
    assert subprocess.run([str(exe)]).returncode == 0
    # The table is exported from the user's executable for debuggers.
    syms = subprocess.run(["nm", "-D", str(exe)], capture_output=True,
                          text=True).stdout
    assert "corodbg_table" in syms or "libcorodbg.so" in subprocess.run(
        ["ldd", str(exe)], capture_output=True, text=True).stdout
    return inst


def test_make_install_and_pkg_config(root, tmp_path):
    install_and_build(root, tmp_path, "/opt/corodbg")


def test_install_twice_with_two_prefixes(root, tmp_path):
    # The same build tree installed for one prefix, then another: files
    # that embed PREFIX (corodbg.pc) must follow it, not stay stale.
    install_and_build(root, tmp_path, "/opt/corodbg-a")
    install_and_build(root, tmp_path, "/usr/local/corodbg-b")
    install_and_build(root, tmp_path, "/opt/corodbg-a")


def test_lldb_install_alone_brings_the_core(root, tmp_path):
    """install-lldb does not lean on install-gdb for the Python core: the
    installed plugin imports in LLDB from that tree alone."""
    dest = tmp_path / "lldb-only"
    subprocess.run(["make", "-s", "--no-print-directory", "install-lldb",
                    "DESTDIR=%s" % dest, "PREFIX=/usr"], cwd=root,
                   check=True, capture_output=True)
    share = dest / "usr/share/corodbg"
    assert (share / "python/corodbg/core/decode.py").exists()
    assert not (share / "gdb").exists()
    out = subprocess.run(["lldb-19", "--no-lldbinit", "-b", "-o",
                          "command script import %s"
                          % (share / "lldb/corodbg_lldb.py"),
                          "-o", "help coroutine"],
                         capture_output=True, text=True, timeout=120).stdout
    assert "error" not in out.lower() and "Traceback" not in out, out
    assert "coroutine" in out.split("help coroutine", 1)[1], out
