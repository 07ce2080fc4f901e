#!/usr/bin/env bash
# The hub on this machine with demo data, in one command: sets the machine up if needed, starts
# the local Neo4j (unless NEO4J_URI is set), loads the demo data and serves the API on
# 127.0.0.1. Extra arguments go to `crosshub dev` (e.g. --port 8080 --reset).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/crosshub dev "$@"
