"""Writes that name a lead or an entity are no existence oracle (ADR 0002, "Amendment: entity
marking"): a guest grant (``POST /api/v1/guest-grants``), a meeting action (``POST
/api/v1/meetings/{id}/actions``) and a disclosure request (``POST /api/v1/disclosure-requests``)
resolve what they name through the caller's compiled access filter, so naming a lead or entity
the caller may not even know of answers byte for byte like naming one nobody holds (status,
headers but ``date``, body once the key is substituted).

Every lead is police's, every caller of the gendarmerie; levels are the policy's
(policies/data/rules.yaml):

- the CROSS chief (coordinator): full on H0-H2, hit on H3, nothing under embargo — so the
  chief's "none" is an embargoed lead, and H3 is a hit;
- an analyst: redacted on H0/H1, hit on H2, nothing on H3 or under embargo.

A guest grant may name what the chief knows at least as a hit; a meeting action only what its
author may read (hit-level and unknown answer alike); a disclosure request what the caller knows
as a hit, and an entity hit handle stands for the leads its hit counted — the places of a commune,
a seizure's substances, the lead of a ``SAME_AS`` link included (``graph.read.asserting_leads``).
Lead ids come from the write results (opaque, ADR 0007)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest

from graph import identity
from graph.driver import reset_database
from graph.handle import Graph
from graph.leads import write_leads
from graph.setup import apply_schema
from hub.contract.lead import Lead
from tests.factories import lead, pseudonym

JUSTIFY = "justification=PV-2025-0042"
FUTURE = (datetime.now(UTC) + timedelta(days=30)).isoformat()
UNTIL = (datetime.now(UTC) + timedelta(days=7)).isoformat()
MEETING = "25-2025-W47"

# One plate per marking, each mentioned by that lead alone; NEVER is held by nobody (same length).
PLATE = {"H1": "GB-101-AA", "H2": "GB-102-AA", "H3": "GB-103-AA", "EMB": "GB-104-AA"}
NEVER_PLATE = "ZZ-999-ZZ"
MARKINGS = {"H1": {"handling_code": "H1"}, "H2": {"handling_code": "H2"},
            "H3": {"handling_code": "H3"}, "EMB": {"handling_code": "H0", "embargo_until": FUTURE}}
PONTARLIER = {"insee_code": "25462", "commune": "Pontarlier", "address": "Rue de la Gare"}
MAIN, ALIAS = pseudonym("Oracle", "Main"), pseudonym("Oracle", "Alias")


class World:
    lead_ids: dict[str, str] = {}  # marking name (or "COMMUNE", "ALIAS", "KETAMINE") -> public id
    seizures: dict[str, str] = {}


def _payloads() -> list[dict]:
    out = [lead(source_ref=f"GO-{name}", kind="seizure", **marking,
                vehicles=[{"plate": PLATE[name]}],
                seizure={"cash_eur": "1000", "substances": [{"substance": "heroin"}]})
           for name, marking in MARKINGS.items()]
    out += [
        # H2 leads: a hit to a gendarmerie analyst, each reachable through one entity only.
        lead(source_ref="GO-COMMUNE", handling_code="H2", location=PONTARLIER),
        lead(source_ref="GO-ALIAS", handling_code="H2",
             persons=[{"pseudonym": MAIN, "aliases": [ALIAS], "role": "seller"}]),
        lead(source_ref="GO-KETAMINE", kind="seizure", handling_code="H2",
             seizure={"substances": [{"substance": "ketamine", "quantity": "3", "unit": "kg"}]}),
    ]
    return out


@pytest.fixture(scope="module")
def world(driver, hub_settings) -> type[World]:
    db = hub_settings.neo4j_database
    reset_database(Graph(driver, db))
    apply_schema(Graph(driver, db))
    payloads = _payloads()
    results = write_leads(Graph(driver, db), [Lead.model_validate(p) for p in payloads])
    assert [r.outcome.value for r in results] == ["created"] * len(payloads)
    World.lead_ids = {p["source_ref"].removeprefix("GO-"): r.lead_id
                      for p, r in zip(payloads, results, strict=True)}
    World.seizures = {
        name: driver.execute_query(
            "MATCH (:Lead {lead_id: $id})-[:RECORDED]->(s:Seizure) RETURN s.seizure_id AS key",
            id=World.lead_ids[name], database_=db).records[0]["key"]
        for name in MARKINGS}
    return World


@pytest.fixture
def user(driver, hub_settings, world):
    def make(agency: str, role: str) -> tuple[str, dict[str, str]]:
        db = hub_settings.neo4j_database
        p = identity.upsert_user(Graph(driver, db), agency=agency, role=role,
                                 name=f"oracle-{role}-{uuid.uuid4().hex[:6]}")
        return p.user_id, {"Authorization": f"Bearer {identity.issue_token(Graph(driver, db), p.user_id).token}"}

    return make


def never_lead() -> str:
    return f"L-{uuid.uuid4()}"  # the shape and length of a public id, held by nobody


def assert_same_answer(a: httpx.Response, b: httpx.Response, known: str, unknown: str) -> None:
    """Same status, same headers but ``date``, same bytes once the key is substituted."""
    assert len(known) == len(unknown), (known, unknown)
    assert a.status_code == b.status_code, (a.status_code, b.status_code, a.text, b.text)
    strip = lambda r: {k: v for k, v in r.headers.items() if k.lower() != "date"}  # noqa: E731
    assert strip(a) == strip(b)
    assert a.content == b.content.replace(unknown.encode(), known.encode()), (a.content, b.content)


def _grant(client, headers, guest_id: str, *, leads=(), entities=()) -> httpx.Response:
    return client.post("/api/v1/guest-grants", headers=headers, json={
        "grantee_user_id": guest_id, "lead_ids": list(leads), "entity_keys": list(entities),
        "valid_until": UNTIL, "reason": "Comité CROSS 25 : appui du bailleur"})


def _action(client, headers, *, leads=(), entities=()) -> httpx.Response:
    return client.post(f"/api/v1/meetings/{MEETING}/actions", headers=headers, json={
        "title": "Vérifier le véhicule", "lead_agency": "police", "tasked": "BAC de Besançon",
        "deadline": "2025-11-28", "lead_ids": list(leads), "entity_ids": list(entities)})


def _named(world: type[World], name: str) -> list[tuple[str, str, str]]:
    """(field, key known to the graph, never-held key of the same length) for what the lead
    ``name`` names: the lead itself, its plate, its seizure."""
    seizure = world.seizures[name]
    return [("lead", world.lead_ids[name], never_lead()),
            ("entity", f"vehicle:{PLATE[name]}", f"vehicle:{NEVER_PLATE}"),
            ("entity", f"seizure:{seizure}", f"seizure:{never_lead()}:seizure")]


# --- the CROSS chief -------------------------------------------------------------------------------


def test_chief_naming_what_they_may_not_know_in_a_grant_answers_like_nothing(client, world, user):
    _, chief = user("gendarmerie", "coordinator")
    guest_id, _ = user("prefecture", "guest_referent")
    for field, known, unknown in _named(world, "EMB"):  # embargoed: "none" even for the chief
        arg = "leads" if field == "lead" else "entities"
        a = _grant(client, chief, guest_id, **{arg: [known]})
        b = _grant(client, chief, guest_id, **{arg: [unknown]})
        assert a.status_code == 422, a.text
        assert_same_answer(a, b, known, unknown)
    listed = client.get("/api/v1/guest-grants", headers=chief).json()
    assert not any(g["grantee_user_id"] == guest_id for g in listed)  # nothing half-written


@pytest.mark.parametrize("name", ["H3", "H2", "H1"], ids=["H3-hit", "H2-full", "H1-full"])
def test_chief_may_name_in_a_grant_what_they_know_at_least_as_a_hit(client, world, user, name):
    _, chief = user("gendarmerie", "coordinator")
    guest_id, _ = user("prefecture", "guest_referent")
    named = _named(world, name)
    resp = _grant(client, chief, guest_id, leads=[k for f, k, _ in named if f == "lead"],
                  entities=[k for f, k, _ in named if f == "entity"])
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["lead_ids"] == [world.lead_ids[name]]
    assert body["entity_keys"] == [k for f, k, _ in named if f == "entity"]


def test_chief_naming_what_they_may_not_read_in_an_action_answers_like_nothing(client, world, user):
    _, chief = user("gendarmerie", "coordinator")
    created = client.post("/api/v1/meetings", json={"departement": "25", "week": "2025-W47"},
                          headers=chief)
    assert created.status_code in (200, 201), created.text
    # Embargoed ("none") and H3 ("hit": no one decides on what they cannot read) alike.
    for name in ("EMB", "H3"):
        for field, known, unknown in _named(world, name):
            arg = "leads" if field == "lead" else "entities"
            a, b = _action(client, chief, **{arg: [known]}), _action(client, chief, **{arg: [unknown]})
            assert a.status_code == 422, (name, a.text)
            assert_same_answer(a, b, known, unknown)
    readable = _named(world, "H2")
    resp = _action(client, chief, leads=[k for f, k, _ in readable if f == "lead"],
                   entities=[k for f, k, _ in readable if f == "entity"])
    assert resp.status_code == 201, resp.text
    assert resp.json()["handling_code"] == "H2"
    assert resp.json()["entity_ids"] == sorted(k for f, k, _ in readable if f == "entity")


# --- an analyst of another service -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["H3", "H2"], ids=["H3-none", "H2-hit"])
def test_analyst_may_neither_grant_nor_decide_whatever_is_named(client, world, user, name):
    # Both writes are the chief's: refused on the role, before anything named is looked up.
    _, analyst = user("gendarmerie", "analyst")
    guest_id, _ = user("prefecture", "guest_referent")
    for field, known, unknown in _named(world, name):
        arg = "leads" if field == "lead" else "entities"
        for write in (lambda **kw: _grant(client, analyst, guest_id, **kw),
                      lambda **kw: _action(client, analyst, **kw)):
            a, b = write(**{arg: [known]}), write(**{arg: [unknown]})
            assert a.status_code == 403, a.text
            assert_same_answer(a, b, known, unknown)


def test_analyst_requesting_a_lead_they_may_not_know_answers_like_nothing(client, world, user):
    _, analyst = user("gendarmerie", "analyst")
    known, unknown = world.lead_ids["H3"], never_lead()
    ask = lambda lead_id: client.post("/api/v1/disclosure-requests", headers=analyst,  # noqa: E731
                                      json={"lead_id": lead_id, "justification": "PV 2025/42"})
    a, b = ask(known), ask(unknown)
    assert a.status_code == 404, a.text
    assert_same_answer(a, b, known, unknown)
    hit = ask(world.lead_ids["H2"])
    assert hit.status_code == 201, hit.text
    assert hit.json()["lead_id"] == world.lead_ids["H2"]


@pytest.mark.parametrize(("kind", "key", "subject"), [
    ("commune", "25462", "COMMUNE"),  # the lead is at a place of the commune
    ("person", ALIAS, "ALIAS"),  # the lead asserted the SAME_AS link to this alias
    ("substance", "ketamine", "KETAMINE"),  # the lead's seizure is of the substance
], ids=["commune-places", "same-as", "seizure-substance"])
def test_an_entity_hit_handle_stands_for_the_leads_its_hit_counted(client, world, user, kind, key,
                                                                   subject):
    _, analyst = user("gendarmerie", "analyst")
    network = client.get(f"/api/v1/entities/{kind}/{quote(key, safe='')}/network?depth=1&{JUSTIFY}",
                         headers=analyst)
    assert network.status_code == 200, network.text
    [hit] = [h for h in network.json()["hits"] if h["entity"] == f"{kind}:{key}"]
    assert (hit["agency"], hit["lead_count"]) == ("police", 1) and hit["handle"]
    resp = client.post("/api/v1/disclosure-requests", headers=analyst,
                       json={"hit": hit["handle"], "justification": "PV 2025/42"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["lead_id"] == world.lead_ids[subject]


# --- what an agenda tells of an action ------------------------------------------------------------


def test_an_action_naming_an_entity_is_told_only_to_who_may_read_that_entity(client, world, user):
    """The chief decides on the H2 lead's plate alone (no lead named). Participants learn the
    action only if they may read the plate (a lead they read asserts it): the police analyst
    (own lead) and the chief see it whole; a gendarmerie analyst, for whom the H2 lead is a hit,
    gets it withheld — no title, no entity key, the plate nowhere in the raw bytes."""
    _, chief = user("gendarmerie", "coordinator")
    created = client.post("/api/v1/meetings", json={"departement": "25", "week": "2025-W47"},
                          headers=chief)
    assert created.status_code in (200, 201), created.text
    plate = f"vehicle:{PLATE['H2']}"
    resp = _action(client, chief, entities=[plate])
    assert resp.status_code == 201, resp.text
    action_id = resp.json()["action_id"]

    def agenda_action(headers: dict[str, str]) -> tuple[dict, bytes]:
        r = client.get(f"/api/v1/meetings/{MEETING}/agenda?{JUSTIFY}", headers=headers)
        assert r.status_code == 200, r.text
        found = [a for section in ("actions_decided", "actions_due")
                 for a in r.json()[section] if a["action_id"] == action_id]
        assert found, f"action {action_id} missing from the agenda: {r.text[:500]}"
        return found[0], r.content

    for headers in (chief, user("police", "analyst")[1]):
        action, _ = agenda_action(headers)
        assert action["withheld"] is False and action["entity_ids"] == [plate]
        assert action["title"] == "Vérifier le véhicule"
    action, raw = agenda_action(user("gendarmerie", "analyst")[1])
    assert action["withheld"] is True and action["entity_ids"] == [] and action["title"] is None
    assert PLATE["H2"].encode() not in raw and PLATE["H2"].replace("-", "").encode() not in raw
