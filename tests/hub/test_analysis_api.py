"""The analysis endpoints (hub/routers/analysis.py) and the ``crosshub analysis`` CLI, through the
app and the packaged policy, on the hand-built graph of tests/graph/analysis_graph.py (every lead
there is H1: the CROSS chief reads them all in full; an analyst reads other services' leads
without their narrative)."""

from __future__ import annotations

import contextlib
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.app import create_app
from hub.audit import AuditFilters, query
from tests.graph.analysis_graph import (
    CASSIN_KEY,
    CV1,
    CV3,
    K0,
    P3,
    V1,
    V3,
    V4,
    X,
    Ids,
    ensure_graph,
)

WHY = "justification=PV 2025/0815"
# Public lead ids are opaque (ADR 0007): expectations name leads "agency:source_ref"; ``I`` maps
# each name to the id the graph gave it.
I = Ids()


@pytest.fixture(scope="module")
def api(hub_settings, tmp_path_factory):
    """An app of its own (own audit trail), wired by ``create_app`` as in production."""
    settings = hub_settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("analysis-api")})
    with TestClient(create_app(settings)) as client:
        yield client, settings


@pytest.fixture(autouse=True)
def graph(driver):
    # Autouse, so it runs before make_user: a rewrite of the graph would wipe the users too.
    global I
    I = ensure_graph(driver)


@pytest.fixture
def client(api):
    return api[0]


def _audit(api, user_id: str) -> list:
    return query(api[1].audit_dir, AuditFilters(user_id=user_id))


def test_search_answers_and_is_audited_even_when_empty(api, client, make_user):
    h = make_user("police", "coordinator", name="chef-recherche")
    resp = client.get(f"/api/v1/search?q=ab 123 cd&kind=plate&fuzzy=confusable&{WHY}", headers=h)
    assert resp.status_code == 200, resp.text
    assert [(m["node"]["id"], m["match"]) for m in resp.json()["entities"]] == [
        (f"vehicle:{V1}", "exact"), (f"vehicle:{V3}", "fuzzy")]
    nothing = client.get(f"/api/v1/search?q=QQ-555-QQ&kind=plate&{WHY}", headers=h)
    assert nothing.status_code == 200 and nothing.json()["entities"] == []
    empty, found = _audit(api, "police:chef-recherche")  # newest first
    assert found.action == "consultation" and found.justification == "PV 2025/0815"
    assert found.entity_keys == ["search:plate:ab 123 cd", f"vehicle:{V1}", f"vehicle:{V3}"]
    assert found.decision.outcome == "full"
    assert empty.entity_keys == ["search:plate:QQ-555-QQ"] and empty.decision.outcome == "none"


def test_full_text_search_follows_the_policy(client, make_user):
    def leads(q, headers):
        resp = client.get(f"/api/v1/search?q={quote(q)}&kind=text&{WHY}", headers=headers)
        assert resp.status_code == 200, resp.text
        return sorted(I.names(m["lead"]["key"] for m in resp.json()["leads"]))

    police, douanes = make_user("police", "analyst"), make_user("douanes", "analyst")
    # Other services' narratives are withheld from an analyst: never matched.
    assert leads("hall", police) == ["police:C1"]
    assert leads("hall", douanes) == ["douanes:CH"]
    assert leads("tramway", police) == [] and leads("tramway", douanes) == ["douanes:H1"]
    assert leads("hall", make_user("police", "coordinator")) == [
        "douanes:CH", "gendarmerie:C2", "police:C1"]


def test_paths_endpoint(api, client, make_user):
    h = make_user("gendarmerie", "coordinator", name="chef-chemins")
    resp = client.get(f"/api/v1/analysis/paths?from_kind=vehicle&from_key={V1}&to_kind=phone"
                      f"&to_key=0611223344&time_ordered=true&max_gap_hours=48&{WHY}", headers=h)
    assert resp.status_code == 200, resp.text
    [path] = resp.json()["paths"]
    assert I.names(path["lead_ids"]) == ["police:L1", "gendarmerie:L3", "douanes:L4", "police:L5"]
    shorter = client.get(f"/api/v1/analysis/paths?from_kind=vehicle&from_key={V1}&to_kind=phone"
                         f"&to_key={quote(P3)}&time_ordered=true&{WHY}", headers=h).json()
    assert [n["id"] for n in shorter["paths"][0]["nodes"]][3:5] == [I.node("douanes:L6"), f"vehicle:{V4}"]
    entry = _audit(api, "gendarmerie:chef-chemins")[-1]
    assert entry.lead_ids == path["lead_ids"]
    assert entry.entity_keys[:2] == [f"vehicle:{V1}", f"phone:{P3}"]


