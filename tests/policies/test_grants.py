"""policies/grants.py: who decides a disclosure request, and whether one would show more.

Expected values come from the rules as stated (originator control: only the lead's own agency
decides, and only roles holding ``disclosure.decide``; a disclosure is worth asking only if it
raises the level or opens a withheld field), not from the code."""

from __future__ import annotations

import pytest

from policies.grants import GUEST_ENTITY_KINDS, MAX_GUEST_GRANT, may_decide_disclosure, widens
from policies.loader import load_policy
from policies.models import Decision, Outcome

POLICY = load_policy()


@pytest.mark.parametrize(("role", "agency", "owner", "allowed"), [
    ("analyst", "police", "police", True),  # the holder's analysts decide
    ("coordinator", "police", "police", True),
    ("coordinator", "gendarmerie", "police", False),  # the CROSS chief of another service may not
    ("analyst", "douanes", "police", False),
    ("auditor", "police", "police", False),  # no disclosure.decide in roles.yaml
    ("administrator", "police", "police", False),
    ("guest_referent", "police", "police", False),
    ("connector", "police", "police", False),
])
def test_who_may_decide_a_disclosure(role: str, agency: str, owner: str, allowed: bool) -> None:
    decision = may_decide_disclosure(POLICY, role, agency, owner)
    assert decision.allowed is allowed
    if role in ("analyst", "coordinator") and agency != owner:
        assert decision.rule == "originator-control"


def _d(outcome: Outcome, hidden: list[str] | None = None) -> Decision:
    return Decision(lead_id="L-1", outcome=outcome, rule_id="r", reason_fr="r",
                    hidden_properties=hidden or [])


@pytest.mark.parametrize(("before", "after", "more"), [
    (_d(Outcome.HIT), _d(Outcome.REDACTED, ["narrative"]), True),
    (_d(Outcome.NONE), _d(Outcome.HIT), True),
    (_d(Outcome.REDACTED, ["narrative", "source_reliability"]), _d(Outcome.REDACTED, ["source_reliability"]), True),
    (_d(Outcome.REDACTED, ["narrative"]), _d(Outcome.REDACTED, ["narrative"]), False),
    (_d(Outcome.FULL), _d(Outcome.FULL), False),
    (_d(Outcome.HIT), _d(Outcome.HIT), False),
    (_d(Outcome.REDACTED, ["narrative"]), _d(Outcome.HIT), False),
])
def test_a_disclosure_is_worth_asking_only_if_it_shows_more(before: Decision, after: Decision,
                                                             more: bool) -> None:
    assert widens(before, after) is more


def test_guest_grants_are_invitations_not_memberships() -> None:
    assert MAX_GUEST_GRANT.days <= 90
    # Shared reference nodes (thousands of leads each) are never grantable.
    assert not {"substance", "commune", "agency"} & set(GUEST_ENTITY_KINDS)
