#!/usr/bin/python3
"""Runs inside a private network namespace (unshare -n): brings lo up,
starts `debuginfod -F DIR` on PORT, waits until its scan is done (polling
/metrics, see FACTS.md), runs the given command with DEBUGINFOD_URLS set,
prints its output, and stops the server.

Usage: debuginfod_run.py DIR PORT DB CACHE -- CMD...
"""
import os
import re
import subprocess
import sys
import time
import urllib.request


def main():
    d, port, db, cache = sys.argv[1:5]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    srv = subprocess.Popen(["debuginfod", "-F", "-p", port, "-d", db,
                            "-t", "0", "-g", "0", d],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        url = "http://127.0.0.1:%s" % port
        deadline = time.time() + 30
        ready = False
        while time.time() < deadline:
            try:
                m = urllib.request.urlopen(url + "/metrics", timeout=2).read()
                m = m.decode()
                pend = re.search(r'thread_work_pending\{role="scan"\} (\d+)', m)
                done = re.search(r'scanned_files_total\{source="file"\} (\d+)', m)
                if pend and pend.group(1) == "0" and done and int(done.group(1)) > 0:
                    ready = True
                    break
            except OSError:
                pass
            time.sleep(0.1)
        if not ready:
            print("debuginfod_run: server not ready", file=sys.stderr)
            sys.exit(3)
        env = dict(os.environ, DEBUGINFOD_URLS=url,
                   DEBUGINFOD_CACHE_PATH=cache)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=60)
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        sys.exit(r.returncode)
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()


if __name__ == "__main__":
    main()
