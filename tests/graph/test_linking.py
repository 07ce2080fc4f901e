"""Each entity-linking rule of graph/leads.py, written straight through ``write_leads`` into the
real graph, with the expected nodes and links spelled out."""

from __future__ import annotations

import pytest

from graph.handle import Graph
from graph.leads import write_leads
from hub.contract.lead import Lead
from tests.factories import BESANCON, lead, pseudonym

pytestmark = pytest.mark.usefixtures("clean_graph")


def _write(driver, *payloads, radius_m: float = 50.0):
    return write_leads(Graph(driver, "neo4j"), [Lead.model_validate(p) for p in payloads], radius_m=radius_m)


def _q(driver, query: str, **params):
    return [r.data() for r in driver.execute_query(query, params, database_="neo4j").records]


def test_one_vehicle_per_normalized_plate_across_agencies(driver):
    _write(driver,
           lead(source_agency="police", vehicles=[{"plate": "ab 123 cd", "make": "Peugeot"}]),
           lead(source_agency="douanes", source_ref="DR-1", kind="stop_check", channel="customs_control",
                vehicles=[{"plate": "AB-123-CD"}]))
    rows = _q(driver, "MATCH (v:Vehicle) OPTIONAL MATCH (l:Lead)-[r:MENTIONS_VEHICLE]->(v) "
                      "RETURN v.plate AS plate, collect(r.agency) AS agencies")
    assert len(rows) == 1
    assert rows[0]["plate"] == "AB-123-CD"
    assert sorted(rows[0]["agencies"]) == ["douanes", "police"]


def test_fni_plate_links_whatever_its_spacing(driver):
    _write(driver, lead(vehicles=[{"plate": "1234 AB 25"}]), lead(vehicles=[{"plate": "1234-ab-25"}]))
    assert _q(driver, "MATCH (v:Vehicle) RETURN v.plate AS p") == [{"p": "1234-AB-25"}]


def test_one_phone_per_e164_number(driver):
    _write(driver, lead(phones=["06 12 34 56 78"]),
           lead(source_agency="gendarmerie", source_ref="GN-1", phones=["+33612345678"]))
    rows = _q(driver, "MATCH (p:Phone)<-[r:MENTIONS_PHONE]-(l) RETURN p.number AS n, "
                      "collect(r.agency) AS agencies")
    assert rows == [{"n": "+33612345678", "agencies": rows[0]["agencies"]}]
    assert sorted(rows[0]["agencies"]) == ["gendarmerie", "police"]


def test_one_person_per_pseudonym_with_role_on_the_link_and_aliases_joined(driver):
    token = pseudonym("Martin", "Kevin")
    old = "ps1:k0:" + "a" * 64
    _write(driver,
           lead(persons=[{"pseudonym": token, "role": "seller",
                          "description": {"sex": "male", "height_cm": 180, "clothing": "survêtement noir"}}]),
           lead(source_agency="gendarmerie", source_ref="GN-2",
                persons=[{"pseudonym": token, "role": "courier", "aliases": [old]}]))
    rows = _q(driver, "MATCH (p:Person {pseudonym: $t})<-[r:INVOLVES]-(l:Lead) "
                      "RETURN r.role AS role, r.agency AS agency, r.height_cm AS h ORDER BY agency",
              t=token)
    assert rows == [{"role": "courier", "agency": "gendarmerie", "h": None},
                    {"role": "seller", "agency": "police", "h": 180}]
    assert _q(driver, "MATCH (:Person {pseudonym: $t})-[r:SAME_AS]->(a:Person) "
                      "RETURN a.pseudonym AS a, r.agency AS agency", t=token) == [
        {"a": old, "agency": "gendarmerie"}]
    assert _q(driver, "MATCH (p:Person) RETURN count(p) AS n") == [{"n": 2}]


def test_location_by_address_key_ignores_case_accents_and_abbreviations(driver):
    a = {**BESANCON, "address": "12 Av. de l'Île-de-France"}
    b = {**BESANCON, "address": "12 avenue de l'ile de france"}
    _write(driver, lead(location=a), lead(location=b))
    rows = _q(driver, "MATCH (loc:Location)<-[:AT]-(l:Lead) RETURN loc.key AS key, count(l) AS n")
    assert rows == [{"key": "addr:25056:12 avenue de l ile de france", "n": 2}]


def test_points_within_radius_are_one_location_beyond_are_two(driver):
    base = {"lat": 47.22050, "lon": 5.97100}
    near = {"lat": 47.22080, "lon": 5.97100}  # ~33 m north
    far = {"lat": 47.22200, "lon": 5.97100}  # ~167 m north
    loc = lambda p: {**BESANCON, "point": p}  # noqa: E731
    _write(driver, lead(location=loc(base)))
    _write(driver, lead(location=loc(near)), lead(location=loc(far)))
    rows = _q(driver, "MATCH (loc:Location)<-[:AT]-(l:Lead) RETURN loc.key AS key, count(l) AS n "
                      "ORDER BY key")
    assert [r["n"] for r in rows] == [2, 1]
    # Two close points new to the graph and sent in one batch are clustered too.
    _write(driver, lead(location=loc({"lat": 47.25000, "lon": 6.02000})),
           lead(location=loc({"lat": 47.25010, "lon": 6.02010})))
    assert _q(driver, "MATCH (loc:Location) RETURN count(loc) AS n") == [{"n": 3}]


