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


def _transcript(doc, first):
    """The (gdb) transcript block of DOC that starts with command FIRST:
    [(command, [output lines])]."""
    text = (ROOT / "docs" / doc).read_text()
    start = text.index("(gdb) %s\n" % first)
    block = text[start:text.index("```", start)]
    steps = []
    for line in block.splitlines():
        if line.startswith("(gdb) "):
            steps.append((line[6:], []))
        else:
            steps[-1][1].append(line)
    return steps


def _norm(text):
    """Addresses and LWPs change with the build and the run."""
    import re
    return re.sub(r"0x[0-9a-f]+", "0xADDR", re.sub(r"LWP \d+", "LWP N",
                                                    text))


def test_gdb_md_catch_state_transcript_is_current():
    # the transcript of `catch coroutine state` replays as written
    from gdbdriver import run_gdb
    steps = _transcript("gdb.md", "break fixture_ready\nBreakpoint 1 at "
                        "0x15bf: file tests/gdb/progs/fixture.c, line 86.\n"
                        "(gdb) run churn 3")
    assert steps[1][0] == "run churn 3"
    cmds = []
    for cmd, _ in steps:
        if cmd.startswith("run "):
            cmds += ["echo (gdb) %s\\n" % cmd, "run"]
        else:
            cmds += ["echo (gdb) %s\\n" % cmd, cmd]
    out = run_gdb(cmds, ["churn", 3])
    got = [l for l in _norm(out).splitlines()
           if not l.startswith(("[Thread debugging", "Using host",
                                "[New Thread", "[Thread "))]
    want = _norm("\n".join("(gdb) %s\n%s" % (c, "\n".join(o))
                           for c, o in steps)).splitlines()
    want = [l for l in want if l]
    got = [l for l in got if l and not l.startswith("(gdb) run")]
    want = [l for l in want if not l.startswith("(gdb) run")]
    assert got[-len(want):] == want
