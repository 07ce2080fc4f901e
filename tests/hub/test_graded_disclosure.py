"""Graded disclosure with a deadline, through the API against the real graph and a real audit
trail (policies/disclosure.py, policies/data/disclosure.yaml, ADR 0023):

* a partial release shows the requester exactly the released property groups of the lead and
  nothing else — raw response bytes, a canary in every unreleased field and linked entity;
  every other read (search, network) shows the lead as a hit only;
* when the release period ends, the requester is back to the hit;
* a request unanswered past its deadline (48 h, policy) reaches the CROSS coordinators — a
  notification and the meeting agenda — and not before; it shows overdue on read before the
  escalation job has run;
* the thread of a request is the requester's and the holder's (and the coordinator's once
  overdue): anyone else gets the 404 of an unknown request; each message is audited;
* bad input is a 422 naming the field, and nothing is half-written.

Time moves through the hub's clock dependency (``hub.deps.get_clock``), never by sleeping. Each
test writes its own leads and users (another module may wipe the graph between two tests)."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from graph import identity
from graph import meetings as gm
from graph.handle import Graph
from graph.leads import write_leads
from hub.access import access_filter_for
from hub.app import create_app
from hub.audit import AuditFilters, query
from hub.contract.lead import Lead
from hub.deps import get_clock
from hub.jobs import disclosure_escalation
from hub.settings import Settings
from policies.disclosure import withheld_properties
from policies.loader import load_policy
from tests.factories import canary_tag, lead, pseudonym, random_plate
from tests.second_factor import stepped_up

POLICY = load_policy()
JUST = "Vérification d'un recoupement sur le secteur"
DEADLINE = timedelta(hours=48)  # policies/data/disclosure.yaml: deadline_hours


@pytest.fixture(scope="module")
def api(hub_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = hub_settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("graded-hub")})
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def graph(api: TestClient, driver) -> Graph:
    return Graph(driver, api.app.state.settings.neo4j_database)


@dataclass
class Person:
    user_id: str
    agency: str
    role: str
    headers: dict[str, str]


@pytest.fixture
def person(api: TestClient, graph: Graph):
    def make(agency: str, role: str = "analyst", *, step_up: bool = False) -> Person:
        p = identity.upsert_user(graph, agency=agency, role=role,
                                 name=f"{role}-{uuid.uuid4().hex[:6]}")
        if step_up:  # deciding a request needs a fresh second factor (tests/second_factor.py)
            headers = stepped_up(api, p.user_id)
        else:
            headers = {"Authorization": f"Bearer {identity.issue_token(graph, p.user_id).token}"}
        return Person(p.user_id, agency, role, headers)

    return make


@contextmanager
def clock(api: TestClient, instant: datetime) -> Iterator[None]:
    api.app.dependency_overrides[get_clock] = lambda: instant
    try:
        yield
    finally:
        api.app.dependency_overrides.pop(get_clock, None)


@dataclass
class Canaries:
    lead_id: str
    plate: str
    phone_digits: str
    person: str
    narrative: str
    source_ref: str
    address: str


def _police_h2(graph: Graph) -> Canaries:
    """A police H2 lead (a gendarmerie analyst gets the hit only) with a canary in every
    field: its narrative, source reference, place, plate, phone and person."""
    tag = canary_tag()
    # 061x xx xx xx: always a valid French mobile number (some 06 ranges are not).
    digits = "1" + "".join(secrets.choice("0123456789") for _ in range(7))
    c = Canaries(lead_id="", plate=random_plate(), phone_digits=digits,
                 person=pseudonym(f"Nom{tag}"), narrative=f"Récit {tag} guetteur",
                 source_ref=f"PN-SRC{tag}", address=f"Rue {canary_tag()}")
    payload = lead(source_ref=c.source_ref, handling_code="H2", narrative=c.narrative,
                   vehicles=[{"plate": c.plate}], phones=[f"06{digits}"],
                   persons=[{"pseudonym": c.person}],
                   location={"insee_code": "25056", "commune": "Besançon", "address": c.address,
                             "point": {"lat": 47.2205, "lon": 5.9710}})
    [result] = write_leads(graph, [Lead.model_validate(payload)])
    c.lead_id = result.lead_id
    return c


def _request(api: TestClient, who: Person, lead_id: str) -> dict:
    r = api.post("/api/v1/disclosure-requests", headers=who.headers,
                 json={"lead_id": lead_id, "justification": JUST})
    assert r.status_code == 201, r.text
    return r.json()


def _read(api: TestClient, who: Person, lead_id: str) -> bytes:
    r = api.get(f"/api/v1/leads/{lead_id}", headers=who.headers, params={"justification": JUST})
    assert r.status_code == 200, r.text
    return r.content


def _audit(api: TestClient, **filters):
    return query(api.app.state.settings.audit_dir, AuditFilters(limit=1000, **filters))


# --- graded release --------------------------------------------------------------------------------


def test_a_partial_release_shows_the_released_groups_and_nothing_else(api, graph, person):
    c = _police_h2(graph)
    requester, holder = person("gendarmerie"), person("police", step_up=True)
    hit = _read(api, requester, c.lead_id)
    assert c.plate.encode() not in hit and c.address.encode() not in hit  # a hit before

    req = _request(api, requester, c.lead_id)
    ok = api.post(f"/api/v1/disclosure-requests/{req['request_id']}/approve", headers=holder.headers,
                  json={"groups": ["place", "vehicles"], "reason": "le lieu et le véhicule seulement"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["released_groups"] == ["place", "vehicles"]

    body = _read(api, requester, c.lead_id)
    # Released: the place and the plate.
    assert c.plate.encode() in body and c.address.encode() in body
    # Withheld, every one: narrative, source reference, evaluation codes, channel, dates, the
    # phone, the person.
    for canary in (c.narrative, c.source_ref, c.phone_digits, c.person.split(":")[-1]):
        assert canary.encode() not in body, canary
    for field in ("source_reliability", "information_credibility", "channel", "observed_at"):
        assert f'"{field}":"'.encode() not in body, field
    withheld = withheld_properties(POLICY, ["place", "vehicles"])
    assert set(api.get(f"/api/v1/leads/{c.lead_id}", headers=requester.headers,
                       params={"justification": JUST}).json()["redacted"]) >= withheld

    # Every other read shows that lead as a hit: search by plate, the plate's network.
    for path, params in (("/api/v1/search", {"kind": "plate", "q": c.plate}),
                         (f"/api/v1/entities/vehicle/{quote(c.plate)}/network", {"depth": "2"})):
        r = api.get(path, headers=requester.headers, params={**params, "justification": JUST})
        assert r.status_code == 200, r.text
        for canary in (c.narrative, c.source_ref, c.phone_digits, c.address):
            assert canary.encode() not in r.content, (path, canary)
        assert c.lead_id.encode() not in r.content or b'"hit' in r.content, path

    # The approval is in the trail as a disclosure of those groups to the requester.
    [entry] = [e for e in _audit(api, lead_id=c.lead_id)
               if e.details.get("step") == "disclosure_approval"]
    assert entry.details["released_groups"] == "place,vehicles"
    assert entry.recipients == [requester.user_id]


def test_when_the_period_ends_the_requester_is_back_to_the_hit(api, graph, person):
    c = _police_h2(graph)
    requester, holder = person("gendarmerie"), person("police", step_up=True)
    req = _request(api, requester, c.lead_id)
    # A release of a few seconds (the second factor is checked against the hub's clock, so the
    # approval happens now; access is decided at each read's own instant).
    end = datetime.now(UTC) + timedelta(seconds=10)
    ok = api.post(f"/api/v1/disclosure-requests/{req['request_id']}/approve", headers=holder.headers,
                  json={"groups": ["vehicles"], "valid_until": end.isoformat()})
    assert ok.status_code == 200, ok.text
    assert c.plate.encode() in _read(api, requester, c.lead_id)  # released
    deadline = time.monotonic() + 20
    while datetime.now(UTC) < end:
        time.sleep(0.2)
    while (body := _read(api, requester, c.lead_id)) and c.plate.encode() in body:
        assert time.monotonic() < deadline, "still released past its end"
        time.sleep(0.2)
    assert b'"lead_count"' in body  # the hit again, nothing of the release
    assert c.address.encode() not in body


# --- deadline and escalation ---------------------------------------------------------------------


def test_a_request_past_its_deadline_reaches_the_coordinator_and_not_before(api, graph, person):
    c = _police_h2(graph)
    requester, coordinator = person("gendarmerie"), person("prefecture", "coordinator")
    now = datetime.now(UTC)
    asked = now - DEADLINE + timedelta(hours=1)  # due in one hour
    with clock(api, asked):
        req = _request(api, requester, c.lead_id)
    rid = req["request_id"]
    assert datetime.fromisoformat(req["due_at"]) == asked + DEADLINE
    rules, audit = api.app.state.rulebook.disclosure, api.app.state.audit

    def told() -> list[dict]:
        notes = api.get("/api/v1/notifications", headers=coordinator.headers).json()
        return [n for n in notes if n["kind"] == "disclosure_escalated"
                and n["payload"].get("request_id") == rid]

    def on_agenda(at: datetime):
        principal = identity.get_user(graph, coordinator.user_id)
        access = access_filter_for(graph, principal, at, policy=api.app.state.rulebook.policy)
        week = gm.iso_week_of(at)
        agenda, _ = gm.build_agenda(graph, gm.unsaved_meeting("25", week), principal, access, now=at)
        return next((d for d in agenda.pending_disclosures if d.request_id == rid), None)

    # Before the deadline: the sweep leaves it, nobody is told, the agenda does not flag it.
    disclosure_escalation.sweep(graph, audit, rules, now)
    assert told() == []
    before = on_agenda(now)
    assert before is not None and not before.overdue and not before.escalated
    assert api.get(f"/api/v1/disclosure-requests/{rid}", headers=coordinator.headers).status_code == 404

    # Past it, before any sweep: overdue on every read already (the requester's list, the agenda).
    later = now + timedelta(hours=2)
    with clock(api, later):
        mine = api.get("/api/v1/disclosure-requests", headers=requester.headers).json()
        assert next(r for r in mine if r["request_id"] == rid)["overdue"] is True
        box = api.get("/api/v1/disclosure-requests", headers=coordinator.headers,
                      params={"box": "escalated"}).json()
        assert rid in [r["request_id"] for r in box]
    assert on_agenda(later).overdue

    # The sweep escalates it once: the coordinator is told, the agenda marks it, the trail has it.
    assert [r.request_id for r in disclosure_escalation.sweep(graph, audit, rules, later)
            if r.request_id == rid] == [rid]
    assert disclosure_escalation.sweep(graph, audit, rules, later) == []
    assert len(told()) == 1 and c.lead_id in told()[0]["message"]
    assert on_agenda(later).escalated
    assert [e.details["request_id"] for e in _audit(api, lead_id=c.lead_id)
            if e.details.get("step") == "disclosure_escalation"] == [rid]


# --- the thread ----------------------------------------------------------------------------------


def test_the_thread_is_the_two_sides_and_nobody_else(api, graph, person):
    c = _police_h2(graph)
    requester, holder = person("gendarmerie"), person("police")
    third, coordinator = person("douanes"), person("prefecture", "coordinator")
    rid = _request(api, requester, c.lead_id)["request_id"]
    url = f"/api/v1/disclosure-requests/{rid}"
    question, answer = f"Question {canary_tag()} ?", f"Réponse {canary_tag()}."

    r = api.post(f"{url}/messages", headers=requester.headers, json={"text": question})
    assert r.status_code == 201, r.text and r.json()["side"] == "requester"
    r = api.post(f"{url}/messages", headers=holder.headers, json={"text": answer})
    assert r.status_code == 201, r.text
    for who, side in ((requester, "requester"), (holder, "holder")):
        thread = api.get(url, headers=who.headers)
        assert thread.status_code == 200 and thread.json()["side"] == side
        assert [m["text"] for m in thread.json()["messages"]] == [question, answer]

    # Another agency, and a coordinator before the deadline: exactly an unknown request's 404.
    unknown = api.get("/api/v1/disclosure-requests/dr-nope", headers=third.headers)
    for who in (third, coordinator):
        got = api.get(url, headers=who.headers)
        assert got.status_code == 404 and question.encode() not in got.content
        assert got.json()["message"] == unknown.json()["message"].replace("dr-nope", rid)
        assert api.post(f"{url}/messages", headers=who.headers,
                        json={"text": "Et nous ?"}).status_code == 404

    # The requester is notified of the answer; each message is in the trail (not its text).
    notes = api.get("/api/v1/notifications", headers=requester.headers).json()
    assert any(n["kind"] == "disclosure_message" and n["payload"]["request_id"] == rid for n in notes)
    entries = [e for e in _audit(api, lead_id=c.lead_id) if e.details.get("step") == "disclosure_message"]
    assert sorted(e.details["side"] for e in entries) == ["holder", "requester"]
    assert all(question not in e.model_dump_json() for e in entries)


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field"), [
    ({"groups": ["place", "pas-un-groupe"]}, "groups"),
    ({"groups": []}, "groups"),
    ({"groups": ["vehicles"], "valid_until": "VALID_FAR"}, "valid_until"),
    ({"groups": ["vehicles"], "valid_until": "VALID_PAST"}, "valid_until"),
])
def test_a_bad_approval_is_a_422_naming_the_field_and_changes_nothing(api, graph, person, body, field):
    c = _police_h2(graph)
    requester, holder = person("gendarmerie"), person("police", step_up=True)
    rid = _request(api, requester, c.lead_id)["request_id"]
    now = datetime.now(UTC)
    dates = {"VALID_FAR": (now + timedelta(days=91)).isoformat(),
             "VALID_PAST": (now - timedelta(minutes=1)).isoformat()}
    body = {k: dates.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    r = api.post(f"/api/v1/disclosure-requests/{rid}/approve", headers=holder.headers, json=body)
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["details"]] == [field]
    mine = api.get("/api/v1/disclosure-requests", headers=requester.headers).json()
    assert next(x for x in mine if x["request_id"] == rid)["status"] == "requested"
    assert c.plate.encode() not in _read(api, requester, c.lead_id)


def test_a_message_with_a_phone_number_is_refused_by_the_identity_guard(api, graph, person):
    c = _police_h2(graph)
    requester = person("gendarmerie")
    rid = _request(api, requester, c.lead_id)["request_id"]
    r = api.post(f"/api/v1/disclosure-requests/{rid}/messages", headers=requester.headers,
                 json={"text": "Appelez le 06 12 34 56 78 svp"})
    assert r.status_code == 422 and [d["field"] for d in r.json()["details"]] == ["body.text"]
    assert api.get(f"/api/v1/disclosure-requests/{rid}", headers=requester.headers).json()["messages"] == []