def test_commune_only_location_and_commune_node(driver):
    _write(driver, lead(location=BESANCON), lead(location={**BESANCON, "address": "Grande Rue"}))
    rows = _q(driver, "MATCH (loc:Location)-[:IN_COMMUNE]->(c:Commune) "
                      "RETURN loc.key AS key, c.insee_code AS insee, c.departement AS dep ORDER BY key")
    assert rows == [{"key": "addr:25056:grande rue", "insee": "25056", "dep": "25"},
                    {"key": "commune:25056", "insee": "25056", "dep": "25"}]


def test_seizure_links_to_its_lead_place_and_substances_with_normalized_quantities(driver):
    _write(driver, lead(
        source_agency="police", source_ref="PN-PERSEIGNE", kind="search", channel="investigation",
        location={"insee_code": "61001", "commune": "Alençon", "place_label": "Quartier de Perseigne"},
        seizure={"substances": [{"substance": "cannabis_resin", "quantity": "5.4", "unit": "kg"},
                                {"substance": "heroin", "quantity": "720", "unit": "g"},
                                {"substance": "crack", "quantity": "150000", "unit": "mg"}],
                 "cash_eur": "8300", "weapons": [{"kind": "handgun", "count": 2}],
                 "packaging_material": True}))
    rows = _q(driver, "MATCH (l:Lead {source_key: 'police|PN-PERSEIGNE'})-[:RECORDED]->(s:Seizure)"
                      "-[q:OF_SUBSTANCE]->(sub:Substance) "
                      "MATCH (s)-[:AT]->(loc:Location) "
                      "RETURN sub.code AS code, q.quantity AS qty, q.unit AS unit, q.agency AS agency, "
                      "s.cash_eur AS cash, s.weapon_count AS weapons, loc.key AS loc ORDER BY code")
    assert [(r["code"], r["qty"], r["unit"]) for r in rows] == [
        ("cannabis_resin", 5400.0, "g"), ("crack", 150.0, "g"), ("heroin", 720.0, "g")]
    assert {r["agency"] for r in rows} == {"police"}
    assert rows[0]["cash"] == 8300.0 and rows[0]["weapons"] == 2
    assert rows[0]["loc"] == "place:61001:quartier de perseigne"


def test_deal_point_is_one_node_per_commune_and_label(driver):
    dp = {"insee_code": "25056", "label": "Hall 3, place Cassin"}
    _write(driver, lead(deal_point=dp),
           lead(source_agency="gendarmerie", source_ref="GN-3", deal_point={**dp, "label": "hall 3 place cassin"}))
    rows = _q(driver, "MATCH (d:DealPoint)<-[r:CONCERNS]-(:Lead) RETURN d.key AS key, count(r) AS n")
    assert rows == [{"key": "25056:hall 3 place cassin", "n": 2}]


def test_every_link_records_the_asserting_agency_and_lead(driver):
    _write(driver, lead(source_agency="gendarmerie", source_ref="GN-9", vehicles=[{"plate": "AB-123-CD"}],
                        phones=["0612345678"], substances=["cocaine"],
                        persons=[{"pseudonym": pseudonym("Durand"), "role": "buyer"}],
                        deal_point={"insee_code": "25056", "label": "Rue de Cologne"}))
    rows = _q(driver, "MATCH (l:Lead)-[r]->() WHERE type(r) <> 'PROVIDED_BY' "
                      "RETURN type(r) AS t, r.agency AS agency, r.lead_id AS lead, l.lead_id AS public")
    assert {r["t"] for r in rows} == {"AT", "MENTIONS_VEHICLE", "MENTIONS_PHONE", "REPORTS_SUBSTANCE",
                                      "INVOLVES", "CONCERNS"}
    # The lead's public (opaque) id, never its source reference (ADR 0007).
    assert all(r["agency"] == "gendarmerie" and r["lead"] == r["public"] for r in rows)
    assert all(r["lead"].startswith("L-") and "GN-9" not in r["lead"] for r in rows)
    assert _q(driver, "MATCH (l:Lead)-[:PROVIDED_BY]->(a:Agency) RETURN a.code AS a") == [{"a": "gendarmerie"}]


def test_chunks_write_the_same_graph_as_one_transaction(driver):
    payloads = [lead(vehicles=[{"plate": "AB-123-CD"}], phones=["0612345678"]) for _ in range(7)]
    write_leads(Graph(driver, "neo4j"), [Lead.model_validate(p) for p in payloads], chunk_size=3)
    assert _q(driver, "MATCH (v:Vehicle)<-[r]-(:Lead) RETURN count(DISTINCT v) AS v, count(r) AS r") == [
        {"v": 1, "r": 7}]
