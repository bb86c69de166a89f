"""libcorodbg: the C unit tests (plain, ASan/UBSan, shared library), and
discovery of the table in stripped executables and shared libraries."""
import os
import shutil
import struct
import subprocess

import pytest

MAGIC = b"\x7fCORODBG"


def run_unit(path):
    env = dict(os.environ)
    # ASan would take SIGSEGV itself; the crash-handler test chains to the
    # program's own handler and expects the kernel's default action.
    env["ASAN_OPTIONS"] = "handle_segv=0:detect_leaks=1"
    p = subprocess.run([str(path)], capture_output=True, text=True,
                       env=env, timeout=120)
    return p


@pytest.mark.parametrize("variant", ["test_api", "test_api-san",
                                     "test_api-shared"])
def test_unit(build, variant):
    p = run_unit(build / "runtime-hooks" / "tests" / variant)
    summary = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    assert p.returncode == 0, p.stderr[-4000:]
    passed, failed = [int(x.split()[0]) for x in summary.split(", ")]
    assert failed == 0 and passed >= 180, summary


def section(path, name):
    """(sh_addr, bytes) of section NAME, read with the ELF headers only."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    def sh(i):
        return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
    strtab = sh(shstrndx)
    for i in range(shnum):
        s = sh(i)
        start = strtab[4] + s[0]
        nm = data[start:data.index(b"\0", start)].decode()
        if nm == name:
            return s[3], data[s[4]:s[4] + s[5]]
    return None, None


def dynsyms(path):
    out = subprocess.run(["nm", "-D", "--defined-only", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


@pytest.mark.parametrize("prog", ["discover-static", "discover-shared"])
def test_table_survives_strip(build, tmp_path, prog):
    src = build / "runtime-hooks" / "programs" / prog
    stripped = tmp_path / (prog + "-stripped")
    shutil.copy(src, stripped)
    subprocess.run(["strip", "--strip-all", str(stripped)], check=True)
    # The allocated section carries the statically initialised descriptor.
    target = stripped
    if prog == "discover-shared":
        lib = tmp_path / "libcorodbg.so.1"
        shutil.copy(build / "runtime-hooks" / "libcorodbg.so.1", lib)
        subprocess.run(["strip", "--strip-all", str(lib)], check=True)
        target = lib
    addr, data = section(target, ".corodbg")
    assert addr, "no .corodbg section after strip"
    assert data[:8] == MAGIC
    major, minor, desc_size, entry_size = struct.unpack_from("<HHHH", data, 8)
    assert (major, desc_size) == (1, len(data[:desc_size]))
    assert entry_size % 8 == 0 and entry_size >= 200
    # And the dynamic symbol names it, for debuggers that look up symbols.
    assert "corodbg_table" in dynsyms(target)
    assert "corodbg_event_hook" in dynsyms(target)
    # The stripped program still runs and exits cleanly.
    env = dict(os.environ, LD_LIBRARY_PATH=str(tmp_path))
    assert subprocess.run([str(stripped), "x"], env=env).returncode == 0


def test_aarch64_cross_build(build):
    lib = build / "runtime-hooks" / "aarch64" / "libcorodbg.a"
    out = subprocess.run(["aarch64-linux-gnu-objdump", "-f", str(lib)],
                         capture_output=True, text=True, check=True).stdout
    assert "elf64-littleaarch64" in out
    assert "table.o" in out


def test_static_link_keeps_gdb_autoload_record(build):
    """The pkg-config link flags (HOOKS_LDFLAGS here) keep libcorodbg's
    .debug_gdb_scripts record in a static link, so GDB auto-loads corodbg."""
    prog = build / "runtime-hooks" / "programs" / "discover-static"
    _, data = section(prog, ".debug_gdb_scripts")
    assert data is not None, "no .debug_gdb_scripts in a static link"
    assert data[0] == 4  # an inline python script record
    assert b"corodbg-gdb.py" in data
