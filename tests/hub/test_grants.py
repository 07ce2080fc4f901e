"""Guest grants and the hit/no-hit disclosure workflow through the API, against the real graph
and a real audit trail: who may create, see, decide; what ``active_grants_for`` then feeds the
policy engine; and that every step is in the trail.

One hub app for the module (its own data_dir, so its own audit trail) and one set of leads
written once; each test makes its own users, so their requests and grants do not meet."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from graph import grants as graph_grants
from graph import identity
from graph.driver import reset_database
from graph.handle import Graph
from graph.leads import write_leads
from hub.app import create_app
from hub.audit import AuditFilters, query
from hub.contract.lead import Lead
from hub.jobs import grant_expiry
from hub.settings import Settings
from policies.audit import AuditAction
from policies.engine import decide
from policies.loader import load_policy
from policies.models import Caller, DisclosureGrant, GuestGrant, Outcome
from tests.factories import lead
from tests.second_factor import stepped_up

# Public lead ids (opaque, ADR 0007): set by the ``world`` fixture from the write results.
H2 = "police:PN-H2"  # gendarmerie analysts get the hit only
H1 = "police:PN-H1"  # others get it redacted, narrative hidden
H3 = "police:PN-H3"  # nothing outside the police, not even the hit
OWN = "gendarmerie:GN-1"
PLATE = "AB-123-CD"

POLICY = load_policy()


@pytest.fixture(scope="module")
def api(hub_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = hub_settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("grants-hub")})
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def db(api: TestClient) -> str:
    return api.app.state.settings.neo4j_database


@pytest.fixture(scope="module")
def world(api: TestClient, driver, db: str) -> None:
    reset_database(Graph(driver, db))
    payloads = [
        lead(source_ref="PN-H2", handling_code="H2", vehicles=[{"plate": PLATE}]),
        lead(source_ref="PN-H1", handling_code="H1", vehicles=[{"plate": PLATE}]),
        lead(source_ref="PN-H3", handling_code="H3"),
        lead(source_agency="gendarmerie", source_ref="GN-1", handling_code="H2"),
    ]
    global H2, H1, H3, OWN
    results = write_leads(Graph(driver, db), [Lead.model_validate(p) for p in payloads])
    assert [r.outcome.value for r in results] == ["created"] * 4
    H2, H1, H3, OWN = (r.lead_id for r in results)


@pytest.fixture(scope="module")
def audit_dir(api: TestClient):
    return api.app.state.settings.audit_dir


@dataclass
class User:
    user_id: str
    name: str
    agency: str
    role: str
    headers: dict[str, str]

    @property
    def caller(self) -> Caller:
        return Caller(user_id=self.user_id, name=self.name, agency=self.agency, role=self.role)


@pytest.fixture
def user(api: TestClient, driver, db: str, world: None):
    def make(agency: str, role: str) -> User:
        name = f"{role}-{uuid.uuid4().hex[:6]}"
        p = identity.upsert_user(Graph(driver, db), agency=agency, role=role, name=name)
        # A person's session with a fresh second factor: deciding a request needs one
        # (policies/data/second_factor.yaml; tests/second_factor.py).
        return User(p.user_id, name, agency, role, stepped_up(api, p.user_id))

    return make


def _audit(audit_dir, **filters):
    return query(audit_dir, AuditFilters(limit=1000, **filters))


def _iso(dt: datetime) -> str:
    return dt.isoformat()


# --- guest grants -------------------------------------------------------------------------------


def test_guest_grant_lifecycle(api, user, driver, db, audit_dir):
    chief, analyst = user("gendarmerie", "coordinator"), user("police", "analyst")
    guest, other_guest = user("prefecture", "guest_referent"), user("prefecture", "guest_referent")
    now = datetime.now(UTC)
    body = {"grantee_user_id": guest.user_id, "lead_ids": [H1],
            "entity_keys": ["vehicle:ab 123 cd"], "valid_until": _iso(now + timedelta(days=7)),
            "reason": "Comité CROSS du 14/10 : appui du bailleur social"}

    refused = api.post("/api/v1/guest-grants", json=body, headers=analyst.headers)
    assert refused.status_code == 403

    resp = api.post("/api/v1/guest-grants", json=body, headers=chief.headers)
    assert resp.status_code == 201, resp.text
    grant = resp.json()
    assert grant["status"] == "active" and grant["granted_by"] == chief.user_id
    assert grant["entity_keys"] == [f"vehicle:{PLATE}"]  # normalized as ingest did

    # The guest sees their own grant, another guest none; the chief sees every grant.
    mine = api.get("/api/v1/guest-grants", headers=guest.headers).json()
    assert [g["grant_id"] for g in mine] == [grant["grant_id"]]
    assert api.get("/api/v1/guest-grants", headers=other_guest.headers).json() == []
    every = api.get("/api/v1/guest-grants", headers=chief.headers).json()
    assert grant["grant_id"] in {g["grant_id"] for g in every}
    assert api.get("/api/v1/guest-grants", headers=analyst.headers).status_code == 403

    # What the hub feeds the engine: the grant now, and it opens the lead to the guest.
    soon = now + timedelta(minutes=1)
    active = graph_grants.active_grants_for(Graph(driver, db), guest.user_id, soon)
    assert [(type(g), g.grant_id) for g in active] == [(GuestGrant, grant["grant_id"])]
    marking = graph_grants.lead_marking(Graph(driver, db), H2)
    assert f"vehicle:{PLATE}" in marking.entity_keys  # covered through the vehicle
    h1 = graph_grants.lead_marking(Graph(driver, db), H1)
    assert decide(guest.caller, h1, POLICY, active, now=soon).outcome is Outcome.REDACTED
    assert decide(guest.caller, h1, POLICY, [], now=soon).outcome is Outcome.NONE
    # Past its end it is never returned, swept or not: the automatic revocation.
    later = now + timedelta(days=7, seconds=1)
    assert graph_grants.active_grants_for(Graph(driver, db), guest.user_id, later) == []

    notes = api.get("/api/v1/notifications", headers=guest.headers).json()
    assert [n["kind"] for n in notes] == ["guest_grant_created"]
    assert "autorisation d'invité" in notes[0]["message"]
    assert notes[0]["payload"]["grant_id"] == grant["grant_id"]

    [created] = [e for e in _audit(audit_dir, action=AuditAction.DISCLOSURE, user_id=chief.user_id)
                 if e.details.get("grant_id") == grant["grant_id"]]
    assert created.recipients == [guest.user_id] and created.lead_ids == [H1]
    assert created.entity_keys == [f"vehicle:{PLATE}"] and created.justification == body["reason"]

    # Revocation: by the chief only; then the grant no longer counts; once only.
    url = f"/api/v1/guest-grants/{grant['grant_id']}/revoke"
    assert api.post(url, json={"reason": "fin de mission"}, headers=analyst.headers).status_code == 403
    revoked = api.post(url, json={"reason": "fin de mission"}, headers=chief.headers)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert graph_grants.active_grants_for(Graph(driver, db), guest.user_id, datetime.now(UTC)) == []
    again = api.post(url, headers=chief.headers)
    assert again.status_code == 409 and "révoquée" in again.json()["message"]
    assert api.post("/api/v1/guest-grants/gg-nope/revoke", headers=chief.headers).status_code == 404
    [revocation] = [e for e in _audit(audit_dir, action=AuditAction.ALTERATION, user_id=chief.user_id)
                    if e.details.get("grant_id") == grant["grant_id"]]
    assert revocation.details["reason"] == "fin de mission"
    assert "guest_grant_revoked" in {
        n["kind"] for n in api.get("/api/v1/notifications", headers=guest.headers).json()}


def test_guest_grant_input_is_checked_field_by_field(api, user):
    chief, analyst = user("gendarmerie", "coordinator"), user("police", "analyst")
    now = datetime.now(UTC)
    resp = api.post("/api/v1/guest-grants", headers=chief.headers, json={
        "grantee_user_id": analyst.user_id,
        "lead_ids": [H1, "police:NOPE"],
        "entity_keys": ["vehicle:ZZ-999-ZZ", "substance:cocaine", "nokey"],
        "valid_until": _iso(now + timedelta(days=91)),
        "reason": "Comité CROSS",
    })
    assert resp.status_code == 422, resp.text
    reasons = {d["field"]: d["reason"] for d in resp.json()["details"]}
    assert set(reasons) == {"grantee_user_id", "lead_ids[1]", "entity_keys[0]", "entity_keys[1]",
                            "entity_keys[2]", "valid_until"}
    assert "guest_referent" in reasons["grantee_user_id"]
    assert "inconnue" in reasons["lead_ids[1]"] and "90 jours" in reasons["valid_until"]
    assert "trop partagé" in reasons["entity_keys[1]"]
    # Nothing half-written.
    assert not any(g["grantee_user_id"] == analyst.user_id for g in
                   api.get("/api/v1/guest-grants", headers=chief.headers).json())


def test_guest_grant_cannot_name_a_lead_the_chief_may_not_know(api, user, driver, db):
    # An embargoed lead of another service is "none" even for the chief: same as unknown.
    write_leads(Graph(driver, db), [Lead.model_validate(lead(
        source_agency="douanes", source_ref="DN-EMB", channel="customs_control",
        embargo_until=_iso(datetime.now(UTC) + timedelta(days=30))))])
    chief, guest = user("gendarmerie", "coordinator"), user("prefecture", "guest_referent")
    resp = api.post("/api/v1/guest-grants", headers=chief.headers, json={
        "grantee_user_id": guest.user_id, "lead_ids": ["douanes:DN-EMB"],
        "valid_until": _iso(datetime.now(UTC) + timedelta(days=1)), "reason": "Comité CROSS"})
    assert resp.status_code == 422
    assert resp.json()["details"] == [{"field": "lead_ids[0]",
                                       "reason": "piste inconnue : douanes:DN-EMB"}]


def test_expiry_sweep_marks_notifies_and_audits(api, user, driver, db, audit_dir):
    chief, guest = user("gendarmerie", "coordinator"), user("prefecture", "guest_referent")
    requester, owner = user("gendarmerie", "analyst"), user("police", "analyst")
    now = datetime.now(UTC)
    grant = api.post("/api/v1/guest-grants", headers=chief.headers, json={
        "grantee_user_id": guest.user_id, "lead_ids": [H1],
        "valid_until": _iso(now + timedelta(hours=1)), "reason": "Réunion ponctuelle"}).json()
    req = api.post("/api/v1/disclosure-requests", headers=requester.headers,
                   json={"lead_id": H2, "justification": "PV 2025/777 guetteurs"}).json()
    approved = api.post(f"/api/v1/disclosure-requests/{req['request_id']}/approve",
                        headers=owner.headers,
                        json={"valid_until": _iso(now + timedelta(hours=2))})
    assert approved.status_code == 200, approved.text

    at = now + timedelta(hours=3)
    expired = grant_expiry.sweep(Graph(driver, db), api.app.state.audit, at)
    ids = {g.grant_id for g in expired}
    assert {grant["grant_id"], req["request_id"]} <= ids
    assert grant_expiry.sweep(Graph(driver, db), api.app.state.audit, at) == []  # once

    assert graph_grants.get_guest_grant(Graph(driver, db), grant["grant_id"], at).status == "expired"
    mine = api.get("/api/v1/disclosure-requests?box=mine", headers=requester.headers).json()
    assert mine[0]["status"] == "expired" and mine[0]["expired_at"]
    for who, kind in ((guest, "guest_grant_expired"), (requester, "disclosure_expired")):
        assert kind in {n["kind"] for n in api.get("/api/v1/notifications", headers=who.headers).json()}

    ends = [e for e in _audit(audit_dir, action=AuditAction.ALTERATION)
            if e.decision.rule_id == "grant-expiry"]
    by_grant = {e.details["grant_id"]: e for e in ends}
    assert by_grant[grant["grant_id"]].recipients == [guest.user_id]
    assert by_grant[grant["grant_id"]].actor.kind == "system"
    assert by_grant[req["request_id"]].lead_ids == [H2]

    # The scheduler's way in: an administrator (or the chief), nobody else.
    assert api.post("/api/v1/grants/expire", headers=requester.headers).status_code == 403
    admin = user("police", "administrator")
    resp = api.post("/api/v1/grants/expire", headers=admin.headers)
    assert resp.status_code == 200 and isinstance(resp.json()["expired"], list)


# --- disclosure requests ------------------------------------------------------------------------


def test_disclosure_request_approved_end_to_end(api, user, driver, db, audit_dir):
    requester = user("gendarmerie", "analyst")
    police_chief, police_analyst = user("police", "coordinator"), user("police", "analyst")
    marking = graph_grants.lead_marking(Graph(driver, db), H2)
    assert decide(requester.caller, marking, POLICY, [], now=datetime.now(UTC)).outcome is Outcome.HIT

    resp = api.post("/api/v1/disclosure-requests", headers=requester.headers,
                    json={"lead_id": H2, "justification": "PV 2025/123 trafic Planoise"})
    assert resp.status_code == 201, resp.text
    req = resp.json()
    assert req["status"] == "requested" and req["owner_agency"] == "police"
    assert req["requester_user_id"] == requester.user_id

    # The owner's inbox and notification; the requester's own list.
    inbox = api.get("/api/v1/disclosure-requests?box=inbox", headers=police_analyst.headers).json()
    assert req["request_id"] in {r["request_id"] for r in inbox}
    other_inbox = api.get("/api/v1/disclosure-requests?box=inbox", headers=requester.headers).json()
    assert req["request_id"] not in {r["request_id"] for r in other_inbox}
    mine = api.get("/api/v1/disclosure-requests?box=mine", headers=requester.headers).json()
    assert [r["request_id"] for r in mine] == [req["request_id"]]
    notes = api.get("/api/v1/notifications?unread=true", headers=police_chief.headers).json()
    [note] = [n for n in notes if n["payload"].get("request_id") == req["request_id"]]
    assert note["kind"] == "disclosure_requested" and note["agency"] == "police"
    assert "demande la communication" in note["message"] and H2 in note["message"]

    # A second identical request while pending: refused.
    dup = api.post("/api/v1/disclosure-requests", headers=requester.headers,
                   json={"lead_id": H2, "justification": "PV 2025/123 trafic Planoise"})
    assert dup.status_code == 409 and dup.json()["details"][0]["field"] == "lead_id"

    until = datetime.now(UTC) + timedelta(days=30)
    ok = api.post(f"/api/v1/disclosure-requests/{req['request_id']}/approve",
                  headers=police_chief.headers,
                  json={"valid_until": _iso(until), "reason": "accord du chef de service"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "approved" and ok.json()["decided_by"] == police_chief.user_id

    now = datetime.now(UTC)
    grants = graph_grants.active_grants_for(Graph(driver, db), requester.user_id, now)
    assert [(type(g), g.lead_id, g.owner_agency.value, g.approved_by) for g in grants] == [
        (DisclosureGrant, H2, "police", police_chief.user_id)]
    assert decide(requester.caller, marking, POLICY, grants, now=now).outcome is Outcome.REDACTED
    assert graph_grants.active_grants_for(Graph(driver, db), requester.user_id, until) == []

    # The requester is told, and can mark it read.
    notes = api.get("/api/v1/notifications?unread=true", headers=requester.headers).json()
    [told] = [n for n in notes if n["kind"] == "disclosure_approved"]
    assert "acceptée" in told["message"]
    read = api.post(f"/api/v1/notifications/{told['notification_id']}/read", headers=requester.headers)
    assert read.status_code == 200 and read.json()["read_at"]
    assert told["notification_id"] not in {
        n["notification_id"] for n in
        api.get("/api/v1/notifications?unread=true", headers=requester.headers).json()}
    # Someone else's notification: the same 404 as an unknown one.
    stranger = api.post(f"/api/v1/notifications/{told['notification_id']}/read",
                        headers=police_analyst.headers)
    assert stranger.status_code == 404

    # Decided once: a second decision, either way, is a conflict.
    for verb, body in (("approve", {}), ("decline", {"reason": "trop tard"})):
        again = api.post(f"/api/v1/disclosure-requests/{req['request_id']}/{verb}",
                         headers=police_analyst.headers, json=body)
        assert again.status_code == 409, again.text
    # And asking again for what was just disclosed gains nothing.
    more = api.post("/api/v1/disclosure-requests", headers=requester.headers,
                    json={"lead_id": H2, "justification": "PV 2025/123 trafic Planoise"})
    assert more.status_code == 409

    # Every step in the trail: the request as a consultation at the hit, the approval as a
    # disclosure to the requester with the requester's justification.
    steps = {e.details.get("step"): e for e in _audit(audit_dir, lead_id=H2)
             if e.details.get("request_id") == req["request_id"]}
    asked = steps["disclosure_request"]
    assert asked.action is AuditAction.CONSULTATION and asked.decision.outcome.value == "hit"
    assert asked.actor.user_id == requester.user_id
    given = steps["disclosure_approval"]
    assert given.action is AuditAction.DISCLOSURE and given.actor.user_id == police_chief.user_id
    assert given.recipients == [requester.user_id]
    assert given.justification == "PV 2025/123 trafic Planoise"


def test_disclosure_request_declined(api, user, driver, db, audit_dir):
    requester = user("douanes", "analyst")
    other_chief, police_analyst = user("gendarmerie", "coordinator"), user("police", "analyst")
    req = api.post("/api/v1/disclosure-requests", headers=requester.headers,
                   json={"lead_id": H1, "justification": "Contrôle A36 du 12/10"}).json()
    url = f"/api/v1/disclosure-requests/{req['request_id']}"

    # Only the owning agency decides — not even the CROSS chief of another service.
    forbidden = api.post(f"{url}/approve", headers=other_chief.headers)
    assert forbidden.status_code == 403 and "service d'origine" in forbidden.json()["message"]
    assert api.post(f"{url}/decline", headers=requester.headers,
                    json={"reason": "non"}).status_code == 403
    missing = api.post(f"{url}/decline", headers=police_analyst.headers, json={})
    assert missing.status_code == 422 and "reason" in missing.json()["details"][0]["field"]
    assert api.post("/api/v1/disclosure-requests/dr-nope/approve",
                    headers=police_analyst.headers).status_code == 404

    resp = api.post(f"{url}/decline", headers=police_analyst.headers,
                    json={"reason": "procédure judiciaire en cours"})
    assert resp.status_code == 200 and resp.json()["status"] == "declined"
    assert graph_grants.active_grants_for(Graph(driver, db), requester.user_id, datetime.now(UTC)) == []
    notes = api.get("/api/v1/notifications", headers=requester.headers).json()
    [told] = [n for n in notes if n["kind"] == "disclosure_declined"]
    assert "refusée" in told["message"] and "procédure judiciaire en cours" in told["message"]
    # Declined requests leave the pending inbox.
    inbox = api.get("/api/v1/disclosure-requests?box=inbox", headers=police_analyst.headers).json()
    assert req["request_id"] not in {r["request_id"] for r in inbox}

    [declined] = [e for e in _audit(audit_dir, lead_id=H1)
                  if e.details.get("request_id") == req["request_id"]
                  and e.details.get("step") == "disclosure_decline"]
    assert declined.action is AuditAction.ALTERATION and declined.decision.outcome.value == "deny"
    assert declined.actor.user_id == police_analyst.user_id


def test_request_for_a_lead_one_may_not_know_is_the_unknown_404(api, user, audit_dir):
    requester = user("gendarmerie", "analyst")
    body = {"justification": "PV 2025/555 vérification"}
    hidden = api.post("/api/v1/disclosure-requests", headers=requester.headers,
                      json={**body, "lead_id": H3})
    absent = api.post("/api/v1/disclosure-requests", headers=requester.headers,
                      json={**body, "lead_id": "police:PN-NOPE"})
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json() == {"code": "not_found", "message": f"piste inconnue : {H3}"}
    assert absent.json() == {"code": "not_found", "message": "piste inconnue : police:PN-NOPE"}
    assert hidden.headers.keys() == absent.headers.keys()
    # Same answer as a read of an unknown lead.
    assert api.get("/api/v1/leads/police:PN-NOPE?justification=PV 2025/555",
                   headers=requester.headers).json() == absent.json()
    # Nothing created, nothing notified to the police; the attempts are in the trail.
    assert api.get("/api/v1/disclosure-requests?box=mine", headers=requester.headers).json() == []
    attempts = [e for e in _audit(audit_dir, user_id=requester.user_id)
                if e.details.get("step") == "disclosure_request_refused"]
    assert sorted(e.lead_ids[0] for e in attempts) == sorted([H3, "police:PN-NOPE"])
    assert all(e.decision.outcome.value == "none" for e in attempts)


def test_requests_that_cannot_gain_anything_or_may_not_be_made(api, user):
    body = {"justification": "PV 2025/999 contrôle"}
    analyst = user("gendarmerie", "analyst")
    own = api.post("/api/v1/disclosure-requests", headers=analyst.headers,
                   json={**body, "lead_id": OWN})
    assert own.status_code == 409 and "propre service" in own.json()["message"]
    # The chief of another service gets only the hit of an H3 lead, and no disclosure
    # through the hub can open it: told whom to contact instead.
    chief = user("gendarmerie", "coordinator")
    h3 = api.post("/api/v1/disclosure-requests", headers=chief.headers, json={**body, "lead_id": H3})
    assert h3.status_code == 409 and "contacter" in h3.json()["message"]

    no_reason = api.post("/api/v1/disclosure-requests", headers=analyst.headers, json={"lead_id": H2})
    assert no_reason.status_code == 400
    assert no_reason.json()["details"][0]["field"] == "justification"

    guest = user("prefecture", "guest_referent")
    assert api.post("/api/v1/disclosure-requests", headers=guest.headers,
                    json={**body, "lead_id": H2}).status_code == 403
    assert api.get("/api/v1/disclosure-requests?box=inbox", headers=guest.headers).status_code == 403
    assert api.get("/api/v1/disclosure-requests?box=mine", headers=guest.headers).json() == []