def test_copresence_endpoint_in_paris_time(client, make_user):
    h = make_user("police", "coordinator")
    resp = client.get(f"/api/v1/analysis/copresence?location_key={quote(CASSIN_KEY)}"
                      f"&since=2025-08-10T02:00&until=2025-08-11T02:00&{WHY}", headers=h)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    first = body["pairs"][0]
    assert (first["a"]["id"], first["b"]["id"], first["relation"]) == (
        f"vehicle:{CV1}", f"vehicle:{CV3}", "plate_variant")
    assert len(body["pairs"]) == 10 and body["lead_count"] == 5


def test_hotspots_need_no_justification_and_are_not_audited(api, client, make_user):
    h = make_user("police", "coordinator", name="chef-carte")
    resp = client.get("/api/v1/analysis/hotspots?days=30&as_of=2025-08-31T02:00", headers=h)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["departement"] == "25"  # the CROSS's own by default
    assert [(p["key"], p["recent"], p["trend"]) for p in body["places"]] == [
        (CASSIN_KEY, 5, "up"), ("place:25056:saint ferjeux", 2, "down")]
    everywhere = client.get("/api/v1/analysis/hotspots?departement=tous&as_of=2025-08-31T02:00",
                            headers=h).json()
    assert {c["key"] for c in everywhere["communes"]} == {"25056", "25388", "61001", "88160"}
    assert _audit(api, "police:chef-carte") == []


def test_timeline_endpoint(api, client, make_user):
    h = make_user("police", "analyst", name="analyste-chrono")
    resp = client.get(f"/api/v1/entities/person/{X}/timeline?{WHY}", headers=h)
    assert resp.status_code == 200, resp.text
    entries = resp.json()["entries"]
    assert I.names(e["lead"]["key"] for e in entries) == ["police:L2", "police:L1",
                                                          "gendarmerie:L3", "douanes:L6"]
    # Other services' leads reach an analyst without their narrative.
    assert "narrative" in entries[0]["lead"]["properties"]
    assert "narrative" not in entries[2]["lead"]["properties"]
    assert _audit(api, "police:analyste-chrono")[0].decision.outcome == "redacted"


def test_central_endpoint(client, make_user):
    resp = client.get(f"/api/v1/analysis/central?kind=phone&key=0622000001&depth=2&{WHY}",
                      headers=make_user("police", "analyst"))
    assert resp.status_code == 200, resp.text
    top = resp.json()["actors"][0]
    assert top["node"]["id"] == f"person:{K0}" and top["degree"] == 4


@pytest.mark.parametrize(("path", "field"), [
    ("/api/v1/analysis/central?kind=phone&key=0622000001&depth=4", "query.depth"),
    (f"/api/v1/analysis/paths?from_kind=vehicle&from_key={V1}&to_kind=phone&to_key=0611223344&max_hops=7",
     "query.max_hops"),
    ("/api/v1/analysis/paths?from_kind=agency&from_key=police&to_kind=phone&to_key=0611223344",
     "from_kind"),
    ("/api/v1/analysis/paths?from_kind=vehicle&from_key=NOPE&to_kind=phone&to_key=0611223344",
     "from_key"),
    ("/api/v1/analysis/copresence?insee=25056&since=2025-01-01T00:00&until=2026-01-05T00:00", "until"),
    (("/api/v1/analysis/copresence?insee=25056&since=2025-08-10T00:00&until=2025-08-11T00:00"
      "&window_min=1441"), "query.window_min"),
    (("/api/v1/analysis/copresence?insee=25056&location_key=x&since=2025-08-10T00:00"
      "&until=2025-08-11T00:00"), "insee"),
    (("/api/v1/analysis/copresence?lat=47.2&lon=5.9&radius_m=5000&since=2025-08-10T00:00"
      "&until=2025-08-11T00:00"), "query.radius_m"),
    ("/api/v1/search?q=ab&kind=plate", "q"),
    ("/api/v1/search?q=cassin&kind=place&limit=101", "query.limit"),
    ("/api/v1/search?q=cassin&kind=spaceship", "query.kind"),
    ("/api/v1/entities/agency/police/timeline?x=1", "kind"),
    ("/api/v1/analysis/hotspots?days=367", "query.days"),
    ("/api/v1/analysis/hotspots?departement=Doubs", "departement"),
])
def test_bounds_are_422_naming_the_field(client, make_user, path, field):
    resp = client.get(f"{path}&{WHY}", headers=make_user("police", "coordinator"))
    assert resp.status_code == 422, resp.text
    assert field in {d["field"] for d in resp.json()["details"]}


