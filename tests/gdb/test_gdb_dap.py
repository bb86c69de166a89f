"""IDE debugging over GDB's own DAP server (`gdb -i=dap`, GDB >= 14): run
the node DAP client tests tests/dap/gdbdap.test.js against it with
corodbg loaded, and require every one to pass.

The GDB: the GDB under test (CORODBG_TEST_GDB, else `gdb`) when it has
gdb.dap, else the cached GDB 16 of scripts/build-gdb16.sh when it was
built; skipped with the reason otherwise (Debian 12's GDB 13 has no DAP)."""
import json
import os
import subprocess

import pytest

from gdbdriver import (GDB, LOADER, RUNTIME_GLOBS, ROOT, gdb_version,
                       run_gdb)


def _dap_gdb():
    if gdb_version() >= (14, 0):
        return GDB
    p = subprocess.run([str(ROOT / "scripts" / "build-gdb16.sh"), "--path"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    if p.returncode == 0 and p.stdout.strip():
        return p.stdout.strip()
    pytest.skip("%s is GDB %d.%d, which has no DAP server, and GDB 16 is not "
                "built: run scripts/build-gdb16.sh (or make test-gdb16)"
                % ((GDB,) + gdb_version()))


def test_gdb_dap_client(build, lines, tmp_path, node_dap_tests):
    gdb = _dap_gdb()
    prog = build / "lldb" / "lldbprog"
    assert prog.exists(), "%s not built: run make testbin" % prog
    # The adapter an IDE would be configured with (docs/ide.md).
    wrapper = tmp_path / "gdb-dap.sh"
    wrapper.write_text(
        "#!/bin/sh\n"
        "exec %s -nx -q -i=dap -iex 'set auto-load safe-path /' "
        "-ex 'source %s' -ex 'set corodbg runtime-functions %s' "
        '${CORODBG_DAP_EX:+-ex "$CORODBG_DAP_EX"}\n'
        % (gdb, LOADER, RUNTIME_GLOBS))
    env = dict(os.environ)
    env.update({
        "CORODBG_GDB_DAP": str(wrapper),
        "CORODBG_PROG": str(prog),
        "CORODBG_LINES": json.dumps(lines),
        "LC_ALL": "C",
    })
    env.pop("CORODBG_GDB_MAX_THREADS", None)
    node_dap_tests("gdbdap.test.js", env, 4)


@pytest.mark.parametrize("remove", [None, "frames._get_frame_iterator",
                                    "server._commands", "bt.set_thread"])
def test_hook_needs_gdb_dap_names(remove):
    """The hook checks every gdb.dap name it uses before changing anything:
    one missing (a GDB that changed them) gives one warning line and no
    hook, so GDB's DAP keeps its OS threads (docs/ide.md)."""
    gdb = _dap_gdb()
    pre = "python import gdb.dap, sys"
    if remove:
        mod, name = remove.split(".")
        pre += "; delattr(sys.modules['gdb.dap.%s'], '%s')" % (mod, name)
    out = run_gdb(["python import corodbg_gdb.dap as d; "
                   "print('hooked', d._st.dap is sys.modules['gdb.dap'])"],
                  pre=[pre], target=[], gdb=gdb)
    if remove is None:
        assert "hooked True" in out and "warning" not in out, out
    else:
        assert ("warning: corodbg: GDB's DAP server has no gdb.dap.%s: "
                "coroutines are not shown as DAP threads (this GDB is newer "
                "than corodbg knows)\n" % remove) in out, out
        assert "hooked False" in out, out
