"""scripts/install-deps.sh probes what the build and tests rely on.

A package list cannot see a package that installs but does not do its job
(gcc-aarch64-linux-gnu without libc6-dev-arm64-cross compiled nothing on a
fresh machine).  These run the script with one tool broken on purpose and
check that it fails naming the capability and its package.
"""
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "install-deps.sh"


def run(args, tmp_path, broken=()):
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    for tool in broken:
        p = fake / tool
        p.write_text("#!/bin/sh\necho '%s: broken on purpose' >&2\nexit 1\n"
                     % tool)
        p.chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (fake, os.environ["PATH"]))
    return subprocess.run([str(SCRIPT)] + args, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)


def test_quiet_when_all_is_well(tmp_path):
    r = run([], tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    r = run(["--build"], tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_a_broken_capability_is_named_with_its_package(tmp_path):
    r = run([], tmp_path, broken=["aarch64-linux-gnu-gcc", "protoc-c"])
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[0] == ("corodbg: these capabilities do not work on this "
                        "machine:")
    assert ("  - the aarch64 cross compiler compiles and links a hello world "
            "(Debian: gcc-aarch64-linux-gnu, libc6-dev-arm64-cross): "
            "aarch64-linux-gnu-gcc: broken on purpose") in lines
    assert ("  - protoc-c (Debian: protobuf-c-compiler): protoc-c: broken on "
            "purpose") in lines
    assert len(lines) == 3


def test_bad_usage(tmp_path):
    r = run(["--bogus"], tmp_path)
    assert r.returncode == 2
    assert r.stderr == "usage: scripts/install-deps.sh [--build]\n"
