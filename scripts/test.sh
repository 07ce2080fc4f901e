#!/usr/bin/env bash
# The project's test command (README, CI): sets the machine up if needed, then runs the whole
# suite against a real Neo4j the test session starts itself (or NEO4J_URI).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/graph -x`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

rc=0
.venv/bin/python -m pytest -q -p no:cacheprovider "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "scripts/test.sh: pytest collected no tests (exit 5): failing." >&2
fi
exit "$rc"
