"""The Cypher translation of a policy scope (graph/access.py) agrees, lead by lead, with the policy
engine's reference evaluator (policies.engine.scope_outcome), on the real graph: every role and
caller agency against leads of each originating agency, handling code, restriction and embargo,
with and without guest and disclosure grants."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from graph import access as graph_access
from graph.access import HIT, NONE
from graph.handle import Graph
from graph.identity import Principal
from graph.leads import write_leads
from hub.access import caller_of
from hub.contract.lead import Lead
from policies.engine import compile_scope, scope_outcome
from policies.loader import load_policy
from policies.models import DisclosureGrant, GuestGrant, LeadMarking, Outcome, Role
from tests.factories import lead

NOW = datetime(2025, 9, 1, 12, 0, tzinfo=UTC)
AGENCIES = ("police", "gendarmerie", "douanes")
RESTRICTIONS = ([], ["gendarmerie"], ["douanes"])
EMBARGOES = (None, NOW + timedelta(days=10), NOW - timedelta(days=10))


@pytest.fixture(scope="module")
def marked_leads(driver, settings):
    from graph.driver import reset_database

    reset_database(Graph(driver, settings.neo4j_database))
    payloads, keys_of = [], []
    combos = itertools.product(AGENCIES, ("H0", "H1", "H2", "H3"), ("citizen_report", "surveillance"),
                               range(len(RESTRICTIONS)), range(len(EMBARGOES)))
    for i, (agency, code, kind, r, e) in enumerate(combos):
        p = lead(source_agency=agency, source_ref=f"ACC-{i}", handling_code=code, kind=kind,
                 channel="patrol", restricted_to=RESTRICTIONS[r],
                 embargo_until=EMBARGOES[e].isoformat() if EMBARGOES[e] else None,
                 vehicles=[{"plate": "AB-123-CD"}] if i % 7 == 0 else [])
        model = Lead.model_validate(p)
        payloads.append(model)
        keys_of.append(["vehicle:AB-123-CD"] if i % 7 == 0 else [])
    # Keyed by public id (opaque, given by the write, ADR 0007); PUBLIC names them by reference.
    written = write_leads(Graph(driver, settings.neo4j_database), payloads)
    markings = {}
    for model, keys, w in zip(payloads, keys_of, written, strict=True):
        markings[w.lead_id] = LeadMarking.from_lead(model, entity_keys=keys, lead_id=w.lead_id)
        PUBLIC[f"{model.source_agency.value}:{model.source_ref}"] = w.lead_id
    yield markings
    reset_database(Graph(driver, settings.neo4j_database))


PUBLIC: dict[str, str] = {}


def _grants(name: str) -> list:
    """GRANT_CASES[name] naming the public ids of the leads they name by reference."""
    return [g.model_copy(update={"lead_ids": [PUBLIC[i] for i in g.lead_ids]})
            if isinstance(g, GuestGrant) else g.model_copy(update={"lead_id": PUBLIC[g.lead_id]})
            for g in GRANT_CASES[name]]


def _levels(driver, access, expression=None):
    records = driver.execute_query(
        f"MATCH (l:Lead) WHERE l.lead_id STARTS WITH $p RETURN l.lead_id AS id, "
        f"{expression or access.case_expression} AS level",
        {"p": "", **access.params}, database_="neo4j",
    ).records
    return {r["id"]: r["level"] for r in records}


def _category(level: str) -> str:
    return level if level in (HIT, NONE, "full") else "redacted"


GRANT_CASES = {
    "none": [],
    "guest": [GuestGrant(grant_id="g1", grantee_user_id="gendarmerie:u", lead_ids=["police:ACC-1"],
                         entity_keys=["vehicle:AB-123-CD"], valid_from=NOW - timedelta(days=1),
                         valid_until=NOW + timedelta(days=1), granted_by="police:chef")],
    "disclosure": [DisclosureGrant(grant_id="d1", lead_id="police:ACC-8", requester_user_id="gendarmerie:u",
                                   owner_agency="police", approved_by="police:chef",
                                   approved_at=NOW - timedelta(hours=1))],
    # Graded releases (ADR 0023): with and without linked entities withheld, on leads of every
    # code, restriction and embargo of the first agency.
    "graded": [DisclosureGrant(grant_id=f"d{i}", lead_id=f"{AGENCIES[0]}:ACC-{i}",
                               requester_user_id="gendarmerie:u", owner_agency=AGENCIES[0],
                               approved_by="x", approved_at=NOW - timedelta(hours=1),
                               released_groups=[["place", "vehicles"], ["narrative"],
                                                None][i % 3]) for i in range(0, 72, 2)],
}


@pytest.mark.parametrize("grants", list(GRANT_CASES), ids=list(GRANT_CASES))
@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("caller_agency", ["gendarmerie", "police"])
def test_cypher_levels_match_the_reference_evaluator(driver, marked_leads, role, caller_agency, grants):
    policy = load_policy()
    principal = Principal(user_id="gendarmerie:u" if caller_agency == "gendarmerie" else "police:u",
                          name="u", agency=caller_agency, role=role)
    scope = compile_scope(caller_of(principal), policy, _grants(grants), now=NOW)
    access = graph_access.compile_scope(scope)
    access.params["acc_as_of"] = NOW
    levels = _levels(driver, access)
    # The lead read's own levels: a release withholding linked entities is a hit elsewhere.
    detail = _levels(driver, access, access.detail_case_expression)
    assert set(levels) == set(marked_leads)
    mismatches = []
    for lead_id, marking in marked_leads.items():
        expected = scope_outcome(scope, marking)
        links = set(expected.hidden_properties) & set(graph_access.LINK_FIELDS)
        generic = HIT if expected.outcome is Outcome.REDACTED and links else expected.outcome.value
        if _category(levels[lead_id]) != generic:
            mismatches.append((lead_id, generic, levels[lead_id]))
        got = detail[lead_id]
        if _category(got) != expected.outcome.value:
            mismatches.append((lead_id, expected.outcome.value, got))
        elif expected.outcome is Outcome.REDACTED:
            hidden = set(access.redacted_properties(got))
            if not set(expected.hidden_properties) <= hidden:
                mismatches.append((lead_id, expected.hidden_properties, sorted(hidden)))
    assert not mismatches, mismatches[:10]
