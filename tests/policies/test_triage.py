"""Triage rules, pure: precision scores of hand-built leads (expected values written out),
duplicate similarity, hit rates, the lifecycle checks, the rules loader, link notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.contract.errors import ConfigurationError, Conflict, Forbidden, InvalidInput
from hub.contract.lead import Agency, Lead
from policies import lifecycle
from policies.lifecycle import (
    CloseOutcome,
    CurrentStatus,
    DismissReason,
    LeadState,
    StatusRequest,
    check_transition,
    validate_request,
)
from policies.links import LinkedLead, notices_for
from policies.loader import load_policy
from policies.triage import (
    DuplicateCandidate,
    LeadFacts,
    ResolutionCount,
    hit_rates,
    likely_duplicates,
    load_triage_rules,
    precision_score,
    score_duplicate,
)
from tests.factories import BESANCON, lead, pseudonym

RULES = load_triage_rules()
NOW = datetime(2025, 8, 1, 10, 0, tzinfo=UTC)


def _lead(**overrides) -> Lead:
    return Lead.model_validate(lead(**overrides))


# --- precision ----------------------------------------------------------------------------------


def test_fully_precise_lead_scores_100_with_every_reason():
    facts = LeadFacts.from_lead(_lead(
        persons=[{"pseudonym": pseudonym("Leroy", "Yanis"), "role": "seller",
                  "description": {"sex": "male", "clothing": "survêtement noir, casquette rouge"}}],
        vehicles=[{"plate": "AB-123-CD", "make": "Renault", "model": "Clio", "colour": "grise"}],
    ), same_place=3)
    score = precision_score(facts, RULES)
    assert score.score == 100
    assert score.reasons_fr == [
        "lieu précis (adresse)", "date et heure d'observation", "description physique",
        "véhicule décrit", "immatriculation", "schéma répété : 3 signalements au même lieu en 30 jours",
    ]
    assert [(c.criterion, c.points) for c in score.criteria] == [
        ("place", 25), ("observed_at", 20), ("description", 15), ("vehicle", 10), ("plate", 15),
        ("pattern", 15)]


def test_vague_citizen_report_scores_5_and_says_what_is_missing():
    facts = LeadFacts.from_lead(_lead(kind="citizen_report", channel="citizen_platform",
                                      observed_at=None, location=dict(BESANCON)))
    score = precision_score(facts, RULES)
    assert score.score == 5
    reasons = {c.criterion: c.reason_fr for c in score.criteria}
    assert reasons["place"] == "commune seulement"
    assert reasons["observed_at"].startswith("date et heure d'observation inconnues")
    assert reasons["plate"] == "aucune immatriculation"
    assert reasons["pattern"] == "pas de schéma répété connu"


def test_landmark_unplated_vehicle_and_second_report_scores_53():
    # place label 15 + observed 20 + vehicle described (unplated) 10 + second report at the
    # place 8; a person with only a sex is not "described".
    facts = LeadFacts.from_lead(_lead(
        location={**BESANCON, "place_label": "hall 3, place Cassin"},
        vehicles=[{"make": "Peugeot", "kind": "scooter"}],
        persons=[{"pseudonym": pseudonym("Martin"), "description": {"sex": "female"}}],
    ), same_place=2)
    score = precision_score(facts, RULES)
    assert score.score == 53
    assert "schéma répété : 2 signalements au même lieu en 30 jours" in score.reasons_fr
    assert "aucune description physique" in [c.reason_fr for c in score.criteria]


def test_point_and_bare_plate_seen_four_times_scores_75():
    facts = LeadFacts.from_lead(_lead(
        location={**BESANCON, "point": {"lat": 47.2205, "lon": 5.9710}},
        vehicles=[{"plate": "EF-456-GH"}],
    ), same_place=1, same_plate=4)
    score = precision_score(facts, RULES)
    assert score.score == 75  # 25 + 20 + 0 + 0 + 15 + 15
    assert score.reasons_fr[0] == "lieu précis (coordonnées)"
    assert score.reasons_fr[-1] == "schéma répété : 4 signalements pour la même immatriculation en 30 jours"


def test_no_place_at_all():
    facts = LeadFacts(lead_id="police:X", agency=Agency.POLICE, kind="field_intelligence", observed=True)
    score = precision_score(facts, RULES)
    assert score.score == 20 and score.criteria[0].reason_fr == "aucun lieu"


# --- duplicates ---------------------------------------------------------------------------------


def _cand(**kw) -> DuplicateCandidate:
    base = {"lead_id": "police:NEW", "other_lead_id": "police:OLD", "other_agency": "police",
                "lead_kind": "citizen_report", "other_kind": "citizen_report", "hours_apart": 3.0}
    return DuplicateCandidate(**{**base, **kw})


def test_same_kind_same_place_same_day_is_a_likely_duplicate():
    match = score_duplicate(_cand(same_location=True), RULES)
    assert match.similarity == 70  # kind 20 + place 30 + within a day 20
    assert match.reasons_fr == ["même nature (signalement citoyen)", "même lieu",
                                "observées à 3 h d'intervalle"]
    assert likely_duplicates([_cand(same_location=True)], RULES)["police:NEW"][0].lead_id == "police:OLD"


def test_weak_overlaps_are_not_flagged_and_strong_ones_are_ranked():
    weak = _cand(other_lead_id="gendarmerie:A", other_agency="gendarmerie", other_kind="stop_check",
                 near_location_m=100.0, hours_apart=5 * 24)  # near 20 + window 10 = 30
    plate_only = _cand(other_lead_id="douanes:B", other_agency="douanes", other_kind="seizure",
                       shared=["plate"], hours_apart=48)  # 30 + 10 = 40
    strong = _cand(other_lead_id="police:C", shared=["plate", "phone"], hours_apart=0.5)
    kind_and_day_only = _cand(other_lead_id="police:D", hours_apart=1)  # nothing concrete
    assert score_duplicate(weak, RULES).similarity == 30
    assert score_duplicate(plate_only, RULES).similarity == 40
    assert score_duplicate(strong, RULES).similarity == 95
    flagged = likely_duplicates([weak, plate_only, strong, kind_and_day_only], RULES)
    assert [m.lead_id for m in flagged["police:NEW"]] == ["police:C"]
    assert "observées à moins d'une heure d'intervalle" in flagged["police:NEW"][0].reasons_fr


def test_candidates_outside_the_window_are_ignored():
    far = _cand(same_location=True, shared=["plate"], hours_apart=15 * 24)
    assert likely_duplicates([far], RULES) == {}


# --- hit rates ----------------------------------------------------------------------------------


def test_hit_rates_per_channel_and_connector_exactly():
    rows = [
        ResolutionCount(channel="citizen_platform", connector="citizen-1", state="closed", outcome="arrest", count=3),
        ResolutionCount(channel="citizen_platform", connector="citizen-1", state="closed", outcome="no_follow_up", count=2),
        ResolutionCount(channel="citizen_platform", connector="citizen-1", state="dismissed", count=5),
        ResolutionCount(channel="patrol", connector="police-csv", state="closed", outcome="seizure", count=1),
        ResolutionCount(channel="patrol", connector="police-csv", state="closed", outcome="arrest", count=1),
        ResolutionCount(channel="informant", connector="police-csv", state="dismissed", count=2),
    ]
    rates = hit_rates(rows, RULES)
    by_channel = {r.key: r for r in rates.by_channel}
    assert (by_channel["citizen_platform"].hits, by_channel["citizen_platform"].resolved) == (3, 10)
    assert by_channel["citizen_platform"].rate == 0.3
    assert by_channel["citizen_platform"].label_fr == "plateforme citoyenne"
    assert by_channel["patrol"].rate == 1.0
    assert by_channel["informant"].rate == 0.0
    by_connector = {r.key: r for r in rates.by_connector}
    assert by_connector["police-csv"].rate == 0.5 and by_connector["police-csv"].outcomes == {"arrest": 1, "seizure": 1}
    assert (rates.overall.hits, rates.overall.resolved, rates.overall.rate) == (5, 14, round(5 / 14, 4))
    assert hit_rates([], RULES).overall.rate is None


# --- lifecycle ----------------------------------------------------------------------------------


def _status(state: LeadState, assignee: Agency | None = None) -> CurrentStatus:
    return CurrentStatus(lead_id="police:L1", owner_agency=Agency.POLICE, state=state,
                         assignee_agency=assignee)


def _actor(agency: str = "police", role: str = "analyst") -> lifecycle.Actor:
    return lifecycle.Actor(user_id=f"{agency}:u", agency=Agency(agency), role=role)


def test_required_and_refused_fields_name_the_field():
    cases = [
        (StatusRequest(expected_state="acted_on", state="closed"), "outcome"),
        (StatusRequest(expected_state="new", state="dismissed"), "reason"),
        (StatusRequest(expected_state="under_assessment", state="assigned", unit="BRI"), "assignee_agency"),
        (StatusRequest(expected_state="under_assessment", state="assigned", assignee_agency="police"), "unit"),
        (StatusRequest(expected_state="new", state="under_assessment", outcome="arrest"), "outcome"),
        (StatusRequest(expected_state="new", state="dismissed", reason="other"), "note"),
    ]
    for request, field in cases:
        with pytest.raises(InvalidInput) as err:
            validate_request(request)
        assert err.value.details[0]["field"] == field, request
    validate_request(StatusRequest(expected_state="new", state="dismissed", reason="other",
                                   note="signalement de voisinage sans lien avec les stupéfiants"))


def test_owner_moves_a_lead_through_its_life():
    rules = RULES.lifecycle
    change = check_transition(rules, _status(LeadState.NEW),
                              StatusRequest(expected_state="new", state="under_assessment"), _actor())
    assert (change.from_state, change.to_state, change.by) == ("new", "under_assessment", "owner")
    change = check_transition(rules, _status(LeadState.UNDER_ASSESSMENT), StatusRequest(
        expected_state="under_assessment", state="assigned", assignee_agency="gendarmerie",
        unit="BR Besançon"), _actor())
    assert change.assignee_agency is Agency.GENDARMERIE


def test_assignee_acts_and_closes_but_cannot_reassign():
    rules = RULES.lifecycle
    g = _actor("gendarmerie", "coordinator")
    assigned = _status(LeadState.ASSIGNED, Agency.GENDARMERIE)
    assert check_transition(rules, assigned, StatusRequest(expected_state="assigned", state="acted_on"),
                            g).by == "assignee"
    closed = check_transition(rules, _status(LeadState.ACTED_ON, Agency.GENDARMERIE), StatusRequest(
        expected_state="acted_on", state="closed", outcome=CloseOutcome.SEIZURE), g)
    assert closed.outcome is CloseOutcome.SEIZURE
    # Reopening a dismissed lead is the owner's (coordinator's) call, not the assignee's.
    with pytest.raises(Forbidden):
        check_transition(rules, _status(LeadState.DISMISSED, Agency.GENDARMERIE),
                         StatusRequest(expected_state="dismissed", state="under_assessment"), g)


def test_stale_expected_state_is_409_illegal_is_422_on_state_stranger_is_403():
    rules = RULES.lifecycle
    with pytest.raises(Conflict) as err:
        check_transition(rules, _status(LeadState.UNDER_ASSESSMENT),
                         StatusRequest(expected_state="new", state="dismissed", reason="duplicate"), _actor())
    assert err.value.details[0]["field"] == "expected_state" and "en cours d'évaluation" in err.value.message
    with pytest.raises(InvalidInput) as err:
        check_transition(rules, _status(LeadState.NEW),
                         StatusRequest(expected_state="new", state="closed", outcome="arrest"), _actor())
    assert err.value.details[0]["field"] == "state"
    assert "« en cours d'évaluation »" in err.value.details[0]["reason"]
    with pytest.raises(Forbidden):
        check_transition(rules, _status(LeadState.NEW),
                         StatusRequest(expected_state="new", state="under_assessment"), _actor("douanes"))
    with pytest.raises(Forbidden):  # a guest referent of the owner agency has no lifecycle role
        check_transition(rules, _status(LeadState.NEW),
                         StatusRequest(expected_state="new", state="under_assessment"),
                         _actor("police", "guest_referent"))


def test_reopen_needs_a_coordinator_and_terminal_states_say_so():
    rules = RULES.lifecycle
    request = StatusRequest(expected_state="dismissed", state="under_assessment")
    with pytest.raises(Forbidden):
        check_transition(rules, _status(LeadState.DISMISSED), request, _actor("police", "analyst"))
    assert check_transition(rules, _status(LeadState.DISMISSED), request,
                            _actor("police", "coordinator")).to_state is LeadState.UNDER_ASSESSMENT
    with pytest.raises(InvalidInput) as err:
        check_transition(rules, _status(LeadState.CLOSED),
                         StatusRequest(expected_state="closed", state="dismissed", reason=DismissReason.OTHER,
                                       note="x"), _actor())
    assert "aucune (état final)" in err.value.details[0]["reason"]


# --- loader -------------------------------------------------------------------------------------


def _write_rules(tmp_path: Path, old: str, new: str) -> Path:
    from importlib import resources

    text = (resources.files("policies") / "data" / "triage.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "triage.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_points_must_total_100_and_errors_name_the_line(tmp_path):
    path = _write_rules(tmp_path, "points: 15\n    reason_fr: \"immatriculation\"",
                        "points: 25\n    reason_fr: \"immatriculation\"")
    with pytest.raises(ConfigurationError) as err:
        load_triage_rules(path)
    assert "Règles de triage invalides" in err.value.message and "totalisent 110" in err.value.message
    assert "ligne" in err.value.message


def test_unknown_state_and_duplicate_transition_are_refused(tmp_path):
    path = _write_rules(tmp_path, "{from: new, to: dismissed, by: [owner]}",
                        "{from: new, to: archived, by: [owner]}")
    with pytest.raises(ConfigurationError) as err:
        load_triage_rules(path)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "archived" in t)
    assert f"ligne {line}" in err.value.message
    path = _write_rules(tmp_path, "{from: new, to: dismissed, by: [owner]}",
                        "{from: new, to: under_assessment, by: [owner]}")
    with pytest.raises(ConfigurationError, match="décrite deux fois"):
        load_triage_rules(path)


def test_packaged_rules_have_a_digest():
    assert RULES.digest.startswith("sha256:") and RULES.hit_rates.hit_outcomes == ["arrest", "seizure"]


# --- link notices -------------------------------------------------------------------------------


def _linked(lead_id: str, agency: str, code: str = "H1", embargo: datetime | None = None) -> LinkedLead:
    return LinkedLead(lead_id=lead_id, agency=agency, kind="field_intelligence", handling_code=code,
                      embargo_until=embargo)


def test_notices_are_hit_style_and_skip_what_the_policy_hides():
    leads = [_linked("police:A", "police"), _linked("douanes:B", "douanes"),
             _linked("gendarmerie:C", "gendarmerie"), _linked("gendarmerie:D", "gendarmerie"),
             _linked("gendarmerie:E", "gendarmerie", code="H3"),
             _linked("douanes:F", "douanes", embargo=NOW + timedelta(days=3))]
    notices = {n.agency: n for n in notices_for("la-1", "vehicle", "AB-123-CD", leads, now=NOW,
                                                    policy=load_policy())}
    police = notices["police"]
    assert police.own_lead_ids == ["police:A"]
    # H3 and embargoed leads of others are not even counted.
    assert [(h.agency, h.lead_count) for h in police.holdings] == [("gendarmerie", 2), ("douanes", 1)]
    assert police.message_fr.startswith(
        "La Gendarmerie nationale détient 2 pistes ; les Douanes détiennent 1 piste sur ce véhicule (AB-123-CD).")
    assert "douanes:B" not in police.message_fr and "gendarmerie:C" not in police.message_fr
    assert set(notices) == {"police", "douanes", "gendarmerie"}
