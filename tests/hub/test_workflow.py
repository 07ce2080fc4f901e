"""The lead workflow through the API, against the real graph, the real access policy and a real
audit trail: triage scores and duplicates, the lifecycle (409/422/403, attributed history,
audit), hit rates computed exactly, cross-agency link alerts told hit-style, deconfliction.

Leads are written with ``graph.leads.write_leads`` and triaged with ``after_ingest`` exactly as
the ingest route does after its write; one app for the module (its own audit trail); each test
starts from an empty graph."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from graph import identity
from graph import workflow as graph_workflow
from graph.handle import Graph
from graph.leads import write_leads
from hub.app import create_app
from hub.audit import AuditFilters, query
from hub.audit.events import actor_of
from hub.cli import workflow as workflow_cli
from hub.contract.lead import Lead
from hub.settings import Settings
from policies.audit import AuditAction
from policies.links import notices_for
from tests.factories import BESANCON, LeadIds, lead, pseudonym

pytestmark = pytest.mark.usefixtures("clean_graph")

J = "justification=PV 2025/0815"
PLATE = "AB-123-CD"


@pytest.fixture(scope="module")
def api(hub_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = hub_settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("workflow-hub")})
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def ingest(api: TestClient, driver):
    """Write leads as the ingest route does, then triage them; returns their ids."""
    db = api.app.state.settings.neo4j_database

    def run(*payloads: dict, connector: str | None = None) -> list[str]:
        leads = [Lead.model_validate(p) for p in payloads]
        ids = [w.lead_id for w in write_leads(Graph(driver, db), leads)]
        graph_workflow.after_ingest(api.app.state.graph, ids, datetime.now(UTC),
                                    rules=api.app.state.rulebook.triage, connector=connector)
        return ids

    return run


# Public lead ids are opaque (ADR 0007): tests name leads "agency:source_ref"; ``L`` maps.
L = LeadIds.__new__(LeadIds)


@pytest.fixture(autouse=True)
def _lead_ids(driver):
    global L
    L = LeadIds(driver)


def _id(name: str) -> str:
    """The public id of a lead named "agency:source_ref" (unknown names pass through)."""
    return L.get(name, name) if ":" in name else name


def _audit(api: TestClient, **filters) -> list:
    if "lead_id" in filters:
        filters["lead_id"] = _id(filters["lead_id"])
    return query(api.app.state.settings.audit_dir, AuditFilters(**filters))


# --- triage -------------------------------------------------------------------------------------


def test_scores_reasons_and_queue_order(api, ingest, make_user):
    precise = lead(source_ref="P1",
                   persons=[{"pseudonym": pseudonym("Leroy", "Yanis"), "role": "seller",
                             "description": {"clothing": "doudoune noire", "apparent_age_min": 18}}],
                   vehicles=[{"plate": PLATE, "make": "Renault", "model": "Clio"}])
    # Two more at the same address within 30 days, of other kinds (so not duplicates).
    p2 = lead(source_ref="P2", kind="surveillance", observed_at="2025-07-18T21:00:00+02:00",
              reported_at="2025-07-19T08:00:00+02:00")
    p3 = lead(source_ref="P3", kind="stop_check", observed_at="2025-07-08T21:00:00+02:00",
              reported_at="2025-07-09T08:00:00+02:00")
    vague = lead(source_ref="V", kind="citizen_report", channel="citizen_platform", observed_at=None,
                 location=dict(BESANCON))
    ingest(p3, p2, precise, vague)
    h = make_user("police", "analyst", name="analyste-tri")

    body = api.get(f"/api/v1/leads/{_id('police:P1')}/triage?{J}", headers=h).json()
    assert body["score"] == 100 and body["state"] == "new" and not body["computed_on_read"]
    assert [c["reason_fr"] for c in body["precision"]["criteria"]] == [
        "lieu précis (adresse)", "date et heure d'observation", "description physique",
        "véhicule décrit", "immatriculation", "schéma répété : 3 signalements au même lieu en 30 jours"]
    assert body["duplicates"] == []
    v = api.get(f"/api/v1/leads/{_id('police:V')}/triage?{J}", headers=h).json()
    assert v["score"] == 5 and v["precision"]["criteria"][0]["reason_fr"] == "commune seulement"

    queue = api.get("/api/v1/triage/queue?state=new&order=score", headers=h).json()
    # Highest score first (P2 and P3 tie: their order is their opaque ids').
    assert [i["score"] for i in queue] == [100, 60, 60, 5]
    assert sorted([(L.name(i["lead_id"]), i["score"]) for i in queue], key=lambda x: (-x[1], x[0])) == [
        ("police:P1", 100), ("police:P2", 60), ("police:P3", 60), ("police:V", 5)]
    assert queue[0]["channel"] == "patrol" and queue[0]["insee_code"] == "25056"
    # The consultation is in the trail, with its justification.
    entries = _audit(api, user_id="police:analyste-tri", lead_id="police:P1")
    assert any(e.justification == "PV 2025/0815" and e.details.get("step") == "triage" for e in entries)


def test_duplicates_flagged_and_hidden_ones_told_as_hits(api, ingest, make_user):
    rue = {**BESANCON, "address": "12 rue de Dole"}
    ingest(lead(source_ref="C1", kind="citizen_report", channel="citizen_platform", location=rue,
                observed_at="2025-07-28T20:00:00+02:00"))
    # Customs saw the same plate at the same place that evening, classed H2: police analysts get
    # only the hit on it.
    ingest(lead(source_agency="douanes", source_ref="D1", kind="citizen_report", channel="customs_control",
                location=rue, vehicles=[{"plate": PLATE}], handling_code="H2",
                observed_at="2025-07-28T21:00:00+02:00"))
    ingest(lead(source_ref="C2", kind="citizen_report", channel="citizen_platform", location=rue,
                vehicles=[{"plate": PLATE}], observed_at="2025-07-28T22:00:00+02:00"))
    h = make_user("police", "analyst")
    body = api.get(f"/api/v1/leads/{_id('police:C2')}/triage?{J}", headers=h).json()
    dups = {L.name(d["lead_id"]): d for d in body["duplicates"]}
    assert set(dups) == {"police:C1", "douanes:D1"}
    assert dups["police:C1"]["similarity"] == 70 and dups["police:C1"]["access"] == "full"
    assert dups["police:C1"]["reasons_fr"] == ["même nature (signalement citoyen)", "même lieu",
                                              "observées à 2 h d'intervalle"]
    # 20 kind + 30 place + 30 plate + 20 same day = 100, but told as a hit: no reasons.
    assert dups["douanes:D1"]["similarity"] == 100 and dups["douanes:D1"]["access"] == "hit"
    assert dups["douanes:D1"]["reasons_fr"] == [] and dups["douanes:D1"]["contact"]
    assert L.names(d["lead_id"] for d in body["duplicates"]) == ["douanes:D1", "police:C1"]
    # The earliest lead duplicates nothing.
    assert api.get(f"/api/v1/leads/{_id('police:C1')}/triage?{J}", headers=h).json()["duplicates"] == []
    queue = api.get("/api/v1/triage/queue", headers=h).json()
    assert {L.name(i["lead_id"]): i["duplicate_count"] for i in queue} == {"police:C1": 0, "police:C2": 2}


def test_triage_reads_need_justification_a_worker_role_and_more_than_a_hit(api, ingest, make_user):
    ingest(lead(source_ref="T1"), lead(source_agency="douanes", source_ref="H2", handling_code="H2"))
    h = make_user("police", "analyst")
    for path in (f"/api/v1/leads/{_id('police:T1')}/triage", f"/api/v1/leads/{_id('police:T1')}/history",
                 "/api/v1/link-alerts", "/api/v1/operations", "/api/v1/deconfliction/alerts"):
        resp = api.get(path, headers=h)
        assert resp.status_code == 400 and resp.json()["details"][0]["field"] == "justification", path
    assert api.get(f"/api/v1/leads/{_id('police:T1')}/triage?{J}", headers=make_user("police", "auditor")).status_code == 403
    hit = api.get(f"/api/v1/leads/{_id('douanes:H2')}/triage?{J}", headers=h)
    assert hit.status_code == 403 and "hit" in hit.json()["message"]
    assert api.get(f"/api/v1/leads/{_id('police:NOPE')}/triage?{J}", headers=h).status_code == 404


# --- lifecycle ----------------------------------------------------------------------------------


def _status(api, lead_id, headers, **body):
    return api.post(f"/api/v1/leads/{_id(lead_id)}/status", json=body, headers=headers)


def test_lifecycle_attributed_audited_with_409_422_403(api, ingest, make_user, driver):
    ingest(lead(source_ref="L1"))
    pn = make_user("police", "analyst", name="dupont")
    gn = make_user("gendarmerie", "analyst", name="martin")
    dz = make_user("douanes", "coordinator", name="bernard")

    ok = _status(api, "police:L1", pn, expected_state="new", state="under_assessment", note="à vérifier")
    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "under_assessment" and ok.json()["seq"] == 1

    stale = _status(api, "police:L1", pn, expected_state="new", state="dismissed", reason="duplicate")
    assert stale.status_code == 409
    assert stale.json()["details"][0]["field"] == "expected_state"
    assert "en cours d'évaluation" in stale.json()["message"]

    illegal = _status(api, "police:L1", pn, expected_state="under_assessment", state="closed", outcome="arrest")
    assert illegal.status_code == 422 and illegal.json()["details"][0]["field"] == "state"
    missing = _status(api, "police:L1", pn, expected_state="under_assessment", state="assigned", unit="BR")
    assert missing.status_code == 422 and missing.json()["details"][0]["field"] == "assignee_agency"
    bad_value = _status(api, "police:L1", pn, expected_state="under_assessment", state="archived")
    assert bad_value.status_code == 422 and bad_value.json()["details"][0]["field"] == "body.state"

    for stranger in (gn, dz):  # not the owner, not (yet) the assignee
        refused = _status(api, "police:L1", stranger, expected_state="under_assessment",
                          state="dismissed", reason="imprecise")
        assert refused.status_code == 403, refused.text

    assigned = _status(api, "police:L1", pn, expected_state="under_assessment", state="assigned",
                       assignee_agency="gendarmerie", unit="BR Besançon", note="véhicule connu de la BR")
    assert assigned.status_code == 200 and assigned.json()["assignee_agency"] == "gendarmerie"
    # The assignee acts and closes; customs still may not.
    assert _status(api, "police:L1", dz, expected_state="assigned", state="acted_on").status_code == 403
    assert _status(api, "police:L1", gn, expected_state="assigned", state="acted_on",
                   note="surveillance le 02/08").status_code == 200
    closed = _status(api, "police:L1", gn, expected_state="acted_on", state="closed", outcome="arrest",
                     note="2 interpellations")
    assert closed.status_code == 200 and closed.json()["outcome"] == "arrest"
    final = _status(api, "police:L1", pn, expected_state="closed", state="dismissed", reason="other", note="x")
    assert final.status_code == 422 and "état final" in final.json()["details"][0]["reason"]

    history = api.get(f"/api/v1/leads/{_id('police:L1')}/history?{J}", headers=pn).json()
    assert [(c["seq"], c.get("from_state"), c["to_state"], c["user_name"]) for c in history] == [
        (0, None, "new", "CROSS Hub"),
        (1, "new", "under_assessment", "dupont"),
        (2, "under_assessment", "assigned", "dupont"),
        (3, "assigned", "acted_on", "martin"),
        (4, "acted_on", "closed", "martin"),
    ]
    assert history[3]["user_agency"] == "gendarmerie" and history[3]["by"] == "assignee"
    assert history[2]["unit"] == "BR Besançon" and history[4]["note"] == "2 interpellations"

    # Mirrored on the lead for the retention purge.
    records, _, _ = driver.execute_query(
        "MATCH (l:Lead {source_key: 'police|L1'}) RETURN l.status AS s, l.outcome AS o, "
        "l.closed_at IS NOT NULL AS closed, l.dismissed_at IS NULL AS not_dismissed")
    assert records[0].data() == {"s": "closed", "o": "arrest", "closed": True, "not_dismissed": True}

    changes = _audit(api, lead_id="police:L1", action=AuditAction.ALTERATION)
    allowed = [e for e in changes if e.decision.outcome == "allow"]
    assert sorted(e.details["to_state"] for e in allowed) == sorted(
        ["under_assessment", "assigned", "acted_on", "closed"])
    assert {e.actor.user_id for e in allowed} == {"police:dupont", "gendarmerie:martin"}
    denied = [e for e in changes if e.decision.outcome == "deny"]
    assert {e.actor.user_id for e in denied} == {"gendarmerie:martin", "douanes:bernard"}


def test_a_lead_written_before_triage_gets_its_status_on_first_change(api, driver, make_user):
    db = api.app.state.settings.neo4j_database
    write_leads(Graph(driver, db), [Lead.model_validate(lead(source_ref="OLD"))])  # no after_ingest
    h = make_user("police", "coordinator")
    view = api.get(f"/api/v1/leads/{_id('police:OLD')}/triage?{J}", headers=h).json()
    assert view["computed_on_read"] and view["score"] == 45  # address 25 + observed 20
    assert _status(api, "police:OLD", h, expected_state="new", state="dismissed",
                   reason="out_of_scope", note="nuisance sonore : renvoyée au 17").status_code == 200
    history = api.get(f"/api/v1/leads/{_id('police:OLD')}/history?{J}", headers=h).json()
    assert [c["to_state"] for c in history] == ["new", "dismissed"]


# --- hit rates ----------------------------------------------------------------------------------


def test_hit_rates_computed_exactly(api, ingest, make_user):
    ingest(lead(source_ref="A", kind="citizen_report", channel="citizen_platform"),
           lead(source_ref="B", kind="citizen_report", channel="citizen_platform"),
           lead(source_ref="C", kind="citizen_report", channel="citizen_platform"),
           lead(source_ref="OPEN", kind="citizen_report", channel="citizen_platform"),
           connector="plateforme-citoyenne")
    ingest(lead(source_ref="D", channel="patrol"), lead(source_ref="E", channel="informant"),
           connector="police-csv")
    h = make_user("police", "coordinator")

    def close(lead_id: str, outcome: str) -> None:
        steps = [{"expected_state": "new", "state": "under_assessment"},
                 {"expected_state": "under_assessment", "state": "assigned", "assignee_agency": "police",
                      "unit": "GSP"},
                 {"expected_state": "assigned", "state": "closed", "outcome": outcome}]
        for step in steps:
            assert _status(api, lead_id, h, **step).status_code == 200

    close("police:A", "arrest")
    close("police:B", "no_follow_up")
    close("police:D", "seizure")
    for lead_id in ("police:C", "police:E"):
        assert _status(api, lead_id, h, expected_state="new", state="dismissed",
                       reason="imprecise").status_code == 200

    now = datetime.now(UTC)
    params = {"since": (now - timedelta(hours=1)).isoformat(), "until": (now + timedelta(hours=1)).isoformat()}
    body = api.get("/api/v1/stats/hit-rates", params=params, headers=h).json()
    channels = {r["key"]: (r["hits"], r["resolved"], r["rate"]) for r in body["by_channel"]}
    assert channels == {"citizen_platform": (1, 3, 0.3333), "patrol": (1, 1, 1.0), "informant": (0, 1, 0.0)}
    connectors = {r["key"]: (r["hits"], r["resolved"], r["rate"]) for r in body["by_connector"]}
    assert connectors == {"plateforme-citoyenne": (1, 3, 0.3333), "police-csv": (1, 2, 0.5)}
    assert (body["overall"]["hits"], body["overall"]["resolved"], body["overall"]["rate"]) == (2, 5, 0.4)
    assert body["overall"]["outcomes"] == {"arrest": 1, "no_follow_up": 1, "seizure": 1}

    before = {"until": (now - timedelta(hours=1)).isoformat()}
    assert api.get("/api/v1/stats/hit-rates", params=before, headers=h).json()["overall"]["resolved"] == 0
    empty = api.get("/api/v1/stats/hit-rates", params={**params, "until": params["since"]}, headers=h)
    assert empty.status_code == 422 and empty.json()["details"][0]["field"] == "until"


# --- cross-agency links -------------------------------------------------------------------------


def test_shared_plate_alerts_both_agencies_hit_style(api, ingest, make_user, driver):
    db = api.app.state.settings.neo4j_database
    ingest(lead(source_ref="PN-1", vehicles=[{"plate": PLATE}],
                narrative="Clio grise, rotation devant le hall 3."))
    customs = ingest(lead(source_agency="douanes", source_ref="DZ-1", kind="seizure",
                          channel="customs_control", vehicles=[{"plate": "ab 123 cd"}],
                          seizure={"substances": [{"substance": "cannabis_resin", "quantity": "12", "unit": "kg"}]},
                          location={"insee_code": "25388", "commune": "Montbéliard",
                                    "place_label": "A36 péage"},
                          narrative="Résine dissimulée dans le coffre."))
    # Gendarmerie holds the plate too, classed H3: nothing about it leaves the gendarmerie.
    ingest(lead(source_agency="gendarmerie", source_ref="GN-H3", vehicles=[{"plate": PLATE}],
                handling_code="H3", location={"insee_code": "25388", "commune": "Montbéliard"}))

    alerts = graph_workflow.cross_agency_links_for(api.app.state.graph, customs)
    assert [(a.entity_kind, a.entity_key, a.agencies) for a in alerts] == [
        ("vehicle", PLATE, ["police", "douanes"])]
    notices = {n.agency: n for n in notices_for(alerts[0].alert_id, "vehicle", PLATE, alerts[0].leads,
                                                now=datetime.now(UTC),
                                                policy=api.app.state.rulebook.policy)}
    assert notices["police"].message_fr.startswith("Les Douanes détiennent 1 piste sur ce véhicule (AB-123-CD).")

    pn = api.get(f"/api/v1/link-alerts?{J}", headers=make_user("police", "analyst")).json()
    assert len(pn) == 2  # douanes joined, then gendarmerie joined
    for alert in pn:
        assert alert["entity_kind"] == "vehicle" and L.names(alert["own_lead_ids"]) == ["police:PN-1"]
        # H3: not even counted for a police analyst.
        assert [(x["agency"], x["lead_count"]) for x in alert["holdings"]] == [("douanes", 1)]
        assert alert["message_fr"].startswith("Les Douanes détiennent 1 piste sur ce véhicule (AB-123-CD).")
        text = str(alert)
        assert "DZ-1" not in text and "Résine" not in text and "cannabis" not in text
    dz = api.get(f"/api/v1/link-alerts?{J}", headers=make_user("douanes", "analyst")).json()
    assert L.names(dz[0]["own_lead_ids"]) == ["douanes:DZ-1"]
    assert dz[0]["message_fr"].startswith("La Police nationale détient 1 piste sur ce véhicule")
    assert "PN-1" not in str(dz) and "rotation" not in str(dz)
    # The gendarmerie sees both agencies on its vehicle; a coordinator elsewhere gets the H3 hit.
    gn = api.get(f"/api/v1/link-alerts?{J}", headers=make_user("gendarmerie", "analyst")).json()
    assert [(x["agency"], x["lead_count"]) for x in gn[0]["holdings"]] == [("police", 1), ("douanes", 1)]
    chief = api.get(f"/api/v1/link-alerts?{J}", headers=make_user("police", "coordinator")).json()
    assert ("gendarmerie", 1) in [(x["agency"], x["lead_count"]) for a in chief for x in a["holdings"]]
    # Not a party to any: nothing.
    assert api.get(f"/api/v1/link-alerts?{J}", headers=make_user("paf", "analyst")).json() == []

    # A replay raises no second alert.
    again = graph_workflow.after_ingest(api.app.state.graph, customs, datetime.now(UTC),
                                        rules=api.app.state.rulebook.triage)
    assert again.link_alerts == []
    assert len(api.get(f"/api/v1/link-alerts?{J}", headers=make_user("police", "analyst")).json()) == 2


def test_after_ingest_audits_the_combination_before_commit_or_writes_nothing(api, driver):
    from graph.identity import Principal
    from hub.audit import events as auditing_workflow

    db = api.app.state.settings.neo4j_database
    leads = [Lead.model_validate(lead(source_ref="PH-1", phones=["06 11 22 33 44"])),
             Lead.model_validate(lead(source_agency="gendarmerie", source_ref="PH-2", phones=["+33611223344"]))]
    ids = [w.lead_id for w in write_leads(Graph(driver, db), leads)]
    connector = Principal(user_id="gendarmerie:gn-feed", name="gn-feed", agency="gendarmerie", role="connector")

    def failing(_report) -> None:
        raise RuntimeError("journal indisponible")

    with pytest.raises(RuntimeError):
        graph_workflow.after_ingest(api.app.state.graph, ids, datetime.now(UTC),
                                    rules=api.app.state.rulebook.triage, before_commit=failing)
    records, _, _ = driver.execute_query("MATCH (n) WHERE n:LeadStatus OR n:LinkAlert OR n:StatusChange "
                                         "RETURN count(n) AS n")
    assert records[0]["n"] == 0  # rolled back whole

    def log(report) -> None:
        event = auditing_workflow.triage_combination("127.0.0.1", actor_of(connector), "gn-feed", report)
        api.app.state.audit.append(event)

    report = graph_workflow.after_ingest(api.app.state.graph, ids, datetime.now(UTC),
                                         rules=api.app.state.rulebook.triage, connector="gn-feed",
                                         before_commit=log)
    # Same phone, and the same address (the factory's): two entities link the two agencies.
    assert report.scored == 2
    assert sorted(f"{a.entity_kind}:{a.entity_key}" for a in report.link_alerts) == [
        "location:addr:25056:place cassin", "phone:+33611223344"]
    [entry] = _audit(api, user_id="gendarmerie:gn-feed", action=AuditAction.COMBINATION)
    assert entry.lead_ids == sorted(ids)
    assert entry.entity_keys == ["location:addr:25056:place cassin", "phone:+33611223344"]
    assert entry.recipients == ["gendarmerie", "police"] and entry.connector_id == "gn-feed"


# --- deconfliction ------------------------------------------------------------------------------


def _op(kind: str, start: datetime, hours: float, *, targets=(), point=None, insee="25056",
        commune="Besançon", title="Opération test") -> dict:
    place = {"insee_code": insee, "commune": commune, "radius_m": 100}
    if point:
        place["point"] = {"lat": point[0], "lon": point[1]}
    return {"kind": kind, "title": title, "unit": "BR", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=hours)).isoformat(), "place": place,
            "targets": list(targets)}


def test_deconfliction_by_target_and_by_place_until_both_acknowledge(api, make_user):
    tomorrow = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    pn, dz = make_user("police", "analyst", name="dupont"), make_user("douanes", "analyst", name="bernard")
    gn = make_user("gendarmerie", "coordinator", name="martin")

    first = api.post("/api/v1/operations", headers=pn, json=_op(
        "surveillance", tomorrow, 3, targets=["vehicle:ab 123 cd"], point=(47.2205, 5.9710),
        title="Surveillance hall 3"))
    assert first.status_code == 201, first.text
    assert first.json()["alerts"] == [] and first.json()["operation"]["targets"] == [f"vehicle:{PLATE}"]

    # Customs: the same car, elsewhere, overlapping window -> clash by target.
    by_target = api.post("/api/v1/operations", headers=dz, json=_op(
        "controlled_delivery", tomorrow + timedelta(hours=2), 4, targets=[f"vehicle:{PLATE}"],
        point=(47.51, 6.80), insee="25388", commune="Montbéliard"))
    assert by_target.status_code == 201
    [alert] = by_target.json()["alerts"]
    assert alert["reasons"] == ["time", "target"] and alert["shared_targets"] == [f"vehicle:{PLATE}"]
    assert alert["other_operation"]["agency"] == "police" and alert["other_operation"]["kind"] == "surveillance"
    assert "title" not in alert["other_operation"] and "Surveillance hall 3" not in str(alert)
    assert alert["awaiting"] == ["douanes", "police"]

    # Gendarmerie: 120 m from the police, overlapping -> clash by place (not with customs).
    by_place = api.post("/api/v1/operations", headers=gn, json=_op(
        "arrest", tomorrow + timedelta(hours=1), 1, point=(47.2215, 5.9712)))
    [place_alert] = by_place.json()["alerts"]
    assert place_alert["reasons"] == ["time", "place"] and place_alert["other_operation"]["agency"] == "police"
    assert place_alert["reasons_fr"][-1].startswith("lieux à 11")
    # Same place and target, but the next week: no clash.
    later = api.post("/api/v1/operations", headers=gn, json=_op(
        "search", tomorrow + timedelta(days=7), 2, targets=[f"vehicle:{PLATE}"], point=(47.2205, 5.9710)))
    assert later.status_code == 201 and later.json()["alerts"] == []

    police_alerts = api.get(f"/api/v1/deconfliction/alerts?{J}", headers=pn).json()
    assert len(police_alerts) == 2
    target_id = alert["alert_id"]
    # A non-party cannot see or acknowledge it.
    assert api.post(f"/api/v1/deconfliction/alerts/{target_id}/acknowledge", headers=gn,
                    json={}).status_code == 404

    ack = api.post(f"/api/v1/deconfliction/alerts/{target_id}/acknowledge", headers=pn,
                   json={"note": "appel à la cellule douane : on décale"}).json()
    assert ack["changed"] and ack["alert"]["status"] == "open" and ack["alert"]["awaiting"] == ["douanes"]
    again = api.post(f"/api/v1/deconfliction/alerts/{target_id}/acknowledge", headers=pn, json={}).json()
    assert not again["changed"] and again["alert"]["status"] == "open"
    assert target_id in [a["alert_id"] for a in api.get(f"/api/v1/deconfliction/alerts?{J}", headers=dz).json()]

    done = api.post(f"/api/v1/deconfliction/alerts/{target_id}/acknowledge", headers=dz, json={}).json()
    assert done["alert"]["status"] == "closed" and done["alert"]["awaiting"] == []
    assert [a["agency"] for a in done["alert"]["acknowledged_by"]] == ["police", "douanes"]
    assert done["alert"]["acknowledged_by"][0]["user_name"] is None  # the other agency's officer
    assert api.get(f"/api/v1/deconfliction/alerts?{J}", headers=dz).json() == []
    closed = api.get(f"/api/v1/deconfliction/alerts?open=false&{J}", headers=dz).json()
    assert [a["status"] for a in closed] == ["closed"]
    assert [a["alert_id"] for a in api.get(f"/api/v1/deconfliction/alerts?{J}", headers=pn).json()] == [
        place_alert["alert_id"]]

    own = api.get(f"/api/v1/operations?{J}", headers=pn).json()
    assert [o["title"] for o in own] == ["Surveillance hall 3"]
    entries = _audit(api, user_id="douanes:bernard")
    assert {e.action for e in entries} >= {AuditAction.COLLECTION, AuditAction.COMBINATION,
                                           AuditAction.ALTERATION, AuditAction.CONSULTATION}


def test_operation_input_errors_name_the_field(api, make_user):
    h = make_user("police", "analyst")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    backwards = _op("arrest", tomorrow, -1)
    resp = api.post("/api/v1/operations", headers=h, json=backwards)
    assert resp.status_code == 422 and resp.json()["details"][0]["field"] == "ends_at"
    past = _op("arrest", datetime.now(UTC) - timedelta(days=2), 1)
    assert api.post("/api/v1/operations", headers=h, json=past).json()["details"][0]["field"] == "ends_at"
    bad_target = _op("arrest", tomorrow, 1, targets=[f"vehicle:{PLATE}", "person:Jean Dupont"])
    resp = api.post("/api/v1/operations", headers=h, json=bad_target)
    assert resp.status_code == 422 and resp.json()["details"][0]["field"] == "targets[1]"
    bad_kind = {**_op("arrest", tomorrow, 1), "kind": "raid"}
    assert api.post("/api/v1/operations", headers=h, json=bad_kind).json()["details"][0]["field"] == "body.kind"
    assert api.post("/api/v1/operations", headers=make_user("police", "guest_referent"),
                    json=_op("arrest", tomorrow, 1)).status_code == 403


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_queue_triage_status_operations_alerts(api, ingest, make_user, monkeypatch, driver, hub_settings):
    monkeypatch.setattr(workflow_cli, "make_client", lambda url: contextlib.nullcontext(api))
    # The shared rich console fixes its width when hub.cli.common is imported if COLUMNS is set
    # then (xdist workers run with COLUMNS=80), after which the runner's COLUMNS is ignored: a
    # console of known width for this test, whatever the process's environment.
    monkeypatch.setattr(workflow_cli, "console", Console(width=200))
    ingest(lead(source_ref="CLI-1", vehicles=[{"plate": PLATE, "make": "Renault"}]),
           lead(source_agency="douanes", source_ref="DZ-9", vehicles=[{"plate": PLATE}]))
    user = identity.upsert_user(Graph(driver, hub_settings.neo4j_database), agency="police", role="analyst",
                                name="cli-agent")
    token = identity.issue_token(Graph(driver, hub_settings.neo4j_database), user.user_id).token
    env = {"CROSSHUB_TOKEN": token, "COLUMNS": "200"}
    runner = CliRunner()

    out = runner.invoke(workflow_cli.app, ["queue"], env=env)
    assert out.exit_code == 0, out.output
    # Customs' H1 lead is readable (redacted) by a police analyst, so it is in the queue…
    cli_1, dz_9 = _id("police:CLI-1"), _id("douanes:DZ-9")
    # The table may shorten an id: its first characters identify it.
    assert cli_1[:10] in out.output and dz_9[:10] in out.output
    out = runner.invoke(workflow_cli.app, ["queue", "--agency", "police"], env=env)
    assert cli_1[:10] in out.output and dz_9[:10] not in out.output  # …unless filtered out

    out = runner.invoke(workflow_cli.app, ["triage", cli_1, "-j", "PV 2025/0815"], env=env)
    assert out.exit_code == 0, out.output
    assert "immatriculation" in out.output and "lieu précis (adresse)" in out.output

    out = runner.invoke(workflow_cli.app, ["status", cli_1, "under_assessment", "--expected", "new"], env=env)
    assert out.exit_code == 0 and "en cours d'évaluation" in out.output, out.output
    stale = runner.invoke(workflow_cli.app, ["status", cli_1, "dismissed", "--expected", "new",
                                             "--reason", "imprecise"], env=env)
    assert stale.exit_code == 4

    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    out = runner.invoke(workflow_cli.app, [
        "operations", "add", "--kind", "surveillance", "--start", start.isoformat(),
        "--end", (start + timedelta(hours=2)).isoformat(), "--insee", "25056", "--unit", "GSP",
        "--target", "vehicle:ab-123-cd", "--title", "Surveillance Clio"], env=env)
    assert out.exit_code == 0 and "Opération déclarée" in out.output, out.output
    out = runner.invoke(workflow_cli.app, ["operations", "list", "-j", "PV 2025/0815"], env=env)
    assert "Surveillance Clio" in out.output and "vehicle:AB-123-CD" in out.output

    out = runner.invoke(workflow_cli.app, ["alerts", "-j", "PV 2025/0815"], env=env)
    assert out.exit_code == 0, out.output
    assert "Aucune alerte de déconfliction ouverte." in out.output
    assert "Les Douanes détiennent 1 piste" in out.output

    bad = runner.invoke(workflow_cli.app, ["triage", cli_1], env=env)
    assert bad.exit_code != 0  # --justification is required
