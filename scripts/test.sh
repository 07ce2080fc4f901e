#!/usr/bin/env bash
# The project's test command (README, CI): sets the machine up if needed, then runs the whole
# suite against a real Neo4j the test session starts itself (or NEO4J_URI).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/graph -x`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

# Two xdist workers by default (CI has two cores; each worker starts its own Neo4j); pass
# `-n 0` to run in one process. A test file runs whole on one worker (`--dist loadfile`), files
# in collection order: xdist's default (`load`) deals a module's tests to both workers, so every
# module-scoped world was built twice (the access matrix's: ~70 s of CI each; measured on its
# and nine other world-building hub modules: 645 -> 561 CPU-seconds), and a module world could
# be wiped by another module's test between two of its own.
rc=0
.venv/bin/python -m pytest -q -p no:cacheprovider -n "${CROSSHUB_TEST_WORKERS:-2}" \
  --dist loadfile --no-loadscope-reorder --durations=15 "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "scripts/test.sh: pytest collected no tests (exit 5): failing." >&2
fi
exit "$rc"
