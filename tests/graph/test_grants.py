"""graph/grants/ against the real graph: the exact validity windows ``active_grants_for``
honours, that it reads through the indexes the module declares, that a decision is taken
once even under concurrency, and that lead markings name entities as the network read does."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from graph import grants as g
from graph import identity
from graph.handle import Graph
from graph.leads import write_leads
from graph.setup import apply_schema
from hub.contract.errors import Conflict
from hub.contract.lead import Lead
from policies.loader import load_policy
from policies.models import DisclosureGrant, GuestGrant
from tests.factories import lead, public_id

POLICY = load_policy()
T0 = datetime(2025, 10, 14, 8, 0, tzinfo=UTC)


@pytest.fixture
def graph(clean_graph, settings):
    db = settings.neo4j_database
    apply_schema(Graph(clean_graph, db))
    write_leads(Graph(clean_graph, db), [Lead.model_validate(lead(
        source_ref="PN-1", handling_code="H2", vehicles=[{"plate": "AB-123-CD"}],
        phones=["0612345678"], deal_point={"insee_code": "25056", "label": "Hall 3"}))])
    identity.upsert_user(Graph(clean_graph, db), agency="prefecture", role="guest_referent", name="invite")
    return clean_graph, db


def _pn1(driver, db) -> str:
    """The public id of police:PN-1 (opaque since ADR 0007, drawn at ingest)."""
    return public_id(driver, "police", "PN-1", db)


def _guest(driver, db, uid, *, start, end, lead_ids=None):
    return g.create_guest_grant(Graph(driver, db), g.NewGuestGrant(
        grantee_user_id=uid, grantee_name="Invité", grantee_agency="prefecture",
        lead_ids=list(lead_ids) if lead_ids is not None else [_pn1(driver, db)], entity_keys=[], valid_from=start, valid_until=end,
        granted_by="gendarmerie:chef", granted_by_name="Chef", reason="Comité CROSS"), T0)


def _request(driver, db, uid, agency="gendarmerie"):
    return g.create_disclosure_request(
        Graph(driver, db), lead_id=_pn1(driver, db), requester_user_id=uid, requester_name="Analyste",
        requester_agency=agency, justification="PV 2025/1", now=T0)


def test_active_grants_honour_the_half_open_window(graph):
    driver, db = graph
    uid = "prefecture:invite"
    gg = _guest(driver, db, uid, start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2))
    _guest(driver, db, "prefecture:autre", start=T0, end=T0 + timedelta(days=1))

    def ids(at):
        return [x.grant_id for x in g.active_grants_for(Graph(driver, db), uid, at)]

    assert ids(T0) == []  # scheduled, not yet in force
    assert ids(T0 + timedelta(hours=1)) == [gg.grant_id]  # valid_from included
    assert ids(T0 + timedelta(hours=2) - timedelta(microseconds=1)) == [gg.grant_id]
    assert ids(T0 + timedelta(hours=2)) == []  # valid_until excluded

    g.revoke_guest_grant(Graph(driver, db), gg.grant_id, revoked_by="gendarmerie:chef",
                         revoked_by_name="Chef", reason=None, now=T0 + timedelta(minutes=90))
    assert ids(T0 + timedelta(hours=1)) == []  # revoked counts at any instant


def test_disclosures_count_from_approval_until_their_end(graph):
    driver, db = graph
    approved, declined = _request(driver, db, "gendarmerie:a"), _request(driver, db, "gendarmerie:b")
    at = T0 + timedelta(hours=1)
    g.decide_disclosure_request(Graph(driver, db), approved.request_id, approve=True,
                                decided_by="police:chef", decided_by_name="Chef",
                                decider_agency="police", decider_role="coordinator",
                                policy=POLICY, now=at, valid_until=at + timedelta(days=1))
    g.decide_disclosure_request(Graph(driver, db), declined.request_id, approve=False,
                                decided_by="police:chef", decided_by_name="Chef",
                                decider_agency="police", decider_role="coordinator",
                                policy=POLICY, now=at, reason="non")
    assert g.active_grants_for(Graph(driver, db), "gendarmerie:a", T0) == []  # before the approval
    [grant] = g.active_grants_for(Graph(driver, db), "gendarmerie:a", at)
    assert isinstance(grant, DisclosureGrant) and grant.owner_agency.value == "police"
    assert grant.approved_at == at and grant.valid_until == at + timedelta(days=1)
    assert g.active_grants_for(Graph(driver, db), "gendarmerie:a", at + timedelta(days=1)) == []
    assert g.active_grants_for(Graph(driver, db), "gendarmerie:b", at) == []


def test_active_grants_for_reads_through_indexes(graph):
    driver, db = graph
    _guest(driver, db, "prefecture:invite", start=T0, end=T0 + timedelta(days=1))
    with driver.session(database=db) as session:
        plan = session.run("EXPLAIN " + _active_query(), uid="x", now=T0).consume().plan
    # Every place the plan starts reading from is an index seek: no label or full scan, so the
    # cost follows the user's own grants, not the number of grants in the hub.
    # (EmptyRow is the outer RETURN's source: it reads nothing.)
    leaves = [op for op in _leaves(plan) if not op.startswith("EmptyRow")]
    assert leaves and all(op.startswith("NodeIndexSeek") for op in leaves), leaves


def _active_query() -> str:
    # The query active_grants_for runs (and the identity lookups embed).
    return "RETURN " + g.grants_projection("$uid")


def _leaves(plan) -> list[str]:
    children = plan.get("children", [])
    if not children:
        return [plan["operatorType"]]
    return [op for child in children for op in _leaves(child)]


def test_a_request_is_decided_once_even_concurrently(graph):
    driver, db = graph
    req = _request(driver, db, "gendarmerie:a")
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def decide(approve: bool) -> None:
        barrier.wait()
        try:
            g.decide_disclosure_request(Graph(driver, db), req.request_id, approve=approve,
                                        decided_by="police:x", decided_by_name="X",
                                        decider_agency="police", decider_role="analyst",
                                        policy=POLICY, now=T0, reason="motif")
            outcomes.append("approved" if approve else "declined")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=decide, args=(i % 2 == 0,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes).count("conflict") == 3, outcomes
    final = g.get_disclosure_request(Graph(driver, db), req.request_id)
    assert final.status.value in outcomes
    # Decided: the pending slot is free, a new request can be made.
    assert _request(driver, db, "gendarmerie:a").status.value == "requested"


def test_one_pending_request_per_requester_and_lead(graph):
    driver, db = graph
    _request(driver, db, "gendarmerie:a")
    with pytest.raises(Conflict):
        _request(driver, db, "gendarmerie:a")
    assert _request(driver, db, "douanes:b", agency="douanes").owner_agency == "police"


def test_lead_markings_name_entities_as_the_network_does(graph):
    driver, db = graph
    marking = g.lead_marking(Graph(driver, db), _pn1(driver, db))
    assert marking.lead_id == _pn1(driver, db)
    assert marking.originating_agency.value == "police" and marking.handling_code.value == "H2"
    assert {"vehicle:AB-123-CD", "phone:+33612345678"} <= set(marking.entity_keys)
    assert any(k.startswith("deal_point:25056:") for k in marking.entity_keys)
    assert any(k.startswith("location:") for k in marking.entity_keys)
    # Every key names an existing, grantable entity; agencies and substances never appear.
    assert g.existing_entity_keys(Graph(driver, db), marking.entity_keys) == set(marking.entity_keys)
    assert not any(k.startswith(("agency:", "substance:", "commune:")) for k in marking.entity_keys)
    assert g.lead_marking(Graph(driver, db), "police:NOPE") is None
    # A guest grant on the vehicle covers the lead in the engine's own terms.
    grant = GuestGrant(grant_id="x", grantee_user_id="u", entity_keys=["vehicle:AB-123-CD"],
                       valid_from=T0, valid_until=T0 + timedelta(days=1), granted_by="c")
    assert set(grant.entity_keys) & set(marking.entity_keys)
