"""IDE debugging over DAP: run the node DAP client tests (tests/dap/,
DebugClient from @vscode/debugadapter-testsupport under `node --test`)
against lldb-dap-19 with corodbg's plugin, and require every one to pass."""
import json
import os
import shutil

import pytest

from lldbutil import LLDB_SERVER


def test_dap_client(root, prog, lines, kernel_core, node_dap_tests):
    if shutil.which("lldb-dap-19") is None:
        pytest.skip("lldb-dap-19 is not installed (package lldb-19)")
    env = dict(os.environ)
    env.update({
        "CORODBG_LLDB_DIR": str(root / "lldb"),
        "CORODBG_PROG": str(prog),
        "CORODBG_CORE": str(kernel_core),
        "CORODBG_LINES": json.dumps(lines),
        "LLDB_DEBUGSERVER_PATH": LLDB_SERVER,
    })
    env.pop("CORODBG_LLDB_MAX_THREADS", None)
    node_dap_tests("dap.test.js", env, 5, timeout=180)
