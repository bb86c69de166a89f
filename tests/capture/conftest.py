"""Paths for the capture tool's tests; the core's table image builder."""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "tests" / "core"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
