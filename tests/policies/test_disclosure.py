"""Graded disclosure rules (policies/disclosure.py, disclosure.yaml) as tables: the deadline,
overdue, the release period, the groups a holder picks, who is a party to a request's thread,
and what a graded release shows (the engine's combination, and the compiled scope agreeing with
``decide`` on every marking)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from hub.contract.errors import ConfigurationError
from hub.contract.lead import Agency, HandlingCode, Lead
from policies import disclosure as graded
from policies.disclosure import DisclosureRules
from policies.engine import compile_scope, decide, scope_outcome
from policies.models import DisclosureGrant, Outcome, Policy, Role
from policies.rulebook import load_rulebook
from tests.policies.builders import NOW, caller, lead

RULES = DisclosureRules()  # the defaults are the packaged file's values (checked below)


def test_the_packaged_rules_are_the_documented_defaults(policy: Policy) -> None:
    rules = load_rulebook().disclosure
    assert (rules.deadline_hours, rules.max_release_days) == (48, 90)  # Prüm II: 48 h
    # Every lead field is in a group a holder can pick, or in the marking a hit shows.
    assert graded.uncovered_fields(rules, policy) == []
    grouped = {p for g in policy.property_groups for p in g.properties}
    assert grouped | set(rules.always_shown) == set(Lead.model_fields)


def test_a_lead_field_in_no_group_refuses_the_rulebook(tmp_path: Path) -> None:
    source = Path(graded.__file__).parent / "data"
    for f in source.glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    text = (tmp_path / "disclosure.yaml").read_text(encoding="utf-8")
    (tmp_path / "disclosure.yaml").write_text(text.replace(
        "always_shown: [schema_version, source_agency, version, kind, handling_code, restricted_to, embargo_until]",
        "always_shown: [schema_version, source_agency, version, kind, handling_code, restricted_to]"),
        encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        load_rulebook(tmp_path)
    assert err.value.details[0]["field"] == "always_shown" and "embargo_until" in err.value.message


@pytest.mark.parametrize(("by_code", "code", "hours"), [
    ({}, "H0", 48), ({}, "H3", 48), ({HandlingCode.H2: 24}, "H2", 24), ({HandlingCode.H2: 24}, "H1", 48),
])
def test_the_deadline_per_handling_code(by_code, code, hours) -> None:
    rules = DisclosureRules(deadline_hours_by_handling_code=by_code)
    assert graded.deadline_for(rules, code) == timedelta(hours=hours)
    assert graded.due_at(rules, NOW, code) == NOW + timedelta(hours=hours)


@pytest.mark.parametrize(("status", "due", "overdue"), [
    ("requested", NOW - timedelta(seconds=1), True),
    ("requested", NOW, True),  # at the deadline: no answer came within it
    ("requested", NOW + timedelta(seconds=1), False),
    ("requested", None, False),
    ("approved", NOW - timedelta(days=1), False),
    ("declined", NOW - timedelta(days=1), False),
])
def test_overdue(status, due, overdue) -> None:
    assert graded.is_overdue(status, due, NOW) is overdue


@pytest.mark.parametrize(("asked", "end", "reason"), [
    (None, NOW + timedelta(days=90), None),  # no date: the longest allowed
    (NOW + timedelta(days=3), NOW + timedelta(days=3), None),
    (NOW + timedelta(days=90), NOW + timedelta(days=90), None),
    (NOW + timedelta(days=90, seconds=1), None, "au plus 90 jours"),
    (NOW, None, "postérieure"),
])
def test_the_release_period(asked, end, reason) -> None:
    if reason is None:
        assert graded.release_end(RULES, asked, NOW) == end
    else:
        with pytest.raises(ValueError, match=reason):
            graded.release_end(RULES, asked, NOW)


def test_the_groups_a_holder_picks(policy: Policy) -> None:
    assert graded.check_release(policy, ["vehicles", "place"]) == ["place", "vehicles"]  # policy order
    with pytest.raises(ValueError, match="inconnu.*pas-un-groupe"):
        graded.check_release(policy, ["place", "pas-un-groupe"])
    with pytest.raises(ValueError, match="au moins un groupe"):
        graded.check_release(policy, [])
    assert graded.withheld_properties(policy, None) == frozenset()
    assert graded.withheld_properties(policy, ["place", "vehicles"]) == (
        {p for g in policy.property_groups for p in g.properties}
        - {"location", "deal_point", "vehicles"})


# side of the caller: (user, agency, role, may_decide, overdue, escalated) -> side
THREAD = [
    (("u-req", "gendarmerie", "analyst", True, False, False), "requester"),
    (("u-hold", "police", "analyst", True, False, False), "holder"),
    (("u-hold", "police", "auditor", False, False, False), None),  # of the agency, not a decider
    (("u-other", "douanes", "analyst", True, True, True), None),  # a third agency, ever
    (("u-chief", "prefecture", "coordinator", True, False, False), None),  # before the deadline
    (("u-chief", "prefecture", "coordinator", True, True, False), "coordinator"),
    (("u-chief", "prefecture", "coordinator", True, False, True), "coordinator"),
]


@pytest.mark.parametrize(("who", "side"), THREAD)
def test_who_is_a_party_to_a_thread(who, side) -> None:
    user, agency, role, may_decide, overdue, escalated = who
    assert graded.thread_side(user_id=user, agency=agency, role=role, may_decide=may_decide,
                              requester_user_id="u-req", owner_agency="police", overdue=overdue,
                              escalated=escalated) == side


# What a graded release shows: (view without it, the disclosure's view, withheld) -> result
N, P = frozenset({"narrative"}), frozenset({"phones"})
VIEWS = [
    # Nothing without it; the disclosure's view narrowed to the release.
    ((Outcome.HIT, ()), (Outcome.REDACTED, ("ev",)), N, (Outcome.REDACTED, ("ev", "narrative"), True)),
    ((Outcome.NONE, ()), (Outcome.FULL, ()), N, (Outcome.REDACTED, ("narrative",), True)),
    # Already redacted without it: never less than before, the two views add up.
    ((Outcome.REDACTED, ("ev", "narrative")), (Outcome.REDACTED, ("ev",)), N,
     (Outcome.REDACTED, ("ev", "narrative"), False)),
    ((Outcome.REDACTED, ("ev", "phones")), (Outcome.FULL, ()), P, (Outcome.REDACTED, ("phones",), True)),
    # Full without it (own agency, coordinator): unchanged.
    ((Outcome.FULL, ()), (Outcome.FULL, ()), N, (Outcome.FULL, (), False)),
    # The disclosure opens nothing (H3): unchanged.
    ((Outcome.NONE, ()), (Outcome.NONE, ()), N, (Outcome.NONE, (), False)),
]


@pytest.mark.parametrize(("without", "disclosed", "withheld", "expected"), VIEWS)
def test_what_a_graded_release_shows(without, disclosed, withheld, expected) -> None:
    assert graded.graded_view(without, disclosed, withheld) == expected


RELEASES = [["place", "vehicles"], ["narrative"], ["dates", "persons", "phones", "seizure"], None]


@pytest.mark.parametrize(("role", "agency"), list(itertools.product(
    [Role.ANALYST, Role.COORDINATOR, Role.GUEST_REFERENT], [Agency.GENDARMERIE, Agency.POLICE])))
def test_the_compiled_scope_agrees_with_decide_on_graded_releases(policy: Policy, role, agency) -> None:
    """Every originating agency × handling code, each lead disclosed with another release:
    the scope the graph compiles gives exactly ``decide``'s outcome and hidden properties, and a
    release never shows a property of a group it did not release."""
    who = caller(role, agency)
    leads, grants = [], []
    for i, (origin, code) in enumerate(itertools.product(Agency, HandlingCode)):
        marking = lead(origin, code, lead_id=f"{origin.value}:G{i}")
        leads.append(marking)
        grants.append(DisclosureGrant(
            grant_id=f"d{i}", lead_id=marking.lead_id, requester_user_id=who.user_id,
            owner_agency=origin, approved_by="x", approved_at=NOW - timedelta(hours=1),
            released_groups=RELEASES[i % len(RELEASES)]))
    scope = compile_scope(who, policy, grants, now=NOW)
    for i, marking in enumerate(leads):
        d = decide(who, marking, policy, grants, now=NOW)
        v = scope_outcome(scope, marking)
        assert (v.outcome, v.hidden_properties) == (d.outcome, d.hidden_properties), marking
        without = decide(who, marking, policy, [], now=NOW)
        released = RELEASES[i % len(RELEASES)]
        if d.outcome is Outcome.REDACTED and released is not None and without.outcome is Outcome.HIT:
            assert set(d.hidden_properties) >= graded.withheld_properties(policy, released)
