"""Reads through the API: one lead, and the network around an entity as nodes and edges."""

from __future__ import annotations

import pytest

from tests.factories import LeadIds, lead, pseudonym

pytestmark = pytest.mark.usefixtures("clean_graph")


@pytest.fixture
def ids(driver):
    return LeadIds(driver)


@pytest.fixture
def chain(make_connector):
    """plate AB-123-CD seen by police (lead A, with phone P) and customs (lead B, with person X);
    phone P also in a gendarmerie lead C with vehicle EF-456-GH; person X in a police lead D."""
    police, douanes, gendarmerie = (make_connector(a) for a in ("police", "douanes", "gendarmerie"))
    x = pseudonym("Leroy", "Yanis")
    a = lead(source_ref="A", vehicles=[{"plate": "AB-123-CD"}], phones=["0612345678"])
    b = lead(source_agency="douanes", source_ref="B", kind="seizure", channel="customs_control",
             vehicles=[{"plate": "AB123CD", "make": "Renault", "model": "Clio"}],
             persons=[{"pseudonym": x, "role": "driver"}],
             seizure={"substances": [{"substance": "cannabis_resin", "quantity": "12", "unit": "kg"}]},
             location={"insee_code": "25388", "commune": "Montbéliard", "place_label": "A36 péage"})
    c = lead(source_agency="gendarmerie", source_ref="C", phones=["+33612345678"],
             vehicles=[{"plate": "EF-456-GH"}])
    d = lead(source_ref="D", persons=[{"pseudonym": x, "role": "seller"}],
             location={"insee_code": "25056", "commune": "Besançon", "address": "Rue de Dole"})
    for connector, item in ((police, a), (douanes, b), (gendarmerie, c), (police, d)):
        assert connector.push([item]).json()["results"][0]["outcome"] == "created"
    return {"x": x}


