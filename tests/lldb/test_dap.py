"""IDE debugging over DAP: run the node DAP client tests (tests/dap/,
DebugClient from @vscode/debugadapter-testsupport under `node --test`)
against lldb-dap-19 with corodbg's plugin, and require every one to pass."""
import json
import os
import re
import shutil
import subprocess

import pytest

from lldbutil import LLDB_SERVER


def test_dap_client(root, prog, lines, kernel_core):
    dap_dir = root / "tests" / "dap"
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the DAP client tests need it")
    if shutil.which("lldb-dap-19") is None:
        pytest.skip("lldb-dap-19 is not installed (package lldb-19)")
    if not (dap_dir / "node_modules" / "@vscode" /
            "debugadapter-testsupport").is_dir():
        pytest.skip("tests/dap/node_modules is missing: `make` runs npm "
                    "install there, which needs the npm registry")
    env = dict(os.environ)
    env.update({
        "CORODBG_LLDB_DIR": str(root / "lldb"),
        "CORODBG_PROG": str(prog),
        "CORODBG_CORE": str(kernel_core),
        "CORODBG_LINES": json.dumps(lines),
        "LLDB_DEBUGSERVER_PATH": LLDB_SERVER,
    })
    env.pop("CORODBG_LLDB_MAX_THREADS", None)
    p = subprocess.run(["node", "--test", "--test-reporter=tap",
                        "dap.test.js"], cwd=dap_dir, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=180, stdin=subprocess.DEVNULL)
    out = p.stdout
    counts = dict(re.findall(r"^# (tests|pass|fail|skipped|cancelled) (\d+)$",
                             out, re.M))
    assert p.returncode == 0 and counts.get("fail") == "0", out
    assert counts.get("tests") == "5" and counts.get("pass") == "5", out
