#!/usr/bin/env bash
# Dependency audit of the lock files (CI runs it before the tests, .ci/run):
# - requirements.lock: every pin checked by pip-audit against PyPI's advisory feed (the pins are
#   read from the lock, nothing is installed or resolved: --disable-pip on a hashed lock).
#   PyPI's feed carries no severity, so every known vulnerability fails, unless listed in
#   scripts/audit-allow.txt with its reason and a review date (a past date fails again). If the
#   advisory service cannot be reached (some registry mirrors serve only the /simple index, not
#   the JSON API pip-audit reads), the run says loudly that nothing was audited.
# - hub/web/frontend/package-lock.json: `npm audit --audit-level=high` (npm gives severities):
#   high or critical fails. If the registry refuses the advisory endpoint (some mirrors answer
#   405 to its POST), the run says loudly that the front end was NOT audited.
# CROSSHUB_DEPS_AUDIT_STRICT=1 makes an unreachable advisory service fail the run too.
# Overrides (tests): CROSSHUB_AUDIT_LOCK, CROSSHUB_AUDIT_ALLOW, CROSSHUB_AUDIT_NPM=0.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -x .venv/bin/pip-audit ] || bash scripts/setup.sh >/dev/null
lock=${CROSSHUB_AUDIT_LOCK:-requirements.lock}
allow=${CROSSHUB_AUDIT_ALLOW:-scripts/audit-allow.txt}
rc=0

ignores=()
today=$(date -u +%F)
if [ -f "$allow" ]; then
  # Lines: <advisory id> <review date YYYY-MM-DD> <reason...>; '#' starts a comment.
  while read -r id until reason; do
    case "$id" in ''|'#'*) continue ;; esac
    if [[ -z "$reason" || ! "$until" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]]; then
      echo "audit-deps: $allow: '$id' needs a review date and a reason" >&2; rc=1; continue
    fi
    if [[ "$until" < "$today" ]]; then
      echo "audit-deps: $allow: the exception for $id expired on $until: review it" >&2; rc=1; continue
    fi
    ignores+=(--ignore-vuln "$id")
  done < "$allow"
fi

echo "audit-deps: $lock (pip-audit, PyPI advisories)"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
.venv/bin/pip-audit --disable-pip --progress-spinner off -f json -o "$report" -r "$lock" \
  ${ignores[@]+"${ignores[@]}"} >/dev/null 2>&1 || true
verdict=$(python3 - "$report" <<'PY'
import json, sys
try:
    deps = json.load(open(sys.argv[1]))["dependencies"]
except (OSError, ValueError, KeyError):
    print("unreachable: pip-audit gave no report"); sys.exit()
found = [f"{d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions') or ['?'])})"
         for d in deps for v in d.get("vulns", [])]
skipped = [d["name"] for d in deps if d.get("skip_reason")]
if found:
    print("fail: " + "; ".join(found))
elif deps and len(skipped) == len(deps):
    print(f"unreachable: none of the {len(deps)} pins could be looked up (advisory service unreachable)")
else:
    print(f"ok: {len(deps) - len(skipped)} pins checked, no known vulnerability"
          + (f"; not found: {', '.join(skipped)}" if skipped else ""))
PY
)
case "$verdict" in
  ok:*) echo "audit-deps: pip $verdict" ;;
  fail:*) echo "audit-deps: pip $verdict" >&2; rc=1 ;;
  *) echo "audit-deps: WARNING: the Python dependencies were NOT audited ($verdict)" >&2
     if [ "${CROSSHUB_DEPS_AUDIT_STRICT:-0}" = "1" ]; then rc=1; fi ;;
esac

if [ "${CROSSHUB_AUDIT_NPM:-1}" != "0" ]; then
  echo "audit-deps: hub/web/frontend/package-lock.json (npm audit, high and critical)"
  out=$(cd hub/web/frontend && npm audit --audit-level=high --json 2>/dev/null) || true
  verdict=$(printf '%s' "$out" | python3 -c '
import json, sys
try:
    report = json.load(sys.stdin)
except ValueError:
    print("unreachable: no JSON answer"); sys.exit()
if "error" in report or "statusCode" in report:
    print("unreachable: " + str(report.get("message") or report.get("error", {}).get("summary")))
    sys.exit()
counts = report.get("metadata", {}).get("vulnerabilities", {})
bad = {k: counts.get(k, 0) for k in ("high", "critical") if counts.get(k, 0)}
names = sorted(n for n, v in report.get("vulnerabilities", {}).items()
               if v.get("severity") in ("high", "critical"))
print(("fail: " + ", ".join(f"{k}={v}" for k, v in bad.items()) + " in " + ", ".join(names))
      if bad else "ok: " + ", ".join(f"{k}={v}" for k, v in counts.items() if k != "total"))
')
  case "$verdict" in
    ok:*) echo "audit-deps: npm $verdict" ;;
    fail:*) echo "audit-deps: npm $verdict" >&2; rc=1 ;;
    *) echo "audit-deps: WARNING: the front end's dependencies were NOT audited ($verdict)" >&2
       if [ "${CROSSHUB_DEPS_AUDIT_STRICT:-0}" = "1" ]; then rc=1; fi ;;
  esac
fi
exit "$rc"