def test_read_lead_returns_its_links(client, make_user, chain, ids):
    resp = client.get(f"/api/v1/leads/{ids['douanes:B']}?justification=PV 2025/123", headers=make_user("police", "coordinator"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["source_agency"] == "douanes" and body["kind"] == "seizure"
    assert body["vehicles"] == [{"plate": "AB-123-CD", "make": "Renault", "model": "Clio",
                                 "colour": None, "kind": "car"}]
    assert body["persons"][0]["pseudonym"] == chain["x"] and body["persons"][0]["role"] == "driver"
    assert body["seizure"]["substances"] == [{"substance": "cannabis_resin", "quantity": 12000.0, "unit": "g"}]
    assert body["location"]["place_label"] == "A36 péage"


def test_unknown_lead_is_404_in_french(client, make_user):
    resp = client.get("/api/v1/leads/L-00000000-0000-0000-0000-000000000000?justification=PV 2025/123", headers=make_user())
    assert resp.status_code == 404 and "inconnue" in resp.json()["message"]


_NAMES = LeadIds.__new__(LeadIds)  # set per test by the ``named`` fixture


@pytest.fixture(autouse=True)
def named(ids):
    global _NAMES
    _NAMES = ids


def _name(node_id: str) -> str:
    """"lead:<public id>" as "lead:<agency>:<source_ref>" (what the assertions name)."""
    return f"lead:{_NAMES.name(node_id[5:])}" if node_id.startswith("lead:") else node_id


def _ids(network):
    return {_name(n["id"]) for n in network["nodes"]}


def test_network_depth_one_two_three(client, make_user, chain):
    h = make_user("police", "coordinator")
    d1 = client.get("/api/v1/entities/vehicle/ab 123 cd/network?depth=1&justification=enquete-123", headers=h).json()
    assert d1["anchor"] == "vehicle:AB-123-CD"
    assert {"lead:police:A", "lead:douanes:B", "phone:+33612345678", f"person:{chain['x']}"} <= _ids(d1)
    assert "lead:gendarmerie:C" not in _ids(d1) and "lead:police:D" not in _ids(d1)
    # Every edge joins two returned nodes and says which agency asserted it.
    ids = _ids(d1)
    assert all(_name(e["source"]) in ids and _name(e["target"]) in ids and e["agency"]
               for e in d1["edges"])
    assert {"source": "lead:douanes:B", "target": "vehicle:AB-123-CD", "type": "MENTIONS_VEHICLE"} in [
        {k: _name(e[k]) for k in ("source", "target", "type")} for e in d1["edges"]]

    d2 = client.get("/api/v1/entities/vehicle/AB-123-CD/network?depth=2&justification=enquete-123", headers=h).json()
    assert {"lead:gendarmerie:C", "lead:police:D"} <= _ids(d2)
    assert "vehicle:EF-456-GH" in _ids(d2)
    d3 = client.get("/api/v1/entities/vehicle/AB-123-CD/network?depth=3&justification=enquete-123", headers=h).json()
    assert _ids(d2) <= _ids(d3)


def test_network_does_not_expand_through_agencies_or_substances(client, make_user, chain):
    h = make_user("police", "coordinator")
    net = client.get("/api/v1/entities/substance/cannabis_resin/network?depth=2&justification=enquete-123", headers=h).json()
    # From the substance: its seizure's lead B and B's entities, then leads on those entities,
    # but never every lead of the agency douanes.
    assert "lead:douanes:B" in _ids(net)
    assert not any(n["kind"] == "agency" for n in net["nodes"])


def test_network_bounds_and_unknown_entity(client, make_user, chain):
    h = make_user("police", "coordinator")
    bad = client.get("/api/v1/entities/vehicle/AB-123-CD/network?depth=4&justification=enquete-123", headers=h)
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "query.depth"
    bad_kind = client.get("/api/v1/entities/spaceship/X/network?justification=enquete-123", headers=h)
    assert bad_kind.status_code == 422 and bad_kind.json()["details"][0]["field"] == "path.kind"
    bad_plate = client.get("/api/v1/entities/vehicle/NOT-A-PLATE/network?justification=enquete-123", headers=h)
    assert bad_plate.status_code == 422 and bad_plate.json()["details"][0]["field"] == "key"
    missing = client.get("/api/v1/entities/vehicle/ZZ-999-ZZ/network?justification=enquete-123", headers=h)
    assert missing.status_code == 404


def test_network_truncates_at_max_nodes(make_user, make_connector, hub_settings, tmp_path):
    """40 leads on one plate, each with its own phone: 80+ nodes at depth 1, read by an app
    whose chart holds at most 10 (its own settings copy, its own audit trail)."""
    from fastapi.testclient import TestClient

    from hub.app import create_app

    police = make_connector("police")
    resp = police.push([lead(vehicles=[{"plate": "GH-111-JK"}], phones=[f"06123400{i:02d}"])
                        for i in range(40)])
    assert resp.json()["accepted"] == 40, resp.text
    small = hub_settings.model_copy(update={"data_dir": tmp_path / "hub", "max_network_nodes": 10})
    with TestClient(create_app(small)) as client:
        net = client.get("/api/v1/entities/vehicle/GH-111-JK/network?depth=1&justification=enquete-123",
                         headers=make_user("police", "coordinator")).json()
    assert net["truncated"] is True, net
    assert len(net["nodes"]) <= small.max_network_nodes
    # Every edge joins nodes that are in the chart: nothing dangles past the cut.
    ids = {n["id"] for n in net["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in net["edges"])


def test_consultation_without_justification_is_400_naming_the_field(client, make_user, chain, ids):
    h = make_user("police", "coordinator")
    b = ids["douanes:B"]
    for path in (f"/api/v1/leads/{b}", "/api/v1/entities/vehicle/AB-123-CD/network",
                 f"/api/v1/leads/{b}?justification=%20%20"):
        resp = client.get(path, headers=h)
        assert resp.status_code == 400, path
        assert resp.json()["code"] == "missing_justification"
        assert resp.json()["details"][0]["field"] == "justification"


def test_consultations_and_collections_are_in_the_audit_trail(client, make_user, chain, hub_settings, ids):
    from hub.audit import AuditFilters, query

    h = make_user("gendarmerie", "coordinator", name="chef-audit")
    client.get(f"/api/v1/leads/{ids['douanes:B']}?justification=PV 2025/777", headers=h)
    entries = query(hub_settings.audit_dir, AuditFilters(user_id="gendarmerie:chef-audit"))
    assert len(entries) == 1
    e = entries[0]
    assert e.action == "consultation" and e.lead_ids == [ids["douanes:B"]]
    assert e.justification == "PV 2025/777" and e.actor.agency == "gendarmerie"
    # Collected before it had a public id: the entry names the internal source key.
    collected = query(hub_settings.audit_dir, AuditFilters(action="collection", lead_id="douanes|B"))
    assert collected and collected[0].actor.role == "connector"


def test_network_follows_only_the_requested_relationship_types(client, make_user, chain):
    h = make_user("police", "coordinator")
    net = client.get("/api/v1/entities/vehicle/AB-123-CD/network?depth=2&rel=MENTIONS_VEHICLE"
                     "&rel=INVOLVES&justification=enquete-123", headers=h).json()
    ids = _ids(net)
    # Through the driver person X to lead D; never through the phone to lead C.
    assert "lead:police:D" in ids and f"person:{chain['x']}" in ids
    assert "phone:+33612345678" not in ids and "lead:gendarmerie:C" not in ids
    assert {e["type"] for e in net["edges"]} <= {"MENTIONS_VEHICLE", "INVOLVES"}
    bad = client.get("/api/v1/entities/vehicle/AB-123-CD/network?rel=KNOWS&justification=enquete-123",
                     headers=h)
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "query.rel[0]"
