#!/bin/sh
# The in-process endpoint's benchmark (issue 12): an idle agent's and a
# 100 Hz CPU profile's cost to a switch-heavy workload, a /metrics scrape
# and a dump at N coroutines (bench/agent/bench_agent.py says the targets).
#
#   sh bench/run-agent.sh              (make bench runs it)
#   N=100000 RUNS=5 sh bench/run-agent.sh
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 bench/agent/bench_agent.py "${N:-100000}" "${RUNS:-5}"
