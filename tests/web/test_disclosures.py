"""Disclosure in real pages (issue 12, item 10), in Chromium: a gendarmerie analyst who gets a
hit on a police H2 lead asks for it from the lead sheet; the police coordinator, whose
Communications page is already open, sees the request arrive live (header counter and inbox,
no reload: the notification stream), asks a question in the request's thread and approves it
with an end date, releasing every property group but the place (graded disclosure); the
analyst's lead sheet then opens the lead without its place, and the analyst's outbox shows the
thread. A decline carries its reason to the requester's outbox.

Expected outcomes come from the rules (policies/data/rules.yaml): a gendarmerie analyst knows
of a police H2 lead only as a hit (``hit-h2-other``: no narrative anywhere in what the pages
received); an approved disclosure is ``disclosure-redacted``: the lead in full but for its
evaluation codes, which stay withheld.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from tests.factories import canary_tag, lead
from tests.second_factor import enrol_web_user, step_up_page
from tests.web.conftest import axe_violations

PLATE = "AB-123-CD"


def _police_h2(make_pusher) -> tuple[str, str]:
    """A police H2 lead on the plate with a canary narrative: (public id, canary)."""
    canary = f"Canari communication {canary_tag(10)} guetteur hall B"
    pushed = make_pusher("police").push([lead(
        source_ref=f"PN-{uuid.uuid4().hex[:8]}", handling_code="H2", narrative=canary,
        source_reliability="B", information_credibility="2", vehicles=[{"plate": PLATE}])])
    return pushed["results"][0]["lead_id"], canary


def _open_communications(page, hub) -> None:
    """Open /communications and wait until its lists are there and its stream is open."""
    page.goto(f"{hub.url}/communications")
    page.wait_for_selector("#notifications-count[data-live='oui']")
    page.wait_for_selector("#demandes-recues > *")
    page.wait_for_selector("#mes-demandes > *")
    page.wait_for_selector("#liste-notifications > *")


def _counter(page) -> int:
    return int(page.inner_text("#notifications-count"))


def _request_from_the_hit(page, hub, lead_id: str, motif: str) -> str:
    """From the lead sheet: the hit, then « Demander la communication »; the request id."""
    page.goto(f"{hub.url}/pistes/{lead_id}")
    page.wait_for_selector("#page-title:has-text('Piste détenue par un autre service')")
    page.get_by_role("button", name="Demander la communication").click()
    page.fill("textarea[name=justification]", motif)
    page.get_by_role("button", name="Envoyer la demande").click()
    done = page.wait_for_selector(".fr-alert--success")
    found = re.search(r"référence (\S+?)\)", done.inner_text())
    assert found, done.inner_text()
    return found.group(1)


def test_a_request_arrives_live_is_approved_and_the_lead_opens(
        open_page, make_web_user, make_pusher, live_hub):
    lead_id, canary = _police_h2(make_pusher)
    analyst = make_web_user("gendarmerie", "analyst")
    coordinator = make_web_user("police", "coordinator")
    # Approving needs the second factor: the coordinator has enrolled one (pyotp is the phone).
    authenticator = enrol_web_user(live_hub, coordinator)

    # The police coordinator has the page open before anything is asked.
    chief, _ = open_page(coordinator)
    _open_communications(chief, live_hub)
    before = _counter(chief)

    page, watched = open_page(analyst)
    request_id = _request_from_the_hit(page, live_hub, lead_id, "PV 2026/118 — trafic Planoise")

    # Live, without reload: the inbox lists it and the counter went up.
    item = chief.wait_for_selector(f"article[data-request-id='{request_id}']")
    chief.wait_for_function(
        "n => Number(document.getElementById('notifications-count').textContent) > n", arg=before)
    assert "PV 2026/118 — trafic Planoise" in item.inner_text()
    assert lead_id in item.inner_text()
    assert axe_violations(chief) == []

    # Before the approval the analyst's pages never received the narrative.
    assert watched.bodies, "no response recorded"
    assert not [url for url, body in watched.bodies if canary.encode() in body]

    until = date.today() + timedelta(days=10)
    article = chief.locator(f"article[data-request-id='{request_id}']")
    # The thread: the holder asks before deciding.
    question = f"Quel est le cadre de la procédure {canary_tag(6)} ?"
    article.locator("summary", has_text="Échange").click()
    article.locator("textarea[name=text]").fill(question)
    article.get_by_role("button", name="Envoyer").click()
    article.locator(".ch-thread-message", has_text=question).wait_for()
    # Graded release: everything but the place.
    article.locator("label", has_text="Lieu et point de deal").click()  # DSFR: the label is the box
    assert not article.get_by_label("Lieu et point de deal").is_checked()
    article.locator("input[type=date]").fill(until.isoformat())
    article.get_by_role("button", name="Accepter").click()
    # « Second facteur requis »: the step-up dialog asks for the code, then approves.
    dialog = chief.get_by_role("dialog", name="Second facteur requis")
    dialog.get_by_label("Code à 6 chiffres").fill(authenticator.next_code())
    assert axe_violations(chief) == []
    dialog.get_by_role("button", name="Valider").click()
    confirmation = chief.wait_for_selector(f"text=Demande {request_id} acceptée")
    assert dialog.count() == 0
    assert f"{until.day:d}" in confirmation.inner_text()
    # Decided: it leaves the pending list.
    chief.wait_for_selector(f"article[data-request-id='{request_id}']", state="detached")

    # Back as the analyst: the lead opens — its narrative, not its evaluation (disclosure-redacted).
    page.reload()
    page.wait_for_selector(f"#page-title:has-text('Piste {lead_id}')")
    page.wait_for_selector(f"text={canary}")
    marking = page.inner_text(".ch-marking")
    assert "Évaluation B2" not in marking
    lead_bodies = [body for url, body in watched.bodies if f"/api/v1/leads/{lead_id}?" in url]
    assert lead_bodies and canary.encode() in lead_bodies[-1]
    assert b'"source_reliability":"B"' not in lead_bodies[-1]
    assert b"Place Cassin" not in lead_bodies[-1]  # the place was withheld
    assert PLATE.encode() in lead_bodies[-1]

    # The analyst's outbox says so, and the page passes axe for this role too.
    _open_communications(page, live_hub)
    row = page.wait_for_selector(f"tr[data-request-id='{request_id}']")
    assert "Acceptée" in row.text_content()
    # The requester reads the holder's question in the request's thread.
    page.locator(f"tr[data-request-id='{request_id}'] summary").click()
    page.locator(f"tr[data-request-id='{request_id}'] .ch-thread-message", has_text=question).wait_for()
    assert axe_violations(page) == []


def test_a_decline_shows_its_reason_to_the_requester(
        open_page, make_web_user, make_pusher, live_hub):
    lead_id, canary = _police_h2(make_pusher)
    analyst = make_web_user("gendarmerie", "analyst")
    coordinator = make_web_user("police", "coordinator")

    page, watched = open_page(analyst)
    request_id = _request_from_the_hit(page, live_hub, lead_id, "PV 2026/204 — point de deal")
    _open_communications(page, live_hub)
    row = page.wait_for_selector(f"tr[data-request-id='{request_id}']")
    assert "En attente" in row.text_content()
    unread_before = _counter(page)

    chief, _ = open_page(coordinator)
    # Declining needs the second factor too: enrolled, and this session verified.
    step_up_page(chief, live_hub, enrol_web_user(live_hub, coordinator))
    _open_communications(chief, live_hub)
    article = chief.locator(f"article[data-request-id='{request_id}']")
    reason = "Procédure judiciaire en cours, appeler la permanence"
    article.locator("textarea[name=reason]").fill(reason)
    article.get_by_role("button", name="Refuser").click()
    chief.wait_for_selector(f"text=Demande {request_id} refusée")

    # The requester's page hears of it live: the outbox row turns to declined with the reason.
    page.wait_for_selector(f"tr[data-request-id='{request_id}'] .fr-badge--error")
    assert reason in page.inner_text(f"tr[data-request-id='{request_id}']")
    page.wait_for_function(
        "n => Number(document.getElementById('notifications-count').textContent) > n",
        arg=unread_before)
    # The notification says so too; marked read, the counter goes down.
    note = page.locator("li[data-notification-id]", has_text="Communication refusée").first
    assert reason in note.inner_text()
    now = _counter(page)
    note.get_by_role("button", name="Marquer comme lue").click()
    page.wait_for_function(
        "n => Number(document.getElementById('notifications-count').textContent) === n - 1", arg=now)
    assert axe_violations(page) == []

    # Declined: the lead is still a hit, the narrative never reached the analyst's pages.
    page.goto(f"{live_hub.url}/pistes/{lead_id}")
    page.wait_for_selector("#page-title:has-text('Piste détenue par un autre service')")
    assert not [url for url, body in watched.bodies if canary.encode() in body]
