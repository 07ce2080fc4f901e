"""Ingest API against the real graph: outcomes, idempotence, version ordering, batch bounds,
authentication and per-item validation errors."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import lead, public_id, pseudonym

pytestmark = pytest.mark.usefixtures("clean_graph")


def _settled(driver, timeout_s: float = 20.0) -> None:
    """Wait until the hub's triage worker has drained what ingest left pending (bounded)."""
    import time

    deadline = time.monotonic() + timeout_s
    while driver.execute_query("MATCH (l:TriagePending) RETURN count(l) AS n").records[0]["n"]:
        assert time.monotonic() < deadline, "triage did not drain"
        time.sleep(0.1)


def _lead_count(driver, ref: str | None = None) -> int:
    query = "MATCH (l:Lead) WHERE $ref IS NULL OR l.source_ref = $ref RETURN count(l) AS n"
    return driver.execute_query(query, ref=ref, database_="neo4j").records[0]["n"]


def test_created_then_replay_is_unchanged_and_creates_nothing(make_connector, driver):
    police = make_connector("police")
    item = lead(vehicles=[{"plate": "AB-123-CD"}], phones=["06 12 34 56 78"])
    first = police.push([item])
    assert first.status_code == 200, first.text
    assert first.json()["results"][0]["outcome"] == "created"
    _settled(driver)  # triage adds its status nodes just after the acknowledgement
    domain_nodes = "MATCH (n) WHERE NOT n:Nonce RETURN count(n) AS n"  # nonces are bookkeeping
    before = driver.execute_query(domain_nodes).records[0]["n"]
    rels_before = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n").records[0]["n"]

    replay = police.push([item])
    assert replay.json()["results"][0]["outcome"] == "unchanged"
    _settled(driver)
    after = driver.execute_query(domain_nodes).records[0]["n"]
    rels_after = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n").records[0]["n"]
    assert after == before
    assert rels_after == rels_before


def test_newer_version_updates_and_replaces_links(make_connector, driver):
    police = make_connector("police")
    v1 = lead(version=1, vehicles=[{"plate": "AB-123-CD"}])
    v2 = {**v1, "version": 2, "vehicles": [{"plate": "EF-456-GH"}], "narrative": "Mise à jour."}
    assert police.push([v1]).json()["results"][0]["outcome"] == "created"
    res = police.push([v2]).json()["results"][0]
    assert res["outcome"] == "updated" and res["held_version"] == 1
    rows = driver.execute_query(
        "MATCH (l:Lead {source_ref: $ref})-[:MENTIONS_VEHICLE]->(v) RETURN l.version AS v, "
        "l.narrative AS n, collect(v.plate) AS plates", ref=v1["source_ref"]).records
    assert rows[0]["v"] == 2 and rows[0]["n"] == "Mise à jour." and rows[0]["plates"] == ["EF-456-GH"]


def test_older_version_is_reported_stale_and_ignored(make_connector, driver):
    police = make_connector("police")
    v3 = lead(version=3, narrative="Version 3.")
    v2 = {**v3, "version": 2, "narrative": "Version 2."}
    police.push([v3])
    res = police.push([v2]).json()["results"][0]
    assert res["outcome"] == "stale" and res["held_version"] == 3
    held = driver.execute_query("MATCH (l:Lead {source_ref: $ref}) RETURN l.narrative AS n",
                                ref=v3["source_ref"]).records[0]["n"]
    assert held == "Version 3."


def test_same_version_with_other_content_is_rejected(make_connector):
    police = make_connector("police")
    item = lead()
    police.push([item])
    res = police.push([{**item, "narrative": "Autre texte."}]).json()["results"][0]
    assert res["outcome"] == "rejected"
    assert res["errors"][0]["field"] == "leads[0].version"


def test_versions_within_one_batch_are_ordered(make_connector, driver):
    police = make_connector("police")
    v1 = lead(version=1, narrative="Un.")
    v3 = {**v1, "version": 3, "narrative": "Trois."}
    v2 = {**v1, "version": 2, "narrative": "Deux."}
    results = police.push([v1, v3, v2]).json()["results"]
    assert [r["outcome"] for r in results] == ["created", "updated", "stale"]
    assert _lead_count(driver, v1["source_ref"]) == 1
    held = driver.execute_query("MATCH (l:Lead {source_ref: $ref}) RETURN l.version AS v",
                                ref=v1["source_ref"]).records[0]["v"]
    assert held == 3


