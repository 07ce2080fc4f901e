"""Exports of an entity's network: each format parses, holds exactly the nodes the caller may
read (the same as the on-screen network), never a hidden lead, carries its handling code, and is
audited as a disclosure to the caller."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
import zipfile

import pytest
from fastapi.testclient import TestClient

from graph.driver import reset_database
from graph.handle import Graph
from graph.leads import write_leads
from graph.models import Network, NetworkEdge, NetworkNode
from hub.audit import AuditFilters, query
from hub.contract.lead import Lead
from hub.exports import ExportFormat, export, handling_code
from hub.exports.ftm import SCHEMAS, ftm_id, to_entities
from tests.factories import lead, pseudonym
from tests.second_factor import stepped_up

GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
X = pseudonym("Martin", "Alex")
SECRET = "Récit réservé au service émetteur"
IDS: dict[str, str] = {}  # source_ref -> the lead id the graph gave it (module fixture ``world``)


@pytest.fixture(scope="module")
def world(driver, settings):
    """Plate AB-123-CD: police A (H1, person X, phone), gendarmerie B (H1, narrative), customs C
    (H2: a hit for analysts), gendarmerie D (H3: nothing for other agencies); police E shares
    person X (depth 2)."""
    db = settings.neo4j_database
    reset_database(Graph(driver, db))
    leads = [
        lead(source_ref="A", vehicles=[{"plate": "AB-123-CD", "make": "Peugeot"}], phones=["0612345678"],
             persons=[{"pseudonym": X, "role": "driver"}], handling_code="H1"),
        lead(source_agency="gendarmerie", source_ref="B", kind="stop_check", vehicles=[{"plate": "AB-123-CD"}],
             narrative=SECRET, handling_code="H1",
             location={"insee_code": "25462", "commune": "Pontarlier", "address": "Rue de la Gare"}),
        lead(source_agency="douanes", source_ref="C", kind="seizure", channel="customs_control", handling_code="H2",
             vehicles=[{"plate": "AB-123-CD"}], location={"insee_code": "25388", "commune": "Montbéliard",
                                                          "place_label": "A36 péage"},
             seizure={"substances": [{"substance": "cocaine", "quantity": "1.2", "unit": "kg"}], "cash_eur": "6515"}),
        lead(source_agency="gendarmerie", source_ref="D", handling_code="H3", vehicles=[{"plate": "AB-123-CD"}]),
        lead(source_ref="E", persons=[{"pseudonym": X, "role": "seller"}], handling_code="H0",
             location={"insee_code": "25056", "commune": "Besançon", "address": "Rue de Dole"}),
    ]
    # Lead ids are the graph's (opaque): taken from the write results, never built here.
    written = write_leads(Graph(driver, db), [Lead(**x) for x in leads])
    IDS.update({x["source_ref"]: w.lead_id for x, w in zip(leads, written, strict=True)})
    return driver


@pytest.fixture(scope="module")
def api(world, settings, tmp_path_factory):
    from hub.app import create_app

    own = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("exports-hub")})
    with TestClient(create_app(own)) as c:
        yield c, own


def _get(client, headers, fmt, depth=2, justification="enquête 2025/118"):
    return client.get(f"/api/v1/entities/vehicle/AB-123-CD/export?format={fmt}&depth={depth}"
                      f"&justification={justification}", headers=headers)


@pytest.fixture(scope="module")
def analyst(api, world, settings):
    from graph import identity

    user = identity.upsert_user(Graph(world, settings.neo4j_database), agency="police", role="analyst", name="export-pn")
    # Exporting needs a person's session with a fresh second factor (tests/second_factor.py).
    return stepped_up(api[0], user.user_id)


def _network(client, headers) -> Network:

    # The same read the export makes, for the same caller: what the screen shows.
    resp = client.get("/api/v1/entities/vehicle/AB-123-CD/network?depth=2&justification=enquête 2025/118",
                      headers=headers)
    if resp.status_code == 200:
        return Network(**resp.json())
    raise AssertionError(resp.text)


def test_every_format_parses_and_holds_exactly_the_visible_nodes(api, analyst):
    client, _ = api
    # The entities router is the app's own; the network it returns is the reference.
    net = _network(client, analyst)
    visible = {n.id for n in net.nodes}
    lead_ids = {n.key for n in net.nodes if n.kind == "lead"}
    # Police analyst: own A and E in full, gendarmerie B redacted, customs C (H2) a hit, D (H3) nothing.
    assert lead_ids == {IDS["A"], IDS["B"], IDS["E"]}
    assert [(h.agency, h.lead_count) for h in net.hits] == [("douanes", 1)]

    # CSV
    resp = _get(client, analyst, "csv")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/zip"
    assert resp.headers["x-handling-code"] == "H1"
    z = zipfile.ZipFile(io.BytesIO(resp.content))
    assert set(z.namelist()) == {"nodes.csv", "edges.csv", "hits.csv", "LISEZMOI.txt"}
    nodes = list(csv.DictReader(io.StringIO(z.read("nodes.csv").decode("utf-8-sig"))))
    assert {r["id"] for r in nodes} == visible
    edges = list(csv.DictReader(io.StringIO(z.read("edges.csv").decode("utf-8-sig"))))
    assert edges and all(e["source"] in visible and e["target"] in visible for e in edges)
    hits = list(csv.DictReader(io.StringIO(z.read("hits.csv").decode("utf-8-sig"))))
    assert [(h["agency"], h["lead_count"]) for h in hits] == [("douanes", "1")]
    assert "H1" in z.read("LISEZMOI.txt").decode()
    b = next(r for r in nodes if r["id"] == f"lead:{IDS['B']}")
    assert b["access"].startswith("redacted") and SECRET not in z.read("nodes.csv").decode("utf-8-sig")

    # GraphML
    resp = _get(client, analyst, "graphml")
    root = ET.fromstring(resp.content)
    keys = {k.get("id"): (k.get("for"), k.get("attr.name"), k.get("attr.type")) for k in root.iter(f"{GRAPHML}key")}
    graph = root.find(f"{GRAPHML}graph")
    assert {n.get("id") for n in graph.iter(f"{GRAPHML}node")} == visible
    assert all(e.get("source") in visible and e.get("target") in visible for e in graph.iter(f"{GRAPHML}edge"))
    types = {name: t for (domain, name, t) in keys.values() if domain == "node"}
    assert types["label"] == "string" and types["version"] == "long" and types["lat"] == "double"
    for data in root.iter(f"{GRAPHML}data"):
        domain, name, attr_type = keys[data.get("key")]
        if attr_type == "double":
            float(data.text)
        elif attr_type == "long":
            int(data.text)
    assert SECRET.encode() not in resp.content

    # ANX
    resp = _get(client, analyst, "anx")
    chart = ET.fromstring(resp.content)
    assert chart.tag == "Chart" and chart.get("IdReferenceLinking") == "true"
    entities = {e.get("EntityId") for e in chart.iter("Entity")}
    assert entities == visible
    for item in chart.find("ChartItemCollection"):
        assert item.tag == "ChartItem"
        end, link = item.find("End"), item.find("Link")
        assert (end is None) != (link is None)
        if link is not None:
            assert link.get("End1Id") in entities and link.get("End2Id") in entities
            assert link.find("LinkStyle") is not None
        else:
            assert end.find("Entity/Icon/IconStyle").get("Type")
    declared = {c.get("Name") for c in chart.iter("AttributeClass")}
    assert all(a.get("AttributeClass") in declared for a in chart.iter("Attribute"))
    assert {t.get("Name") for t in chart.iter("EntityType")} >= {"Car", "Person", "Report"}

    # FollowTheMoney
    resp = _get(client, analyst, "ftm")
    lines = [json.loads(line) for line in resp.content.decode().splitlines()]
    ids = {e["id"] for e in lines}
    assert all(set(e) == {"id", "schema", "properties"} and e["schema"] in SCHEMAS for e in lines)
    assert all(isinstance(v, list) and all(isinstance(x, str) for x in v)
               for e in lines for v in e["properties"].values())
    events = {e["id"] for e in lines if e["schema"] == "Event"}
    assert events == {ftm_id(f"lead:{i}") for i in lead_ids}
    mapped = {n.id for n in net.nodes if n.kind in ("lead", "vehicle", "person", "location", "deal_point")}
    assert {ftm_id(i) for i in mapped} <= ids
    for e in lines:
        for prop in ("involved", "addressEntity", "subject", "object", "entity"):
            assert set(e["properties"].get(prop, [])) <= ids, (e, prop)
        if e["schema"] in ("Event", "Vehicle", "Person", "Note"):
            assert e["properties"].get("name"), e  # FtM requires a name on Things
    person = next(e for e in lines if e["schema"] == "Person")
    assert person["properties"]["name"] == [f"Personne {X.rsplit(':', 1)[-1][:8]}"]
    event_a = next(e for e in lines if e["id"] == ftm_id(f"lead:{IDS['A']}"))
    assert event_a["properties"]["phoneMentioned"] == ["+33612345678"]
    assert IDS["C"] not in resp.content.decode() and IDS["D"] not in resp.content.decode()


def test_export_is_justified_and_audited_as_a_disclosure(api, analyst):
    client, own = api
    missing = client.get("/api/v1/entities/vehicle/AB-123-CD/export?format=csv", headers=analyst)
    assert missing.status_code == 400 and missing.json()["details"][0]["field"] == "justification"
    bad = client.get("/api/v1/entities/vehicle/AB-123-CD/export?format=pdf&justification=enquête 2025/118",
                     headers=analyst)
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "query.format"
    assert _get(client, analyst, "graphml", justification="réquisition 77").status_code == 200
    entries = query(own.audit_dir, AuditFilters(action="disclosure", user_id="police:export-pn"))
    latest = entries[0]
    assert latest.recipients == ["police:export-pn"] and latest.justification == "réquisition 77"
    assert set(latest.lead_ids) == {IDS["A"], IDS["B"], IDS["E"]}
    assert latest.details["format"] == "graphml" and latest.details["hits"] == 1
    assert latest.decision.outcome == "redacted"


def test_serializers_on_a_hand_built_network():
    net = Network(anchor="vehicle:AB-123-CD", depth=1, nodes=[
        NetworkNode(id="vehicle:AB-123-CD", kind="vehicle", key="AB-123-CD", label="AB-123-CD",
                    properties={"plate": "AB-123-CD"}),
        NetworkNode(id="lead:police:A", kind="lead", key="police:A", label="x",
                    properties={"lead_id": "police:A", "agency": "police", "kind": "seizure",
                                "handling_code": "H2", "access": "full", "version": 1}),
        NetworkNode(id="seizure:police:A:seizure", kind="seizure", key="police:A:seizure", label="Saisie police:A",
                    properties={"cash_eur": 8300.0, "weapon_count": 2, "packaging_material": True}),
        NetworkNode(id="substance:heroin", kind="substance", key="heroin", label="heroin", properties={}),
    ], edges=[
        NetworkEdge(source="lead:police:A", target="vehicle:AB-123-CD", type="MENTIONS_VEHICLE", agency="police",
                    lead_id="police:A"),
        NetworkEdge(source="lead:police:A", target="seizure:police:A:seizure", type="RECORDED", agency="police",
                    lead_id="police:A"),
        NetworkEdge(source="seizure:police:A:seizure", target="substance:heroin", type="OF_SUBSTANCE",
                    agency="police", lead_id="police:A", properties={"quantity": 720.0, "unit": "g"}),
    ])
    assert handling_code(net) == "H2"
    entities = to_entities(net)
    note = next(e for e in entities if e["schema"] == "Note")
    assert "8300.0 €" in note["properties"]["description"][0] and "heroin 720.0 g" in note["properties"]["description"][0]
    link = next(e for e in entities if e["schema"] == "UnknownLink")
    assert link["properties"]["subject"] == [ftm_id("lead:police:A")]
    assert link["properties"]["object"] == [ftm_id("vehicle:AB-123-CD")]
    root = ET.fromstring(export(net, ExportFormat.GRAPHML).content)
    keys = {(k.get("for"), k.get("attr.name")): k.get("attr.type") for k in root.iter(f"{GRAPHML}key")}
    assert keys[("node", "packaging_material")] == "boolean" and keys[("edge", "quantity")] == "double"
    assert keys[("node", "weapon_count")] == "long" and keys[("graph", "handling_code")] == "string"
    anx = ET.fromstring(export(net, ExportFormat.ANX).content)
    assert len(anx.find("ChartItemCollection")) == 4 + 3
    assert any(p.get("Name") == "Code de traitement" and p.get("Value") == "H2" for p in anx.iter("CustomProperty"))
