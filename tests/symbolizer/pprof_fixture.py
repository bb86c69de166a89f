"""Fixture binaries and raw profiles for the corosym pprof tests.

Builds, once per session, a PIE program and a shared object with inlined
functions (gcc -O2 -g), their stripped copies and a .build-id debug tree,
and writes raw pprof profiles whose mappings carry the build-ids and the
process addresses those binaries would have when loaded.  Expected symbols
come from llvm-symbolizer-19 on the unstripped binaries.
"""
import os
import pathlib
import struct
import shutil
import subprocess

import pprof_wire

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"

PROG_C = r"""
#include <stdio.h>
#include <stdlib.h>

int lib_entry(int);

static inline __attribute__((always_inline)) int leaf_mix(int a, int b)
{
    return (a * 31 + b) ^ ((a * 31 + b) >> 3);   /* MARK:leaf_mix */
}

static inline __attribute__((always_inline)) int middle_step(int x)
{
    int t = leaf_mix(x, 7);         /* MARK:middle_call */
    return t + (x & 5);
}

__attribute__((noinline)) int hot_loop(int n)
{
    int s = 0;
    for (int i = 0; i < n; i++)
        s += middle_step(i);        /* MARK:hot_call */
    return s;
}

__attribute__((noinline)) int cold_path(int n)
{
    return n > 100 ? hot_loop(n / 2) : lib_entry(n);   /* MARK:cold_call */
}

int main(int argc, char **argv)
{
    (void)argv;
    int v = hot_loop(argc * 1000) + cold_path(argc);   /* MARK:main_call */
    printf("%d\n", v);
    return 0;
}
"""

LIB_C = r"""
static inline __attribute__((always_inline)) int lib_square(int x)
{
    return x * x + 1;               /* MARK:lib_square */
}

__attribute__((noinline)) int lib_inner(int x)
{
    int s = 0;
    for (int i = 0; i < x; i++)
        s += lib_square(i);         /* MARK:lib_inner_call */
    return s;
}

int lib_entry(int x)
{
    return lib_inner(x + 3) * 2;    /* MARK:lib_entry_call */
}
"""

PROG_BASE = 0x555555554000
LIB_BASE = 0x7ffff7fb0000


def mark_line(src, name):
    for i, line in enumerate(src.splitlines(), 1):
        if "MARK:%s " % name in line or line.rstrip().endswith(
                "MARK:%s */" % name):
            return i
    raise KeyError(name)


def build_id(path):
    """Hex GNU build-id of the ELF file at PATH (parsed from its notes)."""
    data = pathlib.Path(path).read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    for i in range(shnum):
        off = shoff + i * shentsize
        sh_type, = struct.unpack_from("<I", data, off + 4)
        if sh_type != 7:          # SHT_NOTE
            continue
        so, ss = struct.unpack_from("<QQ", data, off + 0x18)
        pos = so
        while pos + 12 <= so + ss:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            name_off = pos + 12
            desc_off = name_off + ((namesz + 3) & ~3)
            if ntype == 3 and data[name_off:name_off + 3] == b"GNU":
                return data[desc_off:desc_off + descsz].hex()
            pos = desc_off + ((descsz + 3) & ~3)
    raise ValueError("no build-id in %s" % path)


def exec_segment(path):
    """(p_offset, p_vaddr, p_memsz) of the first executable PT_LOAD."""
    data = pathlib.Path(path).read_bytes()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        off = phoff + i * phentsize
        p_type, p_flags = struct.unpack_from("<II", data, off)
        p_offset, p_vaddr, _, _, p_memsz = struct.unpack_from(
            "<QQQQQ", data, off + 8)
        if p_type == 1 and p_flags & 1:
            return p_offset, p_vaddr, p_memsz
    raise ValueError("no executable segment in %s" % path)


