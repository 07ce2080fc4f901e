"""Deconfliction (/deconfliction, issue 12 item 9) in Chromium, on a real hub.

Oracles, from what the rules mean (policies/deconfliction.py, deconfliction.yaml):
- an operation declared through the form is the agency's, with its plate normalized as ingest
  normalizes plates (any spelling → ``AB-123-CD``);
- another agency's operation whose window overlaps and which shares a target opens one alert for
  both agencies; the declaring agency reads it on the page, with whom to call, but never the
  other operation's title;
- acknowledging it through the page records the agency's acknowledgement: the page says so, the
  alert stays open while the other agency has not acknowledged (it awaits the gendarmerie only);
- a declaration the API refuses (its end before its start) is shown with the API's French message
  and creates nothing;
- a lead of another agency on a running operation's target (ADR 0017) reaches the owner's page
  live, told as the access rules tell that reader the lead (an analyst, an H2 lead: a hit), and
  acknowledging it on the page closes it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from graph import identity
from hub.contract.lead import Agency
from tests.factories import BESANCON, canary_tag, lead, plate_blocks
from tests.web.conftest import MOTIF, axe_violations

PARIS = ZoneInfo("Europe/Paris")


def _plate_parts() -> tuple[str, str, str]:
    return plate_blocks()


def _api(live_hub, token: str, method: str, path: str, **kwargs: Any) -> Any:
    with live_hub.client() as c:
        r = c.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
    assert r.status_code in (200, 201), r.text
    return r.json()


def _local(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def _fill_operation(page, *, unit: str, starts: datetime, ends: datetime, plate: str) -> None:
    page.select_option("#op-nature", "surveillance")
    page.fill("#op-intitule", "Surveillance du hall 3")
    page.fill("#op-unite", unit)
    page.fill("#op-debut", _local(starts))
    page.fill("#op-fin", _local(ends))
    page.fill("#op-insee", "25056")
    page.fill("#op-commune", "Besançon")
    page.fill("#op-plaques", plate)


def test_declare_an_operation_see_the_clash_and_acknowledge_it(clean_graph, open_page, make_web_user, live_hub):
    police = make_web_user("police", "analyst")
    gendarme = make_web_user("gendarmerie", "analyst")
    gendarmerie_token = identity.issue_token(live_hub.graph, gendarme.user_id).token
    police_token = identity.issue_token(live_hub.graph, police.user_id).token
    a, digits, b = _plate_parts()
    plate = f"{a}-{digits}-{b}"
    unit = f"BR Besançon {uuid.uuid4().hex[:4]}"
    starts = datetime.now(PARIS).replace(second=0, microsecond=0) + timedelta(hours=2)
    ends = starts + timedelta(hours=4)

    page, watched = open_page(police)
    page.goto(f"{live_hub.url}/deconfliction")
    page.wait_for_selector("#app[data-state=ready]")
    assert axe_violations(page) == []
    _fill_operation(page, unit=unit, starts=starts, ends=ends, plate=f"{a.lower()} {digits} {b.lower()}")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/operations") and r.request.method == "POST") as answer:
        page.click("#declarer-operation button[type=submit]")
    assert answer.value.status == 201, answer.value.text()
    page.locator("#declaration-resultat .fr-alert--success").wait_for()
    made = answer.value.json()["operation"]
    assert made["agency"] == "police" and made["targets"] == [f"vehicle:{plate}"]
    mine = _api(live_hub, police_token, "GET", "/api/v1/operations", params={"justification": MOTIF})
    assert [o["operation_id"] for o in mine if o["unit"] == unit] == [made["operation_id"]]
    page.locator("#operations tbody tr", has_text=unit).wait_for()

    # The gendarmerie plans an arrest on the same plate (another spelling) in the same window.
    gendarmerie_title = f"Titre-gendarmerie-{uuid.uuid4().hex}"
    theirs = _api(live_hub, gendarmerie_token, "POST", "/api/v1/operations", json={
        "kind": "arrest", "title": gendarmerie_title, "unit": "BR Pontarlier",
        "starts_at": (starts + timedelta(hours=1)).isoformat(), "ends_at": (ends + timedelta(hours=1)).isoformat(),
        "place": {"insee_code": "25462", "commune": "Pontarlier"},
        "targets": [f"vehicle:{a}{digits}{b}"]})
    assert len(theirs["alerts"]) == 1
    alert_id = theirs["alerts"][0]["alert_id"]

    page.reload()
    card = page.locator(f'#alertes article[data-alert-id="{alert_id}"]')
    card.wait_for()
    text = card.inner_text()
    assert "Gendarmerie nationale" in text and f"vehicle:{plate}" in text
    as_police = [v for v in _api(live_hub, police_token, "GET", "/api/v1/deconfliction/alerts",
                                 params={"justification": MOTIF}) if v["alert_id"] == alert_id]
    assert len(as_police) == 1
    assert (as_police[0]["other_operation"]["contact"] or "non communiqué") in text
    assert "À acquitter par votre service" in card.text_content()  # badges read upper case
    assert axe_violations(page) == []

    card.locator("textarea").fill("Coordination avec la BR de Pontarlier : surveillance levée à 17 h.")
    with page.expect_response(lambda r: r.url.endswith(f"/deconfliction/alerts/{alert_id}/acknowledge")) as ack:
        card.get_by_role("button", name="Acquitter l'alerte").click()
    assert ack.value.status == 200, ack.value.text()
    card.locator(".fr-alert--success", has_text="Alerte acquittée par votre service.").wait_for()
    text = card.text_content()
    assert "Acquittée par votre service" in text and "À acquitter" not in text
    assert "Police nationale le" in card.locator(".ch-acks").inner_text()
    assert card.locator("form").count() == 0
    assert axe_violations(page) == []

    # As the gendarmerie reads it: acknowledged by the police, still awaiting the gendarmerie.
    seen = [v for v in _api(live_hub, gendarmerie_token, "GET", "/api/v1/deconfliction/alerts",
                            params={"justification": MOTIF}) if v["alert_id"] == alert_id]
    assert len(seen) == 1
    assert [x["agency"] for x in seen[0]["acknowledged_by"]] == ["police"]
    assert seen[0]["awaiting"] == ["gendarmerie"] and seen[0]["status"] == "open"
    # The other agency's title is nowhere the police page looked.
    assert gendarmerie_title not in page.content()
    assert not any(gendarmerie_title.encode() in body for _, body in watched.bodies)


def test_a_refused_declaration_shows_the_api_message_and_creates_nothing(open_page, make_web_user, live_hub):
    police = make_web_user("police", "coordinator")
    token = identity.issue_token(live_hub.graph, police.user_id).token
    unit = f"BR refus {uuid.uuid4().hex[:4]}"
    starts = datetime.now(PARIS).replace(second=0, microsecond=0) + timedelta(hours=3)
    page, _ = open_page(police)
    page.goto(f"{live_hub.url}/deconfliction")
    page.wait_for_selector("#app[data-state=ready]")
    _fill_operation(page, unit=unit, starts=starts, ends=starts - timedelta(hours=1), plate="".join(_plate_parts()))
    with page.expect_response(lambda r: r.url.endswith("/api/v1/operations") and r.request.method == "POST") as answer:
        page.click("#declarer-operation button[type=submit]")
    assert answer.value.status == 422
    message = answer.value.json()["message"]
    assert "ends_at" in message and "postérieure" in message
    error = page.locator("#declaration-resultat .fr-alert--error")
    error.wait_for()
    assert message in error.inner_text()
    assert axe_violations(page) == []
    ops = _api(live_hub, token, "GET", "/api/v1/operations", params={"justification": MOTIF, "include_past": True})
    assert not [o for o in ops if o["unit"] == unit]


def test_a_lead_on_a_running_operation_appears_live_as_a_hit_and_is_acknowledged(
        clean_graph, open_page, make_web_user, make_pusher, live_hub):
    """ADR 0017 on the page: a gendarmerie stop (H2) on the plate of a running police surveillance
    reaches the police analyst's page live (the agency notification, then the API's list), told
    as rules.yaml tells an analyst an H2 lead of another agency — a hit: who holds it and whom to
    call, never its id; acknowledging it on the page closes it."""
    police = make_web_user("police", "analyst")
    token = identity.issue_token(live_hub.graph, police.user_id).token
    a, digits, b = _plate_parts()
    now = datetime.now(UTC).replace(microsecond=0)
    title = f"Surveillance {canary_tag()}"
    op = _api(live_hub, token, "POST", "/api/v1/operations", json={
        "kind": "surveillance", "title": title, "unit": "BR Besançon",
        "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(hours=3)).isoformat(),
        "place": {"insee_code": "25056", "commune": "Besançon", "point": {"lat": 47.26, "lon": 6.03}},
        "targets": [f"vehicle:{a}-{digits}-{b}"]})["operation"]

    page, watched = open_page(police)
    page.goto(f"{live_hub.url}/deconfliction")
    page.wait_for_selector("#app[data-state=ready]")
    page.locator("#alertes-pistes", has_text="Aucune piste d'un autre service").wait_for()

    stop = lead(source_agency="gendarmerie", source_ref=f"GN-{canary_tag(8)}", kind="stop_check",
                handling_code="H2", observed_at=(now - timedelta(minutes=5)).isoformat(),
                reported_at=now.isoformat(), vehicles=[{"plate": f"{a.lower()} {digits} {b.lower()}"}],
                location={**BESANCON, "address": "Rue de Dole"}, narrative="Contrôle routier.")
    [result] = make_pusher("gendarmerie").push([stop])["results"]

    card = page.locator("#alertes-pistes article")
    card.wait_for(timeout=60_000)  # live: no reload; the triage worker, then the stream
    text = card.inner_text()
    desk = live_hub.app.state.rulebook.policy.agency(Agency.GENDARMERIE).contact_fr
    assert "Gendarmerie nationale détient une piste que vous ne pouvez pas consulter" in text
    assert desk in text and f"véhicule {a}-{digits}-{b}" in text and title in text
    assert axe_violations(page) == []

    with page.expect_response(lambda r: "/deconfliction/lead-alerts/" in r.url and r.url.endswith("/acknowledge")) as ack:
        card.get_by_role("button", name="Acquitter l'alerte").click()
    assert ack.value.status == 200, ack.value.text()
    page.locator("#alertes-pistes .fr-alert--success", has_text="Alerte acquittée par votre service.").wait_for()
    closed = _api(live_hub, token, "GET", "/api/v1/deconfliction/lead-alerts",
                  params={"justification": MOTIF, "open": False})
    assert [(x["operation"]["operation_id"], x["status"]) for x in closed] == [(op["operation_id"], "closed")]
    # A hit: the lead's id is nowhere the police page looked.
    assert result["lead_id"] not in page.content()
    assert not any(result["lead_id"].encode() in body for _, body in watched.bodies)
