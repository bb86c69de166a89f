"""The build's header dependencies (gcc -MMD -MP, Makefile DEPFLAGS).

scripts/dep-files.sh picks the .d files the Makefile includes: one whose
source was moved or deleted would stop every later build with "No rule to
make target", so it is left out.  And the build writes its .d files under
build/ only, next to each output, never into the source tree."""
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "dep-files.sh"


def dep_files(build):
    p = subprocess.run([str(SCRIPT), str(build)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    return sorted(pathlib.Path(line).name for line in p.stdout.split())


def test_a_stale_dependency_file_is_left_out(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.c").write_text("")
    (src / "h.h").write_text("")
    build = tmp_path / "build" / "obj"
    build.mkdir(parents=True)
    # gcc's two shapes: the source on the target's line, or, after a long
    # target name, on the next one.
    (build / "a.d").write_text("%s/a.o: %s/a.c %s/h.h\n%s/h.h:\n"
                               % (build, src, src, src))
    (build / "long.d").write_text("%s/a-very-long-program-name: \\\n %s/a.c "
                                  "\\\n %s/h.h\n" % (build, src, src))
    (build / "moved.d").write_text("%s/m.o: %s/moved.c %s/h.h\n"
                                   % (build, src, src))
    (build / "empty.d").write_text("")
    assert dep_files(tmp_path / "build") == ["a.d", "long.d"]


def test_no_build_directory_is_no_output(tmp_path):
    assert dep_files(tmp_path / "none") == []


def test_dependency_files_stay_under_build():
    """After a build (make testbin), no .d file is outside build/: each
    lands next to its output there, none in the source tree."""
    stray = []
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs
                   if d not in ("build", ".git", "node_modules")]
        stray += [os.path.join(top, f) for f in files if f.endswith(".d")]
    assert stray == []
    assert (ROOT / "build" / "runtime-hooks" / "obj" / "table.d").exists()