def symbols(path):
    """{name: (address, size)} of the defined functions in PATH (nm)."""
    out = subprocess.run(["nm", "-S", "--defined-only", str(path)],
                         check=True, capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tT":
            syms[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
    return syms


def llvm_frames(binary, addrs):
    """llvm-symbolizer-19's inline chains: [[(func, file, line, col)]]."""
    inp = "".join("0x%x\n" % a for a in addrs)
    out = subprocess.run(
        ["llvm-symbolizer-19", "--inlines", "--obj=%s" % binary],
        input=inp, check=True, capture_output=True, text=True).stdout
    result, cur, lines = [], [], out.split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "":
            if cur:
                result.append(cur)
                cur = []
            i += 1
            continue
        func, loc = lines[i], lines[i + 1]
        file_, line, col = loc.rsplit(":", 2)
        cur.append((func, file_, int(line), int(col)))
        i += 2
    if cur:
        result.append(cur)
    assert len(result) == len(addrs), (len(result), len(addrs))
    return result


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True,
                          capture_output=True, text=True, **kw)


class Fixture:
    """Everything built in DIR; see the module docstring."""

    def __init__(self, d):
        d = pathlib.Path(d)
        self.dir = d
        (d / "prog.c").write_text(PROG_C)
        (d / "lib.c").write_text(LIB_C)
        self.lib = d / "libfix.so"
        self.prog = d / "prog"
        run(["gcc", "-O2", "-g", "-gdwarf-5", "-fPIC", "-shared",
             "-Wl,--build-id", "-o", self.lib, d / "lib.c"])
        run(["gcc", "-O2", "-g", "-gdwarf-5", "-fPIE", "-pie",
             "-Wl,--build-id", "-o", self.prog, d / "prog.c",
             "-L%s" % d, "-lfix", "-Wl,-rpath,%s" % d])
        self.debugdir = d / "debug"
        self.stripped = {}
        self.ids = {}
        for b in (self.prog, self.lib):
            bid = build_id(b)
            self.ids[b.name] = bid
            dst = self.debugdir / ".build-id" / bid[:2] / (bid[2:] + ".debug")
            dst.parent.mkdir(parents=True, exist_ok=True)
            run(["objcopy", "--only-keep-debug", b, dst])
            s = d / "stripped" / b.name
            s.parent.mkdir(exist_ok=True)
            run(["strip", "--strip-all", "-o", s, b])
            self.stripped[b.name] = s
        self.prog_syms = symbols(self.prog)
        self.lib_syms = symbols(self.lib)

    # -- choosing addresses --

    def inline_addr(self, binary, func, depth):
        """First address in FUNC whose llvm inline chain has DEPTH frames."""
        syms = symbols(binary)
        start, size = syms[func]
        addrs = list(range(start, start + size))
        for a, fr in zip(addrs, llvm_frames(binary, addrs)):
            if len(fr) == depth:
                return a
        raise LookupError("no %d-deep address in %s" % (depth, func))

    def addresses(self):
        """Module-relative addresses used by the profiles, by role."""
        a = {}
        a["hot_leaf"] = self.inline_addr(self.prog, "hot_loop", 3)
        a["cold"] = self.prog_syms["cold_path"][0] + 4
        a["main"] = self.prog_syms["main"][0] + 8
        a["lib_leaf"] = self.inline_addr(self.lib, "lib_inner", 2)
        a["lib_entry"] = self.lib_syms["lib_entry"][0] + 4
        return a

    def process_addr(self, binary, vaddr):
        off, seg_vaddr, _ = exec_segment(binary)
        base = PROG_BASE if binary == self.prog else LIB_BASE
        # PIE and DSOs are linked at 0: process address = base + vaddr
        return base + vaddr, base + seg_vaddr, off

    def raw_profile(self, path, prog_file=None, lib_file=None,
                    prog_bid=None, lib_bid=None, compress=True,
                    extra_mapping=True):
        """Write a raw CPU profile; returns (builder, {role: location id})."""
        a = self.addresses()
        b = pprof_wire.Builder([("samples", "count"),
                                ("cpu", "nanoseconds")])
        b.period_type = ("cpu", "nanoseconds")
        b.period = 10000000
        maps = {}
        for binary, fname, bid in (
                (self.prog, prog_file, prog_bid),
                (self.lib, lib_file, lib_bid)):
            off, seg_vaddr, memsz = exec_segment(binary)
            base = PROG_BASE if binary == self.prog else LIB_BASE
            start = base + seg_vaddr
            maps[binary.name] = b.mapping(
                start, start + memsz, off,
                str(fname if fname is not None else
                    "/opt/prod/bin/" + binary.name),
                self.ids[binary.name] if bid is None else bid)
        if extra_mapping:
            # a mapping nothing can be found for
            maps["vdso"] = b.mapping(0x7ffff7fc1000, 0x7ffff7fc3000, 0,
                                     "[vdso]")
        locs = {}

        def loc(role, binary, vaddr):
            base = PROG_BASE if binary == self.prog else LIB_BASE
            locs[role] = b.location(maps[binary.name], base + vaddr)

        loc("hot_leaf", self.prog, a["hot_leaf"])
        loc("cold", self.prog, a["cold"])
        loc("main", self.prog, a["main"])
        loc("lib_leaf", self.lib, a["lib_leaf"])
        loc("lib_entry", self.lib, a["lib_entry"])
        if extra_mapping:
            locs["vdso"] = b.location(maps["vdso"], 0x7ffff7fc1a30)
        b.sample([locs["hot_leaf"], locs["main"]], [5, 50000000])
        b.sample([locs["hot_leaf"], locs["main"]], [2, 20000000])
        b.sample([locs["lib_leaf"], locs["lib_entry"], locs["cold"],
                  locs["main"]], [3, 30000000])
        if extra_mapping:
            b.sample([locs["vdso"], locs["main"]], [1, 10000000])
        b.write(path, compress=compress)
        return b, locs, a


def corosym_pprof():
    """The command that runs `corosym pprof`."""
    cli = BUILD / "symbolizer" / "corosym"
    assert cli.exists(), "%s not built: run make testbin" % cli
    return [str(cli), "pprof"]


def symbolize_elsewhere(raw, dev, exe, exe_unstripped):
    """The user's story's second half: move the capture RAW (from the
    stripped EXE) to "another machine" DEV that holds only the separate
    debug file under DEV/debug/.build-id; check nothing of EXE was named
    before and that its build-id was kept; `corosym pprof` there with that
    directory alone.  Returns the symbolized profile (pprof_wire)."""
    moved = os.path.join(dev, os.path.basename(raw))
    shutil.move(raw, moved)
    unsym = pprof_wire.read(moved)
    exe_map = [m for m in unsym.mappings.values() if m["filename"] == exe][0]
    assert exe_map["build_id"] == build_id(exe_unstripped)
    assert not any(loc["lines"] for loc in unsym.locations.values()
                   if loc["mapping_id"] == exe_map["id"])
    out = os.path.join(dev, "symbolized.pb.gz")
    r = subprocess.run(corosym_pprof() + [
        moved, "-o", out, "--debug-dir", os.path.join(dev, "debug"),
        "--no-default-debug-dir", "--no-debuginfod", "--no-cache"],
        capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return pprof_wire.read(out), out


def go_env(tmp):
    """Environment for `go tool pprof`: private caches, no network."""
    env = dict(os.environ)
    for k in ("GOCACHE", "GOPATH", "GOMODCACHE", "HOME"):
        p = pathlib.Path(tmp) / k.lower()
        p.mkdir(parents=True, exist_ok=True)
        env[k] = str(p)
    env["GOFLAGS"] = "-mod=mod"
    env["GOPROXY"] = "off"
    env["GOTOOLCHAIN"] = "local"
    env["PPROF_TMPDIR"] = str(tmp)
    env.pop("PPROF_TOOLS", None)
    env.pop("PPROF_BINARY_PATH", None)
    return env
