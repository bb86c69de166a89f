"""`corodbg watch`: counts by state and by site, with growth; the group
that only grows is flagged, the steady ones are not."""
import re
import subprocess

from capture_util import BUILD, corodbg

GROWER = BUILD / "capture" / "tests" / "grower"


def test_growing_group_is_flagged():
    assert GROWER.exists(), "make testbin builds it"
    p = subprocess.Popen([str(GROWER)], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(p.stdout.readline().split()[1])
        out = corodbg("watch", pid, "--interval", "0.4", "--count", "4",
                      timeout=60).stdout
    finally:
        p.kill()
        p.wait()
    steps = re.split(r"^(?=\d\d:\d\d:\d\d  )", out, flags=re.M)[1:]
    assert len(steps) == 4, out
    totals = [int(re.match(r"\S+  (\d+) coroutines", s).group(1))
              for s in steps]
    assert totals == sorted(totals) and totals[-1] > totals[0], out
    last = steps[-1]
    leak = [l for l in last.splitlines() if "wait_forever at grower.c" in l]
    naps = [l for l in last.splitlines() if "nap at grower.c" in l]
    assert len(leak) == 1 and leak[0].endswith("<- grows at every step"), out
    assert "blocked chan receive" in leak[0]
    assert "created at spawner at grower.c" in leak[0]
    assert len(naps) == 1 and re.match(r"\s+10 \(\+0\)", naps[0]), out
    assert "grows" not in naps[0]
    # not flagged before it has grown twice
    assert "grows at every step" not in steps[0] + steps[1]


def test_watch_errors(tmp_path):
    r = corodbg("watch", "1", "--interval", "0", check=False)
    assert r.returncode == 2 and r.stderr.startswith(
        "corodbg: --interval must be from 0.1 to 86400 seconds")
    f = tmp_path / "x"
    f.write_text("x")
    r = corodbg("watch", f, check=False)
    assert r.returncode == 1
