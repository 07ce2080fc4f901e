#!/usr/bin/env bash
# Refresh requirements.lock (every dependency, test extras included, pinned with hashes) from
# pyproject.toml. Run after changing a dependency, then commit both files; scripts/setup.sh
# installs exactly the lock (pip --require-hashes), so a fresh machine gets what CI tested.
# uv is fetched into a throwaway venv: it is a tool of this script, not of the project.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tool=${UV:-}
if [ -z "$tool" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m venv "$tmp/venv"
  "$tmp/venv/bin/pip" install -q uv
  tool="$tmp/venv/bin/uv"
fi
"$tool" pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 \
  --python-platform x86_64-manylinux_2_28 ${UPGRADE:+--upgrade} \
  --custom-compile-command "bash scripts/lock.sh" -o requirements.lock "$@"
