"""Rules that keep the shared test tree collectable as one pytest run."""
import collections
import re


def test_test_module_basenames_are_unique(root):
    # pytest's default import mode keys test modules by basename.
    seen = collections.defaultdict(list)
    for p in (root / "tests").rglob("test_*.py"):
        seen[p.name].append(str(p.relative_to(root)))
    dupes = {k: v for k, v in seen.items() if len(v) > 1}
    assert not dupes, dupes


def test_no_test_imports_conftest_by_name(root):
    # Every folder has a conftest.py; `from conftest import` is ambiguous.
    bad = [str(p.relative_to(root)) for p in (root / "tests").rglob("*.py")
           if re.search(r"^\s*(from|import) conftest\b", p.read_text(),
                        re.M)]
    assert not bad, bad
