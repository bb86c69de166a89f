"""A short libFuzzer run of the agent's request parser (make test);
`make fuzz-agent` runs it longer.  Any crash, sanitizer report or
timeout fails the test."""
import os
import re
import subprocess

from agent_util import BUILD, ROOT, need

SECONDS = int(os.environ.get("COROSYM_FUZZ_SECONDS", "6"))


def test_fuzz_http_parser_briefly(tmp_path):
    exe = need(BUILD / "agent" / "fuzz" / "fuzz-http")
    seeds = ROOT / "agent" / "fuzz" / "corpus" / "http"
    assert len(list(seeds.iterdir())) >= 5
    scratch = tmp_path / "corpus"
    scratch.mkdir()
    r = subprocess.run([str(exe), "-seed=1", "-max_total_time=%d" % SECONDS,
                        "-timeout=10", "-print_final_stats=1",
                        "-artifact_prefix=%s/" % tmp_path, str(scratch),
                        str(seeds)], capture_output=True, text=True,
                       timeout=SECONDS + 60,
                       env=dict(os.environ,
                                UBSAN_OPTIONS="halt_on_error=1"))
    found = [p.name for p in tmp_path.iterdir()
             if p.name.startswith(("crash-", "leak-", "timeout-", "oom-"))]
    assert r.returncode == 0 and not found, r.stderr[-3000:]
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
    assert m and int(m.group(1)) > 1000, r.stderr[-2000:]
