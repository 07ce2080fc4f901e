"""``compile_scope`` + ``scope_outcome`` must agree with ``decide`` on every lead: the compiled
scope is what the graph turns into Cypher, so any gap here is a leak (or a blind spot) there.

Checked exhaustively on the default policy (every role × caller agency × originating agency ×
handling code × kind × restriction × embargo variant, then every grant situation), and on random
policies with hypothesis."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.contract.lead import Agency, HandlingCode, LeadKind
from policies.engine import compile_scope, decide, scope_outcome
from policies.models import (
    Caller,
    Conditions,
    Effect,
    EmbargoState,
    LeadMarking,
    Outcome,
    Policy,
    ReadScope,
    Relation,
    RestrictionState,
    Role,
    Rule,
)
from tests.policies.builders import NOW, caller, disclosure, guest_grant

CALLERS = list(itertools.product(Role, Agency))


def _third(*taken: Agency) -> Agency:
    return next(a for a in Agency if a not in taken)


def _restrictions(cal: Agency, origin: Agency) -> dict[str, list[Agency]]:
    return {
        "open": [],
        "caller": [cal],
        "third": [_third(cal, origin)],
        "origin-only": [origin],
    }


EMBARGOES = {
    "none": None,
    "at-now": NOW,  # lifted: an embargo holds strictly before its date
    "future": NOW + timedelta(days=1),
}


def _noise(who: Caller) -> list:
    """Grants that must change nothing: expired, not yet valid, someone else's, and a
    disclosure signed by an agency that does not own the lead."""
    return [
        guest_grant(who.user_id, entity_keys=["ent:expired"], valid_from=NOW - timedelta(days=9),
                    valid_until=NOW - timedelta(days=2), grant_id="g-expired"),
        guest_grant(who.user_id, lead_ids=["x:later"], valid_from=NOW + timedelta(days=1),
                    grant_id="g-later"),
        guest_grant("someone-else", entity_keys=["ent:theirs"], grant_id="g-theirs"),
    ]


def _assert_same(who: Caller, lead: LeadMarking, policy: Policy, grants: list, scope: ReadScope) -> None:
    d = decide(who, lead, policy, grants, now=NOW)
    v = scope_outcome(scope, lead)
    assert (v.outcome, v.hidden_properties) == (d.outcome, d.hidden_properties), (who, lead, d.reason_fr)
    if d.outcome is not Outcome.NONE:
        assert v.rule_id == d.rule_id


@pytest.mark.parametrize(("role", "cal"), CALLERS, ids=[f"{r.value}-{a.value}" for r, a in CALLERS])
def test_scope_equals_decide_on_every_marking(policy: Policy, role: Role, cal: Agency) -> None:
    who = caller(role, cal)
    # Active grants exist (so the scope has grant-dependent entries) but cover none of these leads.
    grants = [*_noise(who), guest_grant(who.user_id, lead_ids=["x:elsewhere"]),
              disclosure("x:elsewhere", Agency.POLICE, who.user_id)]
    scope = compile_scope(who, policy, grants, now=NOW)
    n = 0
    for origin, code, kind in itertools.product(Agency, HandlingCode, LeadKind):
        for restricted in _restrictions(cal, origin).values():
            for embargo in EMBARGOES.values():
                n += 1
                lead = LeadMarking(lead_id=f"{origin.value}:L{n}", originating_agency=origin, kind=kind,
                                   handling_code=code, restricted_to=restricted, embargo_until=embargo,
                                   entity_keys=["ent:expired", "ent:theirs"])
                _assert_same(who, lead, policy, grants, scope)
    assert n == len(Agency) * len(HandlingCode) * len(LeadKind) * 4 * len(EMBARGOES)


GRANT_SITUATIONS = ("none", "guest-by-id", "guest-by-entity", "disclosed", "disclosed-by-other",
                    "guest-and-disclosed", "guest-expired")


@pytest.mark.parametrize(("role", "cal"), CALLERS, ids=[f"{r.value}-{a.value}" for r, a in CALLERS])
def test_scope_equals_decide_in_every_grant_situation(policy: Policy, role: Role, cal: Agency) -> None:
    who = caller(role, cal)
    by_id: list[str] = []
    by_entity: list[str] = []
    own_grants: dict[str, list] = {}  # lead id -> the disclosures naming it
    leads: list[LeadMarking] = []
    for origin, code, kind, situation in itertools.product(
        [cal, _third(cal)], HandlingCode, [LeadKind.SEIZURE, LeadKind.SURVEILLANCE], GRANT_SITUATIONS
    ):
        for restricted in _restrictions(cal, origin).values():
            for embargo in (None, NOW + timedelta(days=1)):
                n = len(leads)
                lead_id, keys = f"{origin.value}:G{n}", [f"ent:{n}"]
                if situation in ("guest-by-id", "guest-and-disclosed"):
                    by_id.append(lead_id)
                if situation == "guest-by-entity":
                    by_entity.extend(keys)
                if situation == "guest-expired":
                    keys.append("ent:expired")
                if situation in ("disclosed", "guest-and-disclosed"):
                    own_grants[lead_id] = [disclosure(lead_id, origin, who.user_id, grant_id=f"d{n}")]
                if situation == "disclosed-by-other":
                    not_owner = _third(origin)
                    own_grants[lead_id] = [disclosure(lead_id, not_owner, who.user_id, grant_id=f"d{n}")]
                leads.append(LeadMarking(
                    lead_id=lead_id, originating_agency=origin, kind=kind, handling_code=code,
                    restricted_to=restricted, embargo_until=embargo, entity_keys=keys,
                ))
    shared = [*_noise(who), guest_grant(who.user_id, lead_ids=by_id, grant_id="g-ids"),
              guest_grant(who.user_id, entity_keys=by_entity, grant_id="g-entities")]
    # The scope is compiled from every grant; each decision sees the shared grants and the
    # lead's own disclosure (the others name other leads) — which keeps this test linear and
    # also shows that one lead's disclosure does not leak onto another.
    scope = compile_scope(who, policy, [*shared, *itertools.chain(*own_grants.values())], now=NOW)
    for lead in leads:
        _assert_same(who, lead, policy, [*shared, *own_grants.get(lead.lead_id, [])], scope)


# --- Shape of the scope -----------------------------------------------------------------------


def _points(scope: ReadScope):
    return itertools.product(Agency, HandlingCode, LeadKind, RestrictionState, EmbargoState,
                             [False, True], [False, True])


def _matching(scope: ReadScope, point) -> list:
    origin, code, kind, restr, emb, guest, disc = point
    return [e for e in scope.entries
            if origin in e.originating_agencies and code in e.handling_codes and kind in e.kinds
            and restr in e.restriction and emb in e.embargo and guest in e.guest_grant
            and disc in e.disclosure_grant]


@pytest.mark.parametrize("role", list(Role))
def test_entries_are_disjoint_and_never_none(policy: Policy, role: Role) -> None:
    who = caller(role, "douanes")
    grants = [guest_grant(who.user_id, lead_ids=["a"]), disclosure("b", "police", who.user_id)]
    scope = compile_scope(who, policy, grants, now=NOW)
    assert all(e.outcome is not Outcome.NONE for e in scope.entries)
    assert all(len(_matching(scope, p)) <= 1 for p in _points(scope))


def test_scope_is_plain_data(policy: Policy) -> None:
    who = caller("guest_referent", "prefecture")
    scope = compile_scope(who, policy, [guest_grant(who.user_id, lead_ids=["police:1"], entity_keys=["e"])],
                          now=NOW)
    assert ReadScope.model_validate_json(scope.model_dump_json()) == scope
    assert scope.guest_lead_ids == ["police:1"] and scope.guest_entity_keys == ["e"]
    assert scope.policy_digest == policy.digest


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONNECTOR, Role.ADMINISTRATOR])
def test_roles_without_lead_access_have_an_empty_scope(policy: Policy, role: Role) -> None:
    assert compile_scope(caller(role, "police"), policy, now=NOW).entries == []


def test_guest_without_grant_has_an_empty_scope(policy: Policy) -> None:
    assert compile_scope(caller("guest_referent"), policy, now=NOW).entries == []


def test_only_the_callers_active_grants_enter_the_scope(policy: Policy) -> None:
    who = caller("analyst", "gendarmerie")
    scope = compile_scope(who, policy, [
        *_noise(who),
        disclosure("police:1", "police", who.user_id, grant_id="ok"),
        disclosure("police:2", "police", "someone-else", grant_id="theirs"),
        disclosure("police:3", "police", who.user_id, valid_until=NOW, grant_id="expired"),
    ], now=NOW)
    assert [(d.lead_id, d.owner_agency) for d in scope.disclosures] == [("police:1", Agency.POLICE)]
    assert scope.guest_lead_ids == [] and scope.guest_entity_keys == []
    # No active guest grant: no entry may depend on holding one.
    assert all(e.guest_grant == [False] for e in scope.entries)


def test_scope_is_compact(policy: Policy) -> None:
    # What the Cypher translation receives: a handful of boxes, not thousands of cells.
    for role, cal in CALLERS:
        assert len(compile_scope(caller(role, cal), policy, now=NOW).entries) <= 12


# --- Random policies --------------------------------------------------------------------------


def _opt_list(values) -> st.SearchStrategy:
    return st.none() | st.lists(st.sampled_from(list(values)), min_size=1, max_size=3, unique=True)


@st.composite
def _rules(draw, group_ids: list[str]) -> list[Rule]:
    out = []
    for i in range(draw(st.integers(0, 10))):
        effect = draw(st.sampled_from(list(Effect)))
        if effect is Effect.ALLOW:
            outcome = draw(st.sampled_from([Outcome.FULL, Outcome.REDACTED, Outcome.HIT]))
            roles = draw(st.lists(st.sampled_from(list(Role)), min_size=1, max_size=4, unique=True))
        else:
            outcome = draw(st.sampled_from([Outcome.NONE, Outcome.HIT, Outcome.REDACTED]))
            roles = draw(_opt_list(Role))
        hide = (draw(st.lists(st.sampled_from(group_ids), min_size=1, unique=True))
                if outcome is Outcome.REDACTED else [])
        when = Conditions(
            roles=roles,
            caller_agencies=draw(_opt_list(Agency)),
            originating_agencies=draw(_opt_list(Agency)),
            relation=draw(st.none() | st.sampled_from(list(Relation))),
            handling_codes=draw(_opt_list(HandlingCode)),
            kinds=draw(_opt_list(LeadKind)),
            restriction=draw(_opt_list(RestrictionState)),
            embargo=draw(st.none() | st.sampled_from(list(EmbargoState))),
            guest_grant=draw(st.none() | st.booleans()),
            disclosure_grant=draw(st.none() | st.booleans()),
        )
        out.append(Rule(id=f"r{i}", effect=effect, outcome=outcome, hide=hide, reason_fr=f"règle {i}",
                        when=when))
    return out


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_scope_equals_decide_on_random_policies(policy: Policy, data) -> None:
    rules = data.draw(_rules([g.id for g in policy.property_groups]))
    p = Policy(roles=policy.roles, agencies=policy.agencies, property_groups=policy.property_groups,
               rules=rules)
    who = caller(data.draw(st.sampled_from(list(Role))), data.draw(st.sampled_from(list(Agency))))
    rnd = random.Random(data.draw(st.integers(0, 2**32)))
    leads, grants, covered = [], [], []
    for i in range(200):
        origin = rnd.choice([who.agency, *Agency])
        lead_id = f"{origin.value}:R{i}"
        situation = rnd.choice(GRANT_SITUATIONS)
        if situation in ("guest-by-id", "guest-and-disclosed"):
            covered.append(lead_id)
        if situation in ("disclosed", "guest-and-disclosed"):
            grants.append(disclosure(lead_id, origin, who.user_id, grant_id=f"d{i}"))
        leads.append(LeadMarking(
            lead_id=lead_id, originating_agency=origin, kind=rnd.choice(list(LeadKind)),
            handling_code=rnd.choice(list(HandlingCode)),
            restricted_to=rnd.choice([[], [who.agency], [origin], rnd.sample(list(Agency), 2)]),
            embargo_until=rnd.choice(list(EMBARGOES.values())),
        ))
    if covered:
        grants.append(guest_grant(who.user_id, lead_ids=covered))
    scope = compile_scope(who, p, grants, now=NOW)
    for lead in leads:
        _assert_same(who, lead, p, grants, scope)
