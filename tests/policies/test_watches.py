"""Watchlist rules (policies/watches.py): a key typed in any spelling is the key ingest wrote,
and who may hold watches — written from the rules' text (roles.yaml ``watches.follow``,
watches.yaml: a guest referent only within a live grant), not from the code."""

from __future__ import annotations

import pytest

from policies.rulebook import load_rulebook
from policies.watches import EndReason, normalize_target, standing

RULEBOOK = load_rulebook()


@pytest.mark.parametrize(("kind", "typed", "key"), [
    ("vehicle", "ab 123 cd", "vehicle:AB-123-CD"),
    ("vehicle", "AB.123.cd", "vehicle:AB-123-CD"),
    ("vehicle", "1234 ab 25", "vehicle:1234-AB-25"),
    ("vehicle", "ch: zh 12345", "vehicle:CH:ZH12345"),
    ("phone", "06 12 34 56 78", "phone:+33612345678"),
    ("phone", "+33 (0)6 12 34 56 78", "phone:+33612345678"),
    ("phone", "0033612345678", "phone:+33612345678"),
    ("commune", "25056", "commune:25056"),
    ("location", "25056:Av. de la Liberté", "location:addr:25056:avenue de la liberte"),
    ("location", "place:25056:Hall 3", "location:place:25056:hall 3"),
    ("deal_point", "25056:Hall 3 — Planoise", "deal_point:25056:hall 3 planoise"),
])
def test_a_key_in_any_spelling_is_the_ingested_key(kind, typed, key):
    assert normalize_target(kind, typed) == key


@pytest.mark.parametrize(("kind", "typed"), [
    ("vehicle", "AB-000-CD"), ("phone", "12"), ("person", "Jean Dupont"), ("commune", "Besançon"),
    ("agency", "police"), ("location", "rue sans commune"),
])
def test_a_malformed_key_is_refused_in_french(kind, typed):
    with pytest.raises(ValueError, match=r"[a-zé]"):
        normalize_target(kind, typed)


# (role, disabled, live guest grant) → None (may watch) or why the watches end.
STANDING = [
    ("analyst", False, False, None),
    ("coordinator", False, False, None),
    ("guest_referent", False, True, None),
    ("guest_referent", False, False, EndReason.GRANT_ENDED),
    ("analyst", True, False, EndReason.ACCOUNT_DISABLED),
    (None, False, False, EndReason.ACCOUNT_DISABLED),
    ("auditor", False, False, EndReason.ROLE_WITHOUT_RIGHT),
    ("administrator", False, True, EndReason.ROLE_WITHOUT_RIGHT),
    ("connector", False, False, EndReason.ROLE_WITHOUT_RIGHT),
]


@pytest.mark.parametrize(("role", "disabled", "live", "expected"), STANDING)
def test_who_may_hold_watches(role, disabled, live, expected):
    assert standing(RULEBOOK.policy, RULEBOOK.watches, role=role, disabled=disabled,
                    live_grant=live) == expected
