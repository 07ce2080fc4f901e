"""Federation tickets on the lead sheet and the entity sheet (issue 16, item 5): shown with a
lead the caller reads at full or redacted level, never to a hit-level caller — whose raw bytes
hold nothing of the ticket (no CROSS, no desk, no ticket id).

The access levels come from the policy's table (tests/hub/test_policy_enforcement.py): a
gendarmerie analyst reads a police H1 lead redacted (vehicles shown) and a police H2 lead as a
hit; a police analyst reads both in full.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from graph.federation import TicketDraft, TicketSide, open_ticket
from graph.handle import Graph
from graph.leads import write_leads
from hub.contract.lead import Lead
from tests.factories import canary_tag, lead

JUSTIFY = "justification=PV-2026-1207"
PARIS = ZoneInfo("Europe/Paris")
# The policy's names of the peers (policies/data/federation.yaml, ``crosses``).
JURA, HAUTE_SAONE = "CROSS du Jura", "CROSS de la Haute-Saône"


def _plate() -> str:
    letters = canary_tag(4)
    return f"{letters[:2]}-{random.randint(100, 999)}-{letters[2:]}"


def _due_fr(due: datetime) -> str:
    return due.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


@pytest.fixture(scope="module")
def world(driver, hub_settings, client):
    graph = Graph(driver, hub_settings.neo4j_database)
    rules = client.app.state.rulebook.federation
    p1, p2 = _plate(), _plate()
    leads = [Lead.model_validate(lead(source_agency="police", handling_code="H1",
                                      vehicles=[{"plate": p1}])),
             Lead.model_validate(lead(source_agency="police", handling_code="H2",
                                      vehicles=[{"plate": p2}])),
             # The gendarmerie's own lead on P2: its entity sheet is readable to them.
             Lead.model_validate(lead(source_agency="gendarmerie", source_ref=f"GN-{canary_tag()}",
                                      handling_code="H1", vehicles=[{"plate": p2}]))]
    h1, h2, _ = (w.lead_id for w in write_leads(graph, leads))
    now = datetime.now(UTC)
    desk39, desk70 = rules.crosses["cross-39"].desks["police"], rules.crosses["cross-70"].desks["police"]
    past, future = now - timedelta(hours=3), now + timedelta(hours=45)
    drafts = {
        "t1": TicketDraft(side=TicketSide.CLAIMANT, peer="cross-39", kind="plate", entity_key=p1,
                          ticket_id=f"FT-{canary_tag()}", lead_ids=[h1], agencies=["police"],
                          handling_code="H1", desk=desk39, due_at=past),
        "t2": TicketDraft(side=TicketSide.CLAIMANT, peer="cross-70", kind="plate", entity_key=p2,
                          ticket_id=f"FT-{canary_tag()}", lead_ids=[h2], agencies=["police"],
                          handling_code="H2", desk=desk70, due_at=future),
        "t3": TicketDraft(side=TicketSide.HOLDER, peer="cross-39", kind="plate", entity_key=p2,
                          lead_ids=[h2], agencies=["police"], handling_code="H2",
                          desk="Secrétariat CROSS 25", due_at=future),
    }
    tickets = {name: open_ticket(graph, d, now - timedelta(hours=50))[0]
               for name, d in drafts.items()}
    return {"p1": p1, "p2": p2, "h1": h1, "h2": h2, "tickets": tickets, "desk39": desk39,
            "desk70": desk70, "past": past, "future": future}


@pytest.fixture(scope="module")
def callers(make_user_module):
    return {"police": make_user_module("police"), "gendarmerie": make_user_module("gendarmerie")}


@pytest.fixture(scope="module")
def make_user_module(hub_settings, driver):
    from graph import identity

    def make(agency: str) -> dict[str, str]:
        g = Graph(driver, hub_settings.neo4j_database)
        user = identity.upsert_user(g, agency=agency, role="analyst", name=f"fed-{canary_tag(6)}",
                                    contact=f"Permanence CROSS — {agency}")
        return {"Authorization": f"Bearer {identity.issue_token(g, user.user_id).token}"}

    return make


def _texts(body: dict) -> dict[str, str]:
    return {n["ticket_id"]: f"{n['text']} ({n['status_fr']})" for n in body["federation"]}


def _assert_nothing_of(raw: bytes, world: dict, *names: str) -> None:
    """No byte of the tickets: ids, peers, names, desks (their ASCII phone part too)."""
    marks = [t.ticket_id for t in world["tickets"].values()] + ["cross-39", "cross-70", *names]
    for desk in (world["desk39"], world["desk70"]):
        marks += [desk, desk.rsplit("— ", 1)[-1]]
    for mark in marks:
        assert mark.encode() not in raw, mark
        assert mark.encode("unicode_escape") not in raw, mark


def test_full_reader_sees_both_sides_with_desk_and_due_date(client, world, callers, hub_settings):
    t2, t3 = world["tickets"]["t2"], world["tickets"]["t3"]
    resp = client.get(f"/api/v1/leads/{world['h2']}?{JUSTIFY}", headers=callers["police"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["access"] == "full"
    due = _due_fr(world["future"])
    assert _texts(resp.json()) == {
        t2.ticket_id: f"Aussi détenu par {HAUTE_SAONE} — contactez {world['desk70']} — "
                      f"réponse attendue avant le {due} (en attente de réponse)",
        t3.ticket_id: f"{JURA} détient aussi cet identifiant et attend votre réponse avant le "
                      f"{due} (en attente de réponse)",
    }
    assert all(n["overdue"] is False and n["status"] == "open" for n in resp.json()["federation"])
    # The consultation in the trail names the tickets shown with the lead.
    from hub.audit import AuditFilters, query

    entries = query(hub_settings.audit_dir, AuditFilters(
        action="consultation", entity_key=f"federation-ticket:{t2.ticket_id}", limit=5))
    assert entries and world["h2"] in entries[0].lead_ids
    assert f"federation-ticket:{t3.ticket_id}" in entries[0].entity_keys


def test_hit_reader_gets_no_byte_of_the_tickets(client, world, callers):
    resp = client.get(f"/api/v1/leads/{world['h2']}?{JUSTIFY}", headers=callers["gendarmerie"])
    assert resp.status_code == 200, resp.text
    assert set(resp.json()) == {"entity", "agency", "lead_count", "contact", "handle"}
    _assert_nothing_of(resp.content, world, JURA, HAUTE_SAONE, "Haute-Sa", "CROSS du")


def test_redacted_reader_sees_the_overdue_ticket(client, world, callers):
    t1 = world["tickets"]["t1"]
    resp = client.get(f"/api/v1/leads/{world['h1']}?{JUSTIFY}", headers=callers["gendarmerie"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["access"] == "redacted" and "vehicles" not in body["redacted"]
    assert _texts(body) == {
        t1.ticket_id: f"Aussi détenu par {JURA} — contactez {world['desk39']} — réponse attendue "
                      f"avant le {_due_fr(world['past'])} (en retard)"}
    assert body["federation"][0]["overdue"] is True


def test_entity_sheet_shows_only_tickets_behind_leads_read(client, world, callers):
    url = f"/api/v1/entities/vehicle/{world['p2']}/network?{JUSTIFY}"
    # The gendarmerie reads the plate through its own lead; the tickets stand behind the police
    # H2 lead, a hit to them: nothing of the tickets.
    resp = client.get(url, headers=callers["gendarmerie"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["federation"] == []
    _assert_nothing_of(resp.content, world, JURA, HAUTE_SAONE, "Haute-Sa", "CROSS du")
    resp = client.get(url, headers=callers["police"])
    assert resp.status_code == 200, resp.text
    assert set(_texts(resp.json())) == {world["tickets"]["t2"].ticket_id,
                                        world["tickets"]["t3"].ticket_id}


def test_a_watch_on_the_plate_is_told_of_a_new_ticket(client, world, callers):
    """A ticket opening on a watched plate is a watch hit « partagé avec CROSS 39 » to a
    watcher reading a lead behind it; a hit-level watcher is told nothing of it."""
    from hub.jobs import federation_watches

    headers = {"police": callers["police"], "gendarmerie": callers["gendarmerie"]}
    for h in headers.values():
        r = client.post("/api/v1/watches", headers=h, json={
            "entity_kind": "vehicle", "value": world["p2"].lower().replace("-", " "),
            "justification": "PV 2026/1207 — veille"})
        assert r.status_code == 201, r.text
        label = r.json()["label"]  # what the watcher reads the watch as
    t2, t3 = world["tickets"]["t2"], world["tickets"]["t3"]
    assert federation_watches.after_tickets(client.app, [t2, t3], datetime.now(UTC)) == 2
    police = client.get("/api/v1/notifications", headers=headers["police"])
    told = sorted(n["message"] for n in police.json() if n["kind"] == "watch_hit")
    assert world["p2"] in label
    due = _due_fr(world["future"])
    assert told == sorted([
        f"Veille « {label} » : partagé avec CROSS 70 ({HAUTE_SAONE}) — contactez "
        f"{world['desk70']} — réponse attendue avant le {due}.",
        f"Veille « {label} » : partagé avec CROSS 39 ({JURA}), qui attend votre réponse avant "
        f"le {due}.",
    ])
    gendarmerie = client.get("/api/v1/notifications", headers=headers["gendarmerie"])
    assert gendarmerie.status_code == 200
    assert [n for n in gendarmerie.json() if n["kind"] == "watch_hit"] == []
    _assert_nothing_of(gendarmerie.content, world, JURA, HAUTE_SAONE, "Haute-Sa", "CROSS 70",
                       "CROSS 39")


# --- the weekly brief and the meeting agenda ------------------------------------------------------

W45 = "2026-W45"  # Monday 2 → Sunday 8 November 2026 (Paris)
BRIEF_NOW = datetime(2026, 11, 9, 8, tzinfo=UTC)  # the Monday after: the brief's « now »


def _ticket(graph, side, peer, agency, created: datetime, due: datetime, desk: str) -> str:
    draft = TicketDraft(side=side, peer=peer, kind="plate", entity_key=_plate(),
                        ticket_id=f"FT-{canary_tag()}", lead_ids=[f"L-{canary_tag()}"],
                        agencies=[agency], handling_code="H1", desk=desk, due_at=due)
    return open_ticket(graph, draft, created)[0].ticket_id


def test_brief_and_agenda_list_the_agencys_tickets_and_the_overdue_ones(driver, hub_settings):
    from graph import meetings as gm
    from graph.access import AccessFilter
    from graph.identity import Principal
    from hub import brief as hub_brief

    graph = Graph(driver, hub_settings.neo4j_database)
    d = lambda day, hour=10: datetime(2026, 11, day, hour, tzinfo=UTC)  # noqa: E731
    desk = f"Guichet {canary_tag(6)}"
    ids = {
        # claimed Tuesday, due Thursday, unanswered: the holder is late
        "late_peer": _ticket(graph, TicketSide.CLAIMANT, "cross-39", "douanes", d(3), d(5), desk),
        # claimed by Haute-Saône Wednesday, due Friday: our answer is late
        "late_us": _ticket(graph, TicketSide.HOLDER, "cross-70", "douanes", d(4), d(6), desk),
        # claimed Thursday, due after the meeting: listed, not late
        "on_time": _ticket(graph, TicketSide.CLAIMANT, "cross-90", "douanes", d(5), d(20), desk),
        # another agency's ticket: never in the customs' copy
        "police": _ticket(graph, TicketSide.CLAIMANT, "cross-21", "police", d(5), d(6),
                          police_desk := f"Guichet {canary_tag(6)}"),
    }
    meeting = gm.unsaved_meeting("25", W45)
    customs = Principal(user_id="douanes:fed-test", name="analyste douanes", agency="douanes",
                        role="analyst")
    nothing = AccessFilter(case_expression="'none'", profiles={}, policy_id="test-none")
    brief = hub_brief.build_brief(graph, meeting, customs, nothing, now=BRIEF_NOW)
    html = hub_brief.render_html(brief)
    assert "Partagé avec d&#39;autres CROSS" in html or "Partagé avec d'autres CROSS" in html
    assert f"réponse de CROSS 39 attendue depuis le {_due_fr(d(5))}" in html
    assert f"notre réponse à CROSS 70 est en retard (attendue le {_due_fr(d(6))})" in html
    assert f"<td>CROSS 90</td><td>Nous avons demandé</td><td>Plaque</td><td>{desk}</td>" \
           f"<td>{_due_fr(d(20))}</td><td>en attente de réponse</td>" in html
    assert ids["police"] not in html and "CROSS 21" not in html and police_desk not in html
    agenda = brief.agenda
    assert {t.ticket_id for t in agenda.federation.opened} >= {ids[k] for k in ("late_peer", "late_us", "on_time")}
    assert ids["police"] not in {t.ticket_id for t in agenda.federation.opened + agenda.federation.overdue}
    assert [t.ticket_id for t in agenda.federation.overdue if t.ticket_id in ids.values()] == \
           [ids["late_peer"], ids["late_us"]]  # oldest deadline first
    # The police copy (its section alone: the whole brief is drawn once above) has its own.
    from hub.brief.federation import brief_section

    police = Principal(user_id="police:fed-test", name="analyste police", agency="police",
                       role="analyst")
    section = brief_section(graph, meeting, police, nothing, BRIEF_NOW)
    mine = [r for r in section.overdue if r.ticket_id == ids["police"]]
    assert [(r.decision, r.desk) for r in mine] == [
        (f"réponse de CROSS 21 attendue depuis le {_due_fr(d(6))}", police_desk)]
    assert not {r.ticket_id for r in section.opened + section.overdue} & {
        ids["late_peer"], ids["late_us"], ids["on_time"]}