def test_consultations_need_a_justification_and_a_reading_role(client, make_user):
    h = make_user("police", "coordinator")
    for path in (f"/api/v1/search?q={V1}&kind=plate",
                 f"/api/v1/analysis/paths?from_kind=vehicle&from_key={V1}&to_kind=phone&to_key=0611223344",
                 "/api/v1/analysis/copresence?insee=25056&since=2025-08-10T00:00&until=2025-08-11T00:00",
                 f"/api/v1/entities/person/{X}/timeline",
                 "/api/v1/analysis/central?kind=phone&key=0622000001"):
        resp = client.get(path, headers=h)
        assert resp.status_code == 400, path
        assert resp.json()["details"][0]["field"] == "justification"
    for role in ("connector", "auditor", "administrator"):
        resp = client.get(f"/api/v1/analysis/hotspots?{WHY}", headers=make_user("police", role))
        assert resp.status_code == 403, role


# --- CLI -----------------------------------------------------------------------------------------


@pytest.fixture
def cli(client, monkeypatch):
    from hub.cli import analysis as cli_analysis

    # The commands talk to this app instead of a network hub; the session is already open.
    monkeypatch.setattr(cli_analysis, "make_client", lambda url: contextlib.nullcontext(client))
    runner = CliRunner()
    # Wide tables through the environment: the shared console reads COLUMNS at each print.
    return lambda *args: runner.invoke(cli_analysis.app, list(args), env={"COLUMNS": "220"})


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def test_cli_commands_print_french_tables(cli, make_user):
    token = _token(make_user("police", "coordinator"))
    out = cli("search", "AB-I23-CD", "--fuzzy", "confusable", "-j", "PV 2025/0815", "--token", token)
    assert out.exit_code == 0, out.output
    assert "AB-123-CD" in out.output and "corrigé en 1" in out.output
    out = cli("paths", "vehicle", V1, "phone", "0611223344", "--time-ordered", "--max-gap-hours",
              "48", "-j", "PV 2025/0815", "--token", token)
    assert out.exit_code == 0, out.output
    assert "Chemin 1 — 4 saut(s)" in out.output
    out = cli("hotspots", "--as-of", "2025-08-31T02:00", "--token", token)
    assert out.exit_code == 0, out.output
    assert "Place Cassin — Besançon" in out.output and "↑ hausse" in out.output
    assert "↓ baisse" in out.output
    out = cli("timeline", "person", X, "-j", "PV 2025/0815", "--token", token)
    assert out.exit_code == 0, out.output
    assert out.output.index(I["police:L2"]) < out.output.index(I["douanes:L6"])
    out = cli("copresence", "--location-key", CASSIN_KEY, "--since", "2025-08-10T02:00",
              "--until", "2025-08-11T02:00", "-j", "PV 2025/0815", "--token", token)
    assert out.exit_code == 0 and "même véhicule probable" in out.output
    out = cli("central", "phone", "0622000001", "-j", "PV 2025/0815", "--token", token)
    assert out.exit_code == 0 and "0.857" in out.output


def test_cli_reports_api_errors_in_french(cli, make_user):
    token = _token(make_user("police", "coordinator"))
    out = cli("search", V1, "-j", "x", "--token", token)
    assert out.exit_code == 1
    assert "justification obligatoire" in out.output
    out = cli("paths", "vehicle", V1, "phone", "0611223344", "--max-hops", "9", "-j",
              "PV 2025/0815", "--token", token)
    assert out.exit_code == 1 and "max_hops" in out.output
