"""docs/commands.md is generated from the help strings and is current;
every command's help has a Usage line (GDB style)."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent


def test_commands_md_is_current():
    out = subprocess.run([sys.executable, str(ROOT / "gdb" /
                                              "gen_commands_doc.py"), "-"],
                         capture_output=True, text=True, check=True).stdout
    committed = (ROOT / "docs" / "commands.md").read_text()
    assert out == committed, "run gdb/gen_commands_doc.py"
    sections = out.split("\n## ")[1:]
    assert len(sections) == 14
    for sec in sections:
        if "runtime-" in sec or "debug" in sec:
            continue
        assert "Usage: " in sec, sec.splitlines()[0]
