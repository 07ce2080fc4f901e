"""``decide`` against the packaged default policy: the expected outcome of every role, agency
relation and handling code is written out in a table, then each mechanism (deny overrides allow,
default deny, guest grants, embargo, restricted_to, disclosure) has its own tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.contract.lead import Agency, HandlingCode, LeadKind
from policies.engine import decide
from policies.models import (
    Conditions,
    Effect,
    Outcome,
    Policy,
    Role,
    Rule,
)
from tests.policies.builders import NOW, caller, disclosure, guest_grant, lead

NARR_EVAL = ["information_credibility", "narrative", "source_reliability"]
HIDDEN = {
    "-": [],
    "E": ["information_credibility", "source_reliability"],
    "NE": NARR_EVAL,
    "NES": sorted([*NARR_EVAL, "channel", "source_ref"]),
}

# Outcome of one caller on a lead of ``origin``, per handling code. Variants:
#   plain            seizure, unrestricted, no embargo, no grant
#   restricted-out   restricted_to names a third agency (not the caller's)
#   restricted-in    restricted_to names the caller's agency
#   embargo          embargo_until three days ahead;  embargo-past: lifted yesterday
#   surveillance     kind surveillance
#   guest-grant      the caller holds an active guest grant covering the lead
#   disclosure       the originating agency disclosed this lead to the caller
# ``hidden`` applies to the redacted cells of the row (groups: N narrative, E evaluation codes,
# S source detail).
TABLE = """
role            caller       origin       variant          H0        H1        H2        H3    hidden
analyst         police       police       plain            full      full      full      full  -
analyst         police       police       restricted-out   full      full      full      full  -
analyst         police       police       embargo          full      full      full      full  -
analyst         police       police       surveillance     full      full      full      full  -
analyst         gendarmerie  police       plain            redacted  redacted  hit       none  NE
analyst         gendarmerie  police       restricted-out   hit       hit       hit       none  -
analyst         gendarmerie  police       restricted-in    redacted  redacted  hit       none  NE
analyst         gendarmerie  police       embargo          none      none      none      none  -
analyst         gendarmerie  police       embargo-past     redacted  redacted  hit       none  NE
analyst         gendarmerie  police       surveillance     hit       hit       hit       none  -
analyst         gendarmerie  police       guest-grant      redacted  redacted  hit       none  NE
analyst         gendarmerie  police       disclosure       redacted  redacted  redacted  none  E
analyst         douanes      gendarmerie  plain            redacted  redacted  hit       none  NE
analyst         ofast        douanes      plain            redacted  redacted  hit       none  NE
coordinator     police       police       plain            full      full      full      full  -
coordinator     police       police       embargo          full      full      full      full  -
coordinator     gendarmerie  police       plain            full      full      full      hit   -
coordinator     gendarmerie  police       restricted-out   hit       hit       hit       hit   -
coordinator     gendarmerie  police       restricted-in    full      full      full      hit   -
coordinator     gendarmerie  police       embargo          none      none      none      none  -
coordinator     gendarmerie  police       surveillance     full      full      full      hit   -
coordinator     gendarmerie  police       disclosure       full      full      full      hit   -
coordinator     prefecture   douanes      plain            full      full      full      hit   -
guest_referent  gendarmerie  police       plain            none      none      none      none  -
guest_referent  gendarmerie  police       guest-grant      redacted  redacted  hit       none  NES
guest_referent  police       police       guest-grant      redacted  redacted  hit       none  NES
guest_referent  police       police       plain            none      none      none      none  -
guest_referent  gendarmerie  police       disclosure       none      none      none      none  -
guest_referent  gendarmerie  police       surveillance     none      none      none      none  -
connector       police       police       plain            none      none      none      none  -
connector       gendarmerie  police       plain            none      none      none      none  -
connector       gendarmerie  police       disclosure       none      none      none      none  -
auditor         police       police       plain            none      none      none      none  -
auditor         gendarmerie  police       plain            none      none      none      none  -
auditor         gendarmerie  police       disclosure       none      none      none      none  -
administrator   police       police       plain            none      none      none      none  -
administrator   gendarmerie  police       plain            none      none      none      none  -
administrator   gendarmerie  police       guest-grant      none      none      none      none  -
"""

CODES = [HandlingCode.H0, HandlingCode.H1, HandlingCode.H2, HandlingCode.H3]


def _rows() -> list[tuple]:
    lines = [ln.split() for ln in TABLE.strip().splitlines()[1:]]
    return [
        pytest.param(role, cal, origin, variant, code, Outcome(cells[i]), HIDDEN[hidden],
                     id=f"{role}-{cal}-{origin}-{variant}-{code}")
        for role, cal, origin, variant, *cells, hidden in lines
        for i, code in enumerate(CODES)
    ]


def _situation(role: str, cal: str, origin: str, variant: str, code: HandlingCode):
    who = caller(role, cal)
    kind = LeadKind.SURVEILLANCE if variant == "surveillance" else LeadKind.SEIZURE
    restricted = {
        "restricted-out": [Agency.PAF],
        "restricted-in": [Agency(cal)],
    }.get(variant)
    embargo = {"embargo": NOW + timedelta(days=3), "embargo-past": NOW - timedelta(days=1)}.get(variant)
    what = lead(origin, code, kind, restricted_to=restricted, embargo_until=embargo)
    grants = {
        "guest-grant": [guest_grant(lead_ids=[what.lead_id])],
        "disclosure": [disclosure(what.lead_id, origin)],
    }.get(variant, [])
    return who, what, grants


def test_table_covers_every_role() -> None:
    roles = {ln.split()[0] for ln in TABLE.strip().splitlines()[1:]}
    assert roles == {r.value for r in Role}


@pytest.mark.parametrize(("role", "cal", "origin", "variant", "code", "expected", "hidden"), _rows())
def test_decision_table(policy: Policy, role, cal, origin, variant, code, expected, hidden) -> None:
    who, what, grants = _situation(role, cal, origin, variant, code)
    d = decide(who, what, policy, grants, now=NOW)
    assert d.outcome is expected, d.reason_fr
    assert d.hidden_properties == (hidden if expected is Outcome.REDACTED else [])
    assert d.lead_id == what.lead_id
    assert d.policy_digest == policy.digest
    assert d.reason_fr.endswith(f"(règle {d.rule_id})")
    assert (d.contact_fr is not None) is (expected is Outcome.HIT)


# Which rule each situation cites: the deny when a deny limits the outcome.
RULES = """
role            caller       origin  variant          code  rule
analyst         police       police  plain            H3    own-agency-full
analyst         gendarmerie  police  plain            H0    analyst-other-redacted-h0-h1
analyst         gendarmerie  police  plain            H2    analyst-other-hit-h2
analyst         gendarmerie  police  plain            H3    h3-other-agency-deny
analyst         gendarmerie  police  restricted-out   H0    restricted-other-cap-hit
analyst         gendarmerie  police  embargo          H1    embargo-other-deny
analyst         gendarmerie  police  surveillance     H0    surveillance-other-cap-hit
analyst         gendarmerie  police  disclosure       H2    disclosure-redacted
coordinator     gendarmerie  police  plain            H1    coordinator-full-h0-h2
coordinator     gendarmerie  police  plain            H3    h3-coordinator-cap-hit
guest_referent  gendarmerie  police  plain            H0    default-deny
guest_referent  gendarmerie  police  guest-grant      H1    guest-grant-redacted
guest_referent  gendarmerie  police  guest-grant      H3    h3-other-agency-deny
guest_referent  police       police  guest-grant      H3    default-deny
connector       police       police  plain            H0    connector-no-read
auditor         police       police  plain            H0    auditor-no-lead-content
administrator   gendarmerie  police  plain            H2    administrator-no-lead-content
"""


@pytest.mark.parametrize(
    ("role", "cal", "origin", "variant", "code", "rule_id"),
    [tuple(ln.split()) for ln in RULES.strip().splitlines()[1:]],
)
def test_rule_cited(policy: Policy, role, cal, origin, variant, code, rule_id) -> None:
    who, what, grants = _situation(role, cal, origin, variant, HandlingCode(code))
    assert decide(who, what, policy, grants, now=NOW).rule_id == rule_id


def test_reason_reads_as_french(policy: Policy) -> None:
    d = decide(caller("analyst", "gendarmerie"), lead("police", "H3"), policy, now=NOW)
    assert d.reason_fr == (
        "Piste de la Police nationale classée H3 : non communiquée hors service d'origine "
        "(règle h3-other-agency-deny)"
    )


def test_hit_says_whom_to_contact(policy: Policy) -> None:
    d = decide(caller("analyst", "police"), lead("douanes", "H2"), policy, now=NOW)
    assert d.outcome is Outcome.HIT
    assert d.contact_fr == "cellule de renseignement de la direction régionale des douanes"
    assert d.contact_fr in d.reason_fr


def test_embargo_reason_gives_paris_time(policy: Policy) -> None:
    until = NOW.replace(hour=22, minute=0) + timedelta(days=2)  # 22:00 UTC = minuit à Paris (CEST)
    d = decide(caller("analyst"), lead("police", embargo_until=until), policy, now=NOW)
    assert "sous embargo jusqu'au 18/10/2025 à 00:00" in d.reason_fr


# --- Deny overrides allow; default deny -------------------------------------------------------


def _with_rules(policy: Policy, rules: list[Rule]) -> Policy:
    return Policy(roles=policy.roles, agencies=policy.agencies,
                  property_groups=policy.property_groups, rules=rules)


ALLOW_ALL = Rule(id="allow-all", effect=Effect.ALLOW, outcome=Outcome.FULL, reason_fr="ouvert",
                 when=Conditions(roles=list(Role)))
DENY_H2 = Rule(id="deny-h2", effect=Effect.DENY, reason_fr="fermé",
               when=Conditions(handling_codes=[HandlingCode.H2]))
CAP_HIT_H1 = Rule(id="cap-h1", effect=Effect.DENY, outcome=Outcome.HIT, reason_fr="plafond",
                  when=Conditions(handling_codes=[HandlingCode.H1]))
CAP_REDACTED = Rule(id="cap-redacted", effect=Effect.DENY, outcome=Outcome.REDACTED,
                    hide=["narrative"], reason_fr="masqué", when=Conditions(roles=[Role.ANALYST]))


@pytest.mark.parametrize("order", [1, -1], ids=["allow-first", "deny-first"])
def test_deny_overrides_allow_whatever_the_order(policy: Policy, order: int) -> None:
    p = _with_rules(policy, [ALLOW_ALL, DENY_H2, CAP_HIT_H1][::order])
    who = caller("coordinator")
    assert decide(who, lead(code="H0"), p, now=NOW).outcome is Outcome.FULL
    d2 = decide(who, lead(code="H2"), p, now=NOW)
    assert (d2.outcome, d2.rule_id) == (Outcome.NONE, "deny-h2")
    d1 = decide(who, lead(code="H1"), p, now=NOW)
    assert (d1.outcome, d1.rule_id) == (Outcome.HIT, "cap-h1")


def test_deny_capped_at_redacted_hides_its_groups(policy: Policy) -> None:
    p = _with_rules(policy, [ALLOW_ALL, CAP_REDACTED])
    d = decide(caller("analyst"), lead(), p, now=NOW)
    assert (d.outcome, d.rule_id, d.hidden_properties) == (Outcome.REDACTED, "cap-redacted", ["narrative"])
    assert decide(caller("coordinator"), lead(), p, now=NOW).outcome is Outcome.FULL


def test_deny_only_still_denies(policy: Policy) -> None:
    d = decide(caller("analyst"), lead(code="H2"), _with_rules(policy, [DENY_H2]), now=NOW)
    assert (d.outcome, d.rule_id) == (Outcome.NONE, "deny-h2")


def test_most_open_allow_wins_and_hidden_sets_intersect(policy: Policy) -> None:
    a = Rule(id="a", effect=Effect.ALLOW, outcome=Outcome.REDACTED, hide=["narrative", "evaluation"],
             reason_fr="a", when=Conditions(roles=[Role.ANALYST]))
    b = Rule(id="b", effect=Effect.ALLOW, outcome=Outcome.REDACTED, hide=["evaluation", "source-detail"],
             reason_fr="b", when=Conditions(roles=[Role.ANALYST]))
    h = Rule(id="h", effect=Effect.ALLOW, outcome=Outcome.HIT, reason_fr="h",
             when=Conditions(roles=[Role.ANALYST]))
    d = decide(caller("analyst"), lead(), _with_rules(policy, [h, a, b]), now=NOW)
    assert d.outcome is Outcome.REDACTED
    assert d.hidden_properties == ["information_credibility", "source_reliability"]


def test_no_rules_means_nothing(policy: Policy) -> None:
    p = _with_rules(policy, [])
    for role in Role:
        d = decide(caller(role, "police"), lead("police"), p, now=NOW)
        assert (d.outcome, d.rule_id) == (Outcome.NONE, "default-deny")
        assert "refus par défaut" in d.reason_fr


def test_allow_for_another_role_gives_nothing(policy: Policy) -> None:
    only_coord = Rule(id="c", effect=Effect.ALLOW, outcome=Outcome.FULL, reason_fr="c",
                      when=Conditions(roles=[Role.COORDINATOR]))
    d = decide(caller("analyst"), lead(), _with_rules(policy, [only_coord]), now=NOW)
    assert (d.outcome, d.rule_id) == (Outcome.NONE, "default-deny")


def test_caller_and_originating_agency_conditions(policy: Policy) -> None:
    r = Rule(id="gir-sees-douanes", effect=Effect.ALLOW, outcome=Outcome.FULL, reason_fr="r",
             when=Conditions(roles=[Role.ANALYST], caller_agencies=[Agency.GIR],
                             originating_agencies=[Agency.DOUANES]))
    p = _with_rules(policy, [r])
    assert decide(caller("analyst", "gir"), lead("douanes"), p, now=NOW).outcome is Outcome.FULL
    assert decide(caller("analyst", "gir"), lead("police"), p, now=NOW).outcome is Outcome.NONE
    assert decide(caller("analyst", "paf"), lead("douanes"), p, now=NOW).outcome is Outcome.NONE


OUTCOME_LEVEL = {Outcome.NONE: 0, Outcome.HIT: 1, Outcome.REDACTED: 2, Outcome.FULL: 3}
situations = st.tuples(
    st.sampled_from(list(Role)), st.sampled_from(list(Agency)), st.sampled_from(list(Agency)),
    st.sampled_from(list(HandlingCode)), st.sampled_from(list(LeadKind)),
    st.sampled_from([None, "caller", "other"]), st.sampled_from([None, -1, 1]),
)


def _build(s):
    role, cal, origin, code, kind, restr, emb = s
    third = Agency.GIR if cal != Agency.GIR else Agency.PAF
    restricted = {None: None, "caller": [cal], "other": [third]}[restr]
    embargo = None if emb is None else NOW + timedelta(days=emb)
    return caller(role, cal), lead(origin, code, kind, restricted_to=restricted, embargo_until=embargo)


@settings(max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False), st.lists(situations, min_size=1, max_size=20))
def test_rule_order_never_changes_the_outcome(policy: Policy, rnd, sits) -> None:
    rules = list(policy.rules)
    rnd.shuffle(rules)
    shuffled = _with_rules(policy, rules)
    for s in sits:
        who, what = _build(s)
        a, b = decide(who, what, policy, now=NOW), decide(who, what, shuffled, now=NOW)
        assert (a.outcome, a.hidden_properties) == (b.outcome, b.hidden_properties)


@settings(max_examples=150, deadline=None)
@given(st.data(), st.lists(situations, min_size=1, max_size=20))
def test_dropping_a_deny_never_closes_and_dropping_an_allow_never_opens(policy, data, sits) -> None:
    rule = data.draw(st.sampled_from(policy.rules))
    without = _with_rules(policy, [r for r in policy.rules if r.id != rule.id])
    for s in sits:
        who, what = _build(s)
        full = OUTCOME_LEVEL[decide(who, what, policy, now=NOW).outcome]
        less = OUTCOME_LEVEL[decide(who, what, without, now=NOW).outcome]
        assert less >= full if rule.effect is Effect.DENY else less <= full


# --- Guest referents --------------------------------------------------------------------------


GUEST = caller("guest_referent", "prefecture", user_id="invite-bailleur")
ON_POLICE = lead("police", "H1", lead_id="police:PV-88", entity_keys=["deal_point:25056:hall-3"])


@pytest.mark.parametrize(
    ("grant", "expected"),
    [
        pytest.param(guest_grant("invite-bailleur", lead_ids=["police:PV-88"]), Outcome.REDACTED,
                     id="by-lead-id"),
        pytest.param(guest_grant("invite-bailleur", entity_keys=["deal_point:25056:hall-3"]),
                     Outcome.REDACTED, id="by-entity-key"),
        pytest.param(guest_grant("invite-bailleur", lead_ids=["police:PV-88"], valid_from=NOW),
                     Outcome.REDACTED, id="starts-now"),
        pytest.param(guest_grant("invite-bailleur", lead_ids=["police:PV-88"],
                                 valid_from=NOW - timedelta(days=8), valid_until=NOW - timedelta(days=1)),
                     Outcome.NONE, id="expired"),
        pytest.param(guest_grant("invite-bailleur", lead_ids=["police:PV-88"],
                                 valid_from=NOW - timedelta(days=8), valid_until=NOW),
                     Outcome.NONE, id="ends-now"),
        pytest.param(guest_grant("invite-bailleur", lead_ids=["police:PV-88"],
                                 valid_from=NOW + timedelta(hours=1)), Outcome.NONE, id="not-yet"),
        pytest.param(guest_grant("invite-bailleur", lead_ids=["police:PV-89"],
                                 entity_keys=["deal_point:25056:hall-4"]), Outcome.NONE, id="out-of-scope"),
        pytest.param(guest_grant("autre-invite", lead_ids=["police:PV-88"]), Outcome.NONE,
                     id="someone-else"),
    ],
)
def test_guest_sees_only_what_an_active_grant_covers(policy: Policy, grant, expected) -> None:
    d = decide(GUEST, ON_POLICE, policy, [grant], now=NOW)
    assert d.outcome is expected, d.reason_fr
    if expected is Outcome.NONE:
        assert d.rule_id == "default-deny"


def test_guest_grant_does_not_lift_originator_controls(policy: Policy) -> None:
    g = [guest_grant("invite-bailleur", entity_keys=["e"])]
    on = lambda **kw: lead("police", entity_keys=["e"], **kw)  # noqa: E731
    assert decide(GUEST, on(code="H3"), policy, g, now=NOW).outcome is Outcome.NONE
    embargoed = on(embargo_until=NOW + timedelta(days=1))
    assert decide(GUEST, embargoed, policy, g, now=NOW).outcome is Outcome.NONE
    assert decide(GUEST, on(restricted_to=[Agency.DOUANES]), policy, g, now=NOW).outcome is Outcome.HIT
    assert decide(GUEST, on(kind="surveillance"), policy, g, now=NOW).outcome is Outcome.HIT


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-20 * 24, max_value=20 * 24))
def test_guest_access_follows_the_grant_window(policy: Policy, hours: int) -> None:
    grant = guest_grant("invite-bailleur", lead_ids=["police:PV-88"])
    at = NOW + timedelta(hours=hours)
    d = decide(GUEST, ON_POLICE, policy, [grant], now=at)
    assert (d.outcome is Outcome.REDACTED) is grant.active_at(at)


# --- Embargo, restricted_to, disclosure -------------------------------------------------------


def test_embargo_hides_even_the_hit_until_its_date(policy: Policy) -> None:
    until = NOW + timedelta(days=2)
    embargoed = lead("douanes", "H0", embargo_until=until)
    other, own = caller("analyst", "police"), caller("analyst", "douanes")
    assert decide(other, embargoed, policy, now=NOW).outcome is Outcome.NONE
    assert decide(own, embargoed, policy, now=NOW).outcome is Outcome.FULL
    assert decide(other, embargoed, policy, now=until).outcome is Outcome.REDACTED  # lifted at the date
    assert decide(other, embargoed, policy, [disclosure(embargoed.lead_id, "douanes")],
                  now=NOW).outcome is Outcome.NONE


def test_restricted_to_leaves_others_a_hit_at_most(policy: Policy) -> None:
    restricted = lead("police", "H0", restricted_to=[Agency.POLICE_JUDICIAIRE])
    named = caller("analyst", "police_judiciaire")
    assert decide(named, restricted, policy, now=NOW).outcome is Outcome.REDACTED
    d = decide(caller("analyst", "gendarmerie"), restricted, policy, now=NOW)
    assert (d.outcome, d.rule_id) == (Outcome.HIT, "restricted-other-cap-hit")
    # The originator is never locked out of its own lead, named in the list or not.
    assert decide(caller("analyst", "police"), restricted, policy, now=NOW).outcome is Outcome.FULL
    h3 = lead("police", "H3", restricted_to=[Agency.POLICE_JUDICIAIRE])
    assert decide(caller("analyst", "gendarmerie"), h3, policy, now=NOW).outcome is Outcome.NONE


def test_disclosure_upgrades_a_hit(policy: Policy) -> None:
    h2 = lead("police", "H2", restricted_to=[Agency.POLICE_JUDICIAIRE])
    who = caller("analyst", "gendarmerie")
    assert decide(who, h2, policy, now=NOW).outcome is Outcome.HIT
    d = decide(who, h2, policy, [disclosure(h2.lead_id, "police")], now=NOW)
    assert (d.outcome, d.rule_id) == (Outcome.REDACTED, "disclosure-redacted")
    assert d.hidden_properties == HIDDEN["E"]


@pytest.mark.parametrize(
    "grant",
    [
        pytest.param(disclosure("police:REF-1", "gendarmerie"), id="not-the-owner"),
        pytest.param(disclosure("police:REF-1", "police", requester="u-2"), id="someone-else"),
        pytest.param(disclosure("police:REF-2", "police"), id="another-lead"),
        pytest.param(disclosure("police:REF-1", "police", valid_until=NOW), id="expired"),
        pytest.param(disclosure("police:REF-1", "police", approved_at=NOW + timedelta(minutes=1)),
                     id="not-yet"),
    ],
)
def test_disclosure_that_does_not_count(policy: Policy, grant) -> None:
    d = decide(caller("analyst", "gendarmerie"), lead("police", "H2"), policy, [grant], now=NOW)
    assert d.outcome is Outcome.HIT


def test_disclosure_does_not_open_h3(policy: Policy) -> None:
    h3 = lead("police", "H3")
    d = decide(caller("analyst", "gendarmerie"), h3, policy, [disclosure(h3.lead_id, "police")], now=NOW)
    assert d.outcome is Outcome.NONE
