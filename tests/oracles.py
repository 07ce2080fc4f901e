"""Expected outcomes written from the policy text (policies/data/rules.yaml, ADR 0002), shared by
the tests that check them at different depths (the graph's read, the hub's raw answers) — one
table, so the two cannot drift apart.

``MARKINGS``: the five ways a police lead is marked in those tests (H0 to H3, and H0 under an
embargo that has not ended). ``GENDARMERIE_SEES_POLICE_LEAD``: what each gendarmerie role may know
of such a lead — analysts of another agency redacted on H0/H1, hit on H2, nothing on H3 or under
embargo; the CROSS chief full on H0–H2, hit on H3, nothing under embargo; a guest without a grant,
an auditor, an administrator: nothing. ``own`` is a police analyst: everything.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

FUTURE = (datetime.now(UTC) + timedelta(days=30)).isoformat()

MARKINGS: dict[str, dict[str, str]] = {
    "H0": {"handling_code": "H0"},
    "H1": {"handling_code": "H1"},
    "H2": {"handling_code": "H2"},
    "H3": {"handling_code": "H3"},
    "EMB": {"handling_code": "H0", "embargo_until": FUTURE},
}

GENDARMERIE_SEES_POLICE_LEAD: dict[str, dict[str, str]] = {
    "analyst": {"H0": "redacted", "H1": "redacted", "H2": "hit", "H3": "none", "EMB": "none"},
    "coordinator": {"H0": "full", "H1": "full", "H2": "full", "H3": "hit", "EMB": "none"},
    "guest_referent": dict.fromkeys(MARKINGS, "none"),
    "auditor": dict.fromkeys(MARKINGS, "none"),
    "administrator": dict.fromkeys(MARKINGS, "none"),
    "own": dict.fromkeys(MARKINGS, "full"),
}
