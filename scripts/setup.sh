#!/usr/bin/env bash
# Idempotent set-up of a fresh machine for CROSS Hub: Python venv with the project and its test
# dependencies, Java 17 + Maven (the local Neo4j is fetched from Maven Central on first start),
# and the system libraries the PDF brief needs. Quick when everything is already there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -n "$python" ] || { echo "setup: no python3 found" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"setup: Python >= 3.11 required, .venv has {sys.version.split()[0]}")
PY
# Install exactly the lock (every package pinned with its hashes: what CI tested), then the
# project itself without resolving anything. Redone only when the lock or pyproject.toml changed
# since the last successful install. Refresh the lock with `bash scripts/lock.sh`.
stamp=.venv/.crosshub-installed
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  .venv/bin/python -m pip check
  touch "$stamp"
fi

# System packages: Java + Maven for Neo4j; Pango for WeasyPrint (PDF brief).
missing=()
command -v java >/dev/null 2>&1 || missing+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
ldconfig -p 2>/dev/null | grep -q "libpango-1.0.so" || missing+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so" || missing+=(libpangoft2-1.0-0)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing system packages: ${missing[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Keycloak, the real OIDC provider of the tests and of `crosshub dev --oidc` (hub/dev/keycloak.py):
# it needs a JDK >= 21 (JAVA_HOME, else the newest under /usr/lib/jvm; Debian 12's default 17 is
# too old), and is fetched once from Maven Central into ~/.cache/crosshub, checked by its SHA-1.
.venv/bin/python - <<'PY'
import sys
from hub.contract.errors import ConfigurationError
from hub.dev import keycloak
try:
    jdk = keycloak.find_jdk()
    home = keycloak.install()
except ConfigurationError as exc:
    sys.exit(f"setup: {exc.message}")
print(f"setup: Keycloak {keycloak.VERSION} ready in {home} (JDK {jdk})", file=sys.stderr)
PY

# The browser the web application's tests drive (Debian's chromium; Playwright's own download is
# not reachable here), found by path or CROSSHUB_CHROMIUM.
if [ -z "${CROSSHUB_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: chromium missing (apt-get install chromium as root, or set CROSSHUB_CHROMIUM)" >&2
    exit 1
  fi
  echo "setup: installing chromium" >&2
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
fi

# The web application's front end: npm packages exactly as locked (package-lock.json, integrity
# hashes; install scripts off by .npmrc), bundled by esbuild into hub/web/static. Redone when the
# lock or a source changed since the last build.
web=hub/web/frontend
built=hub/web/static/.built
command -v npm >/dev/null 2>&1 || { echo "setup: npm (Node.js >= 18) required for the web application" >&2; exit 1; }
if [ ! -f "$built" ] || [ -n "$(find "$web/package-lock.json" "$web/build.mjs" "$web/src" -newer "$built" -print -quit)" ]; then
  if [ ! -d "$web/node_modules" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
    (cd "$web" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  fi
  (cd "$web" && node build.mjs)
  touch "$built"
fi
