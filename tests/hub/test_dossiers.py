"""Dossiers (issue 15, part A; ADR 0019) through the real hub and Neo4j.

Expected outcomes come from the policy text (tests/oracles.py, rules.yaml): a gendarmerie analyst
reads a police H1 lead redacted (no narrative) and knows a police H2 lead only as a hit; a police
H3 lead does not exist for them. A dossier and a comment are decided as a lead of their agency at
their code (policies/dossiers.py): the gendarmerie analyst reads a police H0/H1 comment, gets the
hit of an H2 one and nothing of an H3 one. Security assertions are on raw response bytes.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from graph import identity
from graph.handle import Graph
from hub.audit import AuditFilters, query
from hub.jobs.triage import triage_pending_once
from policies.audit import AuditAction
from tests.factories import acked_ids, canary_tag, lead, random_plate
from tests.oracles import GENDARMERIE_SEES_POLICE_LEAD

WHY = "PV 2026/515 — dossier"
Q = {"justification": WHY}


@pytest.fixture
def person(hub_settings, driver):
    """A user (agency, role) → (user_id, bearer headers)."""

    def make(agency: str, role: str = "analyst") -> tuple[str, dict[str, str]]:
        graph = Graph(driver, hub_settings.neo4j_database)
        user = identity.upsert_user(graph, agency=agency, role=role, name=f"{role}-{uuid.uuid4().hex[:6]}",
                                    contact=f"Permanence CROSS — {agency}")
        return user.user_id, {"Authorization": f"Bearer {identity.issue_token(graph, user.user_id).token}"}

    return make


def open_dossier(client, headers, code: str = "H0", title: str | None = None) -> str:
    r = client.post("/api/v1/dossiers", headers=headers,
                    json={"title": title or f"Trafic hall {canary_tag(6)}", "handling_code": code,
                          "justification": WHY})
    assert r.status_code == 201, r.text
    return r.json()["dossier_id"]


def post(client, headers, path: str, **body):
    return client.post(f"/api/v1/dossiers/{path}", headers=headers, json={**body, "justification": WHY})


def test_another_agency_member_sees_hits_not_content_and_comments_at_their_marking(
        client, make_connector, person, hub_settings):
    assert GENDARMERIE_SEES_POLICE_LEAD["analyst"] == {"H0": "redacted", "H1": "redacted", "H2": "hit",
                                                      "H3": "none", "EMB": "none"}
    pn_id, pn = person("police")
    gn_id, gn = person("gendarmerie")
    canary = {c: canary_tag() for c in ("H1", "H2", "H3")}
    plate = random_plate()
    r = make_connector("police").push([
        lead(source_ref=f"PN-D-{canary['H1']}", handling_code="H1", narrative=f"Guetteur {canary['H1']}."),
        lead(source_ref=f"PN-D-{canary['H2']}", handling_code="H2", vehicles=[{"plate": plate}],
             narrative=f"Livraison {canary['H2']}."),
        lead(source_ref=f"PN-D-{canary['H3']}", handling_code="H3", narrative=f"Source {canary['H3']}.")])
    assert r.status_code == 200 and r.json()["rejected"] == 0, r.text
    ids = acked_ids(r)
    h1, h2, h3 = (ids[f"PN-D-{canary[c]}"] for c in ("H1", "H2", "H3"))

    did = open_dossier(client, pn, "H0")
    for lead_id in (h1, h2, h3):
        assert post(client, pn, f"{did}/leads", lead_id=lead_id).json() == {"changed": True}
    assert post(client, pn, f"{did}/entities", entity_kind="vehicle", key=plate.lower()).status_code == 200
    assert post(client, pn, f"{did}/members", user_id=gn_id).status_code == 200
    notes = {c: canary_tag() for c in ("H0", "H2", "H3")}
    for code, mark in notes.items():
        assert post(client, pn, f"{did}/comments", text=f"Note {mark}.", handling_code=code).status_code == 201
    assert post(client, gn, f"{did}/comments", text="Vu par la brigade.").json()["handling_code"] == "H0"

    # The police member reads everything in full.
    mine = client.get(f"/api/v1/dossiers/{did}", headers=pn, params=Q).json()
    assert sorted(x["access"] for x in mine["leads"]) == ["full", "full", "full"]
    assert len(mine["comments"]) == 4 and mine["may_manage"] is True

    got = client.get(f"/api/v1/dossiers/{did}", headers=gn, params=Q)
    assert got.status_code == 200, got.text
    view, raw = got.json(), got.content
    assert view["access"] == "read" and view["may_manage"] is False
    by_level = {x["access"]: x for x in view["leads"]}
    assert set(by_level) == {"redacted", "hit"} and len(view["leads"]) == 2  # H3: not even counted
    assert by_level["redacted"]["lead"]["lead_id"] == h1
    hit = by_level["hit"]["hit"]
    assert hit["agency"] == "police" and hit["handle"].startswith("hit_") and hit["contact"]
    # Redacted: the H1 lead without its narrative (its source reference is not withheld).
    for secret in (f"Guetteur {canary['H1']}", canary["H2"], canary["H3"], h2, h3, plate,
                   notes["H2"], notes["H3"]):
        assert secret.encode() not in raw, secret
    assert f"Note {notes['H0']}.".encode() in raw
    comments = {c["access"] for c in view["comments"]}
    assert comments == {"read", "hit"} and len(view["comments"]) == 3  # H3 comment: absent
    [plate_entity] = view["entities"]
    assert plate_entity["access"] == "hit" and plate_entity["node"] is None

    # Linking is no oracle: a hit is refused as such, a lead they may not know of as an unknown id.
    assert post(client, gn, f"{did}/leads", lead_id=h2).status_code == 403
    hidden, unknown = post(client, gn, f"{did}/leads", lead_id=h3), post(client, gn, f"{did}/leads", lead_id="L-0")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.content.replace(h3.encode(), b"L-0") == unknown.content
    # Managing is the lead agency's: the gendarmerie member cannot close it; a non-member cannot see it.
    assert post(client, gn, f"{did}/close", outcome="arrest").status_code == 403
    _, other = person("douanes")
    assert client.get(f"/api/v1/dossiers/{did}", headers=other, params=Q).status_code == 404

    # The dossier's own code: raised to H2, the gendarmerie member keeps only the hit of it (no
    # title, nothing inside); to H3, nothing at all — as an unknown dossier.
    title = mine["title"]
    assert post(client, pn, f"{did}/marking", handling_code="H2").json()["handling_code"] == "H2"
    as_hit = client.get(f"/api/v1/dossiers/{did}", headers=gn, params=Q)
    assert as_hit.json()["access"] == "hit" and as_hit.json()["agency"] == "police"
    for secret in (title, f"Note {notes['H0']}", h1, "Vu par la brigade"):
        assert secret.encode() not in as_hit.content, secret
    assert post(client, gn, f"{did}/comments", text="Encore moi.").status_code == 403
    assert post(client, pn, f"{did}/marking", handling_code="H3").status_code == 200
    gone = client.get(f"/api/v1/dossiers/{did}", headers=gn, params=Q)
    assert gone.status_code == 404
    assert gone.content.replace(did.encode(), b"D-0") == client.get(
        "/api/v1/dossiers/D-0", headers=gn, params=Q).content
    assert did not in client.get("/api/v1/dossiers", headers=gn, params=Q).text

    trail = query(hub_settings.audit_dir, AuditFilters(entity_key=f"dossier:{did}", limit=1000))
    steps = {(e.action, e.details.get("step")) for e in trail}
    for step in ("dossier_created", "lead_linked", "entity_linked", "member_added", "comment_added",
                 "handling_code_changed"):
        assert (AuditAction.ALTERATION, step) in steps, step
    assert (AuditAction.CONSULTATION, "dossier_read") in steps
    assert all(e.justification == WHY for e in trail)
    refused = {lid for e in trail if e.decision.rule_id == "dossier-link-needs-reading" for lid in e.lead_ids}
    assert refused == {h2, h3, "L-0"}  # each refused link is kept, with what it named
    read = [e for e in trail if e.action == AuditAction.CONSULTATION and e.actor.user_id == gn_id]
    # Each of their reads names what it showed: the H1 lead and the hit on H2; none at the hit level.
    assert sorted(sorted(e.lead_ids) for e in read if e.details.get("step") == "dossier_read") == [
        [], sorted([h1, h2])]


def test_bad_input_names_the_field_and_writes_nothing(client, person):
    pn_id, pn = person("police")
    gn_id, _ = person("gendarmerie")
    _, h3_reader = person("gendarmerie")
    cases = [
        ("/api/v1/dossiers", {"title": "Appeler le 06 12 34 56 78", "handling_code": "H1"}, "title"),
        ("/api/v1/dossiers", {"title": "Trafic", "handling_code": "H9"}, "handling_code"),
    ]
    for path, body, field in cases:
        r = client.post(path, headers=pn, json={**body, "justification": WHY})
        assert r.status_code == 422 and r.json()["details"][0]["field"].split(".")[-1] == field, r.text
    did = open_dossier(client, pn, "H3")
    past = (date.today() - timedelta(days=3)).isoformat()
    for path, body, field in [
        (f"{did}/tasks", {"title": "Relevé", "assignee_user_id": gn_id, "due_date": past}, "assignee_user_id"),
        (f"{did}/tasks", {"title": "Relevé", "assignee_user_id": pn_id, "due_date": "demain"}, "due_date"),
        (f"{did}/comments", {"text": "écrire à jean.dupont@example.fr"}, "text"),
        (f"{did}/members", {"user_id": gn_id}, "user_id"),  # H3: could not read it
        (f"{did}/close", {"outcome": "victoire"}, "outcome"),
    ]:
        r = post(client, pn, path, **body)
        assert r.status_code == 422 and r.json()["details"][0]["field"].split(".")[-1] == field, r.text
    view = client.get(f"/api/v1/dossiers/{did}", headers=pn, params=Q).json()
    assert view["tasks"] == [] and view["comments"] == [] and len(view["members"]) == 1
    assert client.get("/api/v1/dossiers", headers=pn).status_code == 400  # no motif


def _hits(client, headers, connector: str, since: str) -> int:
    r = client.get("/api/v1/stats/hit-rates", headers=headers, params={"since": since})
    assert r.status_code == 200, r.text
    return sum(x["hits"] for x in r.json()["by_connector"] if x["key"] == connector)


def test_closing_with_a_hit_feeds_hit_rates_and_the_agenda_lists_overdue_tasks(
        client, make_connector, person, driver, hub_settings):
    pn_id, pn = person("police")
    _, chief = person("police", "coordinator")
    police = make_connector("police")
    r = police.push([lead()])
    assert r.status_code == 200, r.text
    [lead_id] = acked_ids(r).values()
    graph = Graph(driver, hub_settings.neo4j_database)
    deadline = time.monotonic() + 45
    while not graph.query("MATCH (s:LeadStatus {lead_id: $id}) RETURN s.connector AS c", {"id": lead_id}):
        assert time.monotonic() < deadline, "triage did not run"
        triage_pending_once(client.app)
        time.sleep(0.1)
    [row] = graph.query("MATCH (s:LeadStatus {lead_id: $id}) RETURN s.connector AS c", {"id": lead_id})
    connector, since = row["c"], (datetime.now(UTC) - timedelta(minutes=1)).isoformat()

    title = f"Filière {canary_tag(6)}"
    did = open_dossier(client, pn, "H1", title)
    assert post(client, pn, f"{did}/leads", lead_id=lead_id).status_code == 200
    past = (date.today() - timedelta(days=3)).isoformat()
    task = post(client, pn, f"{did}/tasks", title="Relevé de plaques", assignee_user_id=pn_id, due_date=past)
    assert task.status_code == 201 and task.json()["overdue"] is True

    # The agenda of a member lists it; a non-member's does not.
    mid = client.post("/api/v1/meetings", json={"departement": "25", "week": "2025-W47"},
                      headers=chief).json()["meeting_id"]
    agenda = client.get(f"/api/v1/meetings/{mid}/agenda", headers=pn, params=Q).json()
    assert [d["overdue_tasks"] for d in agenda["dossiers_overdue"] if d["dossier_id"] == did] == [1]
    others = client.get(f"/api/v1/meetings/{mid}/agenda", headers=chief, params=Q).json()
    assert did not in {d["dossier_id"] for d in others["dossiers_overdue"]}
    brief = client.get(f"/api/v1/meetings/{mid}/brief.html", headers=pn, params=Q)
    assert brief.status_code == 200 and "Dossiers en retard" in brief.text and title in brief.text
    done = client.patch(f"/api/v1/dossiers/{did}/tasks/{task.json()['task_id']}", headers=pn,
                        json={"done": True, "justification": WHY})
    assert done.status_code == 200 and done.json()["overdue"] is False

    assert _hits(client, pn, connector, since) == 0
    closed = post(client, pn, f"{did}/close", outcome="seizure", note="Saisie au domicile.")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["outcome_label_fr"] == "saisie"
    assert _hits(client, pn, connector, since) == 1
    assert post(client, pn, f"{did}/comments", text="Trop tard.").status_code == 409
    assert post(client, pn, f"{did}/reopen").json()["status"] == "open"
    assert _hits(client, pn, connector, since) == 0
    steps = {e.details.get("step") for e in query(hub_settings.audit_dir, AuditFilters(
        entity_key=f"dossier:{did}", action=AuditAction.ALTERATION, limit=1000))}
    assert {"task_created", "task_completed", "dossier_closed", "dossier_reopened"} <= steps
