#!/usr/bin/python3
"""Print N addresses (hex, one per line) sampled uniformly inside the sized
FUNC symbols of an ELF file, with a fixed seed so runs are comparable.

Usage: sample_addrs.py ELF N [SEED] [--prefix STR]
"""
import random
import subprocess
import sys


def functions(path):
    out = subprocess.run(["readelf", "-sW", path], check=True,
                         capture_output=True, text=True).stdout
    funcs = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 8 and f[3] == "FUNC" and f[6] != "UND":
            try:
                addr, size = int(f[1], 16), int(f[2], 0)
            except ValueError:
                continue
            if size > 0 and addr > 0:
                funcs.add((addr, size))
    return sorted(funcs)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    prefix = ""
    if "--prefix" in sys.argv:
        prefix = sys.argv[sys.argv.index("--prefix") + 1]
        args.remove(prefix)
    if len(args) < 2:
        sys.exit("usage: sample_addrs.py ELF N [SEED] [--prefix STR]")
    path, n = args[0], int(args[1])
    rng = random.Random(int(args[2]) if len(args) > 2 else 1)
    funcs = functions(path)
    if not funcs:
        sys.exit("sample_addrs.py: %s has no sized FUNC symbols" % path)
    # weight by size: uniform over the bytes of all functions
    total = sum(s for _, s in funcs)
    cum, acc = [], 0
    for _, s in funcs:
        acc += s
        cum.append(acc)
    import bisect
    w = sys.stdout.write
    for _ in range(n):
        x = rng.randrange(total)
        i = bisect.bisect_right(cum, x)
        a, s = funcs[i]
        off = x - (cum[i] - s)
        w("%s0x%x\n" % (prefix, a + off))


if __name__ == "__main__":
    main()
