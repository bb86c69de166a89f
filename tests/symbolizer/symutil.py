"""Plain helpers of the corosym tests: building test programs, sampling
addresses, comparing outputs.  They live here, not in conftest.py, so test
modules import them by a unique name (`from conftest import` picks
whichever test folder's conftest was loaded first)."""
import os
import pathlib
import random
import subprocess

HERE = pathlib.Path(__file__).resolve().parent
SRC = HERE / "src"
LLVM_SYMBOLIZER = "llvm-symbolizer-19"


def run(cmd, **kw):
    kw.setdefault("check", True)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run([str(c) for c in cmd], **kw)


def compile_c(out, sources, cc="gcc", flags=(), shared=False, libs=()):
    cmd = [cc, "-o", str(out)] + list(flags)
    if shared:
        cmd += ["-shared", "-fPIC"]
    cmd += [str(SRC / s) if not os.path.isabs(str(s)) else str(s)
            for s in sources]
    cmd += list(libs)
    run(cmd)
    return out


def functions(elf):
    """Sized FUNC symbols (addr, size, name) of ELF, from readelf."""
    out = run(["readelf", "-sW", elf]).stdout
    res = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 8 and f[3] == "FUNC" and f[6] != "UND":
            size = int(f[2], 0)
            addr = int(f[1], 16)
            if size > 0 and addr > 0:
                res.add((addr, size, f[7]))
    return sorted(res)


def sample_addresses(elf, limit=6000, seed=7):
    """Every byte of every sized function, or a fixed-seed sample of
    LIMIT of them when there are more."""
    addrs = []
    for a, s, _ in functions(elf):
        addrs.extend(range(a, a + s))
    if len(addrs) > limit:
        addrs = sorted(random.Random(seed).sample(addrs, limit))
    return addrs


def records(text):
    """Splits llvm-style output into one record per address."""
    text = text.rstrip("\n")
    return text.split("\n\n") if text else []


def symbolize(tool, module, addrs, extra=(), env=None):
    inp = "".join("%s 0x%x\n" % (module, a) for a in addrs)
    r = run([tool] + list(extra), input=inp, env=env)
    return r.stdout


def compare(ours, theirs):
    a, b = records(ours), records(theirs)
    assert len(a) == len(b), (len(a), len(b))
    diffs = [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y]
    return len(a), diffs