def test_mixed_batch_writes_valid_items_and_rejects_each_invalid_one(make_connector, driver):
    police = make_connector("police")
    good1, good2 = lead(), lead()
    bad_plate = lead(vehicles=[{"plate": "ZZ-000-ZZ"}])
    bad_time = lead(reported_at="2025-07-29T08:00:00")
    resp = police.push([good1, bad_plate, good2, bad_time])
    assert resp.status_code == 200
    body = resp.json()
    assert body["accepted"] == 2 and body["rejected"] == 2
    outcomes = [r["outcome"] for r in body["results"]]
    assert outcomes == ["created", "rejected", "created", "rejected"]
    assert body["results"][1]["errors"][0]["field"] == "leads[1].vehicles[0].plate"
    assert "000" in body["results"][1]["errors"][0]["reason"]
    assert body["results"][3]["errors"][0]["field"] == "leads[3].reported_at"
    assert "fuseau" in body["results"][3]["errors"][0]["reason"]
    assert _lead_count(driver) == 2
    assert _lead_count(driver, bad_plate["source_ref"]) == 0


def test_batch_beyond_bound_is_413_and_writes_nothing(make_connector, driver, hub_settings):
    police = make_connector("police")
    resp = police.push([lead() for _ in range(hub_settings.max_batch_size + 1)])
    assert resp.status_code == 413
    assert resp.json()["code"] == "payload_too_large"
    assert _lead_count(driver) == 0


def test_envelope_errors_name_the_field(make_connector):
    police = make_connector("police")
    resp = police.post_raw(b'{"items": []}')
    assert resp.status_code == 422
    fields = {d["field"] for d in resp.json()["details"]}
    assert "leads" in fields
    resp = police.post_raw(b"not json")
    assert resp.status_code == 422 and resp.json()["details"][0]["field"] == "(corps)"


def test_connector_cannot_push_another_agencys_leads(make_connector, driver):
    police = make_connector("police")
    resp = police.push([lead(source_agency="douanes", source_ref="DR-1")])
    result = resp.json()["results"][0]
    assert result["outcome"] == "rejected"
    assert result["errors"][0]["field"] == "leads[0].source_agency"
    assert _lead_count(driver) == 0


def test_no_token_is_401_everywhere_but_healthz(client):
    assert client.get("/healthz").status_code == 200
    for method, path in [("POST", "/api/v1/leads"), ("GET", "/api/v1/leads/police:X"),
                         ("GET", "/api/v1/entities/vehicle/AB-123-CD/network"),
                         ("GET", "/api/v1/connectors")]:
        resp = client.request(method, path)
        assert resp.status_code == 401, (method, path)
        assert resp.json()["code"] == "not_authenticated"
        assert client.request(method, path, headers={"Authorization": "Bearer chx_nope"}).status_code == 401


def test_unsigned_push_is_401_and_replayed_nonce_is_409(make_connector, driver):
    police = make_connector("police")
    body = json.dumps({"leads": [lead()]}).encode()
    unsigned = police.post_raw(body, headers={"Authorization": f"Bearer {police.token}"})
    assert unsigned.status_code == 401
    assert "X-CrossHub" in unsigned.json()["message"]
    headers = police.signed_headers(body)
    assert police.post_raw(body, headers).status_code == 200
    replay = police.post_raw(body, headers)
    assert replay.status_code == 409 and replay.json()["code"] == "replay_detected"
    tampered = police.signed_headers(body)
    assert police.post_raw(body.replace(b"hall 3", b"hall 4"), tampered).status_code == 401


def test_analyst_may_not_ingest(client, make_user):
    resp = client.post("/api/v1/leads", json={"leads": [lead()]}, headers=make_user("police", "analyst"))
    assert resp.status_code == 403


def test_raw_personal_data_is_refused(make_connector, driver):
    police = make_connector("police")
    items = [
        lead(narrative="Le déclarant joignable au 06 12 34 56 78."),
        lead(reporter_name="Jean Dupont"),
        lead(persons=[{"pseudonym": "DUPONT Jean", "role": "seller"}]),
        lead(narrative="Écrire à jean.dupont@example.org"),
        lead(persons=[{"pseudonym": pseudonym("Dupont"), "role": "seller"}]),
    ]
    results = police.push(items).json()["results"]
    assert [r["outcome"] for r in results] == ["rejected"] * 4 + ["created"]
    assert results[0]["errors"][0]["field"] == "leads[0].narrative"
    assert results[1]["errors"][0]["field"] == "leads[1].reporter_name"
    assert results[2]["errors"][0]["field"] == "leads[2].persons[0].pseudonym"
    assert results[3]["errors"][0]["field"] == "leads[3].narrative"


