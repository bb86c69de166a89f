"""Scale and concurrency of corort + libcorodbg: 1M create/exit cycles with
bounded memory, and M:N table consistency seen by a concurrent reader that
decodes the table through its self-description."""
import pytest

CHURN_OK = ["run=0 done={n}", "ids used={n1} (cycles+1: 1)",
            "live=0 table_live=0 nchunks=1", "rss bounded=1"]


def churn_expect(n):
    return [s.format(n=n, n1=n + 1) for s in CHURN_OK]


@pytest.mark.parametrize("workers", [0, 2])
def test_churn_one_million(rt, workers):
    r = rt.run("rt_churn", 1000000, workers, timeout=120)
    assert r.stdout.splitlines() == churn_expect(1000000)


@pytest.mark.parametrize("workers", [0, 2])
def test_churn_sanitized(rt, workers):
    # ASan quarantines freed memory; without it RSS must stay flat too.
    r = rt.run("rt_churn-san", 200000, workers, timeout=120,
               env={"ASAN_OPTIONS": "quarantine_size_mb=0"})
    assert r.stdout.splitlines() == churn_expect(200000)


@pytest.mark.parametrize("name", ["rt_mn", "rt_mn-san"])
def test_mn_snapshots_consistent_or_flagged(rt, name):
    r = rt.run(name, 3, 1500, timeout=120)
    assert r.stdout.splitlines() == [
        "run=0 workers=3",
        "snapshots>=50: 1 consistent>0: 1 flagged+consistent=all: 1",
        "stable entries>0: 1",
        "violations=0",
        "table after: live=0 generation_even=1",
    ], r.stderr