def test_ingest_scores_leads_and_notifies_both_agencies_of_a_cross_agency_link(
        make_connector, client, make_user, driver):
    police, douanes = make_connector("police"), make_connector("douanes")
    police.push([lead(source_ref="LINK-P", vehicles=[{"plate": "KL-321-MN"}], narrative="Récit police.",
                      location={"insee_code": "25056", "commune": "Besançon", "address": "Rue de Dole"})])
    douanes.push([lead(source_agency="douanes", source_ref="LINK-D", kind="stop_check",
                       channel="customs_control", handling_code="H1",
                       vehicles=[{"plate": "KL-321-MN"}], narrative="Récit douane.",
                       location={"insee_code": "25388", "commune": "Montbéliard", "place_label": "A36"})])
    import time

    for agency, other_label in (("police", "Douanes"), ("douanes", "Police")):
        headers = make_user(agency, "analyst")
        deadline = time.monotonic() + 20  # triage runs right after the acknowledgement
        while True:
            notes = client.get("/api/v1/notifications", headers=headers).json()
            links = [n for n in notes if n["kind"] == "cross_agency_link"]
            if links or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(links) == 1, notes
        assert "KL-321-MN" in links[0]["message"] and other_label in links[0]["message"]
        assert "Récit" not in links[0]["message"]  # who holds how many, never what
    triage = client.get(f"/api/v1/leads/{public_id(driver, 'police', 'LINK-P')}/triage?justification=PV-2025-9",
                        headers=make_user("police", "analyst")).json()
    assert 0 < triage["score"] <= 100 and triage["computed_on_read"] is False
    assert any(c["met"] for c in triage["precision"]["criteria"])  # scored at ingest, with reasons
    pending = driver.execute_query("MATCH (l:TriagePending) RETURN count(l) AS n").records[0]["n"]
    assert pending == 0  # the worker drained the queue


# --- opaque public ids (ADR 0007) ----------------------------------------------------------------


def test_acknowledgement_gives_an_opaque_id_stable_across_versions_and_the_source_ref(
        make_connector, driver):
    police = make_connector("police")
    v1 = lead(source_ref="PN-25-2025-000433", version=1)
    first = police.push([v1]).json()["results"][0]
    assert first["outcome"] == "created" and first["source_ref"] == "PN-25-2025-000433"
    lead_id = first["lead_id"]
    assert re.fullmatch(r"L-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", lead_id)
    assert "PN-25" not in lead_id and "police" not in lead_id
    # A new version, a replay, a stale version and a conflicting one: all name the same lead.
    v2 = {**v1, "version": 2, "narrative": "Mise à jour."}
    v2_other = {**v1, "version": 2, "narrative": "Autre contenu."}
    results = police.push([v2, v2, v1, v2_other]).json()["results"]
    assert [r["outcome"] for r in results] == ["updated", "unchanged", "stale", "rejected"]
    assert {r["lead_id"] for r in results} == {lead_id}
    assert {r["source_ref"] for r in results} == {"PN-25-2025-000433"}
    assert public_id(driver, "police", "PN-25-2025-000433") == lead_id
    # Another agency's identical reference is another lead.
    gendarmerie = make_connector("gendarmerie")
    other = gendarmerie.push([lead(source_agency="gendarmerie", source_ref="PN-25-2025-000433")])
    assert other.json()["results"][0]["lead_id"] != lead_id
    # Every stored lead id (relationships, the seizure) is the public one.
    stored = driver.execute_query(
        "MATCH (l:Lead {lead_id: $id})-[r]->() RETURN collect(DISTINCT r.lead_id) AS ids",
        id=lead_id).records[0]["ids"]
    assert stored == [lead_id]


def test_a_rejected_item_names_its_source_ref_not_an_id(make_connector):
    police = make_connector("police")
    resp = police.push([lead(source_agency="douanes", source_ref="DZ-STRAY")]).json()
    [result] = resp["results"]
    assert result["outcome"] == "rejected" and result["source_ref"] == "DZ-STRAY"
    assert result["lead_id"] is None


def test_collection_is_audited_under_the_internal_source_key(make_connector, hub_settings):
    from hub.audit import AuditFilters, query

    police = make_connector("police")
    police.push([lead(source_ref="AUD-COLL-1")])
    [entry] = query(hub_settings.audit_dir, AuditFilters(action="collection", lead_id="police|AUD-COLL-1"))
    assert entry.lead_ids == ["police|AUD-COLL-1"]
