"""« Fédération » in a real page (issue 16, item 5), in Chromium: a police analyst's lead sheet
shows « Partagé avec d'autres CROSS » (the holder CROSS, its desk, the deadline, « En retard »);
the page /federation lists the agency's tickets on both sides in captioned tables with status
badges, and answering a ticket another CROSS asked (« Communication refusée » + message) goes
through the second-factor step-up dialog and is recorded on the ticket.

Tickets are seeded directly (graph/federation/tickets.open_ticket), the hub's federation runtime
set up in the test (no antenna: an answer is recorded, not forwarded). Expected texts come from
the issue's wording and the policy's directory (policies/data/federation.yaml).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from graph.federation import TicketDraft, TicketSide, TicketStatus, get_ticket, open_ticket
from graph.leads import write_leads
from hub.contract.lead import Lead
from hub.federation.runtime import FederationRuntime
from hub.federation.service import FederationContext
from tests.factories import canary_tag, lead
from tests.second_factor import enrol_web_user
from tests.web.conftest import axe_violations

PARIS = ZoneInfo("Europe/Paris")


def _due_fr(due: datetime) -> str:
    return due.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def _federation_on(live_hub, monkeypatch) -> None:
    """Federation on for this test only, on the shared live hub. The values go into the State's
    own dict with ``setitem``: pytest's ``setattr`` reads the old value from the instance
    ``__dict__`` (a Starlette State keeps its values in ``_state``), so its undo would *delete*
    ``settings`` and break every later web test of the worker."""
    app = live_hub.app
    values = app.state._state
    monkeypatch.setitem(values, "settings",
                        values["settings"].model_copy(update={"federation_enabled": True}))
    context = FederationContext(graph=live_hub.graph, rules=app.state.rulebook.federation,
                                cross_id="cross-25", keys_dir=live_hub.settings.keys_dir,
                                audit=app.state.audit)
    monkeypatch.setitem(values, "federation", FederationRuntime(context=context, transport=None))


def test_lead_sheet_and_federation_page_with_an_answer(open_page, make_web_user, live_hub,
                                                       monkeypatch):
    _federation_on(live_hub, monkeypatch)
    rules = live_hub.app.state.rulebook.federation
    letters = canary_tag(4)
    plate = f"{letters[:2]}-{int(time.time()) % 900 + 100}-{letters[2:]}"
    # Written straight to the graph (a connector's push is tested elsewhere; it cost ~15 s here).
    lead_id = write_leads(live_hub.graph, [Lead.model_validate(lead(
        source_ref=f"PN-{canary_tag(8)}", handling_code="H1", vehicles=[{"plate": plate}]))])[0].lead_id
    now = datetime.now(UTC)
    desk = rules.crosses["cross-39"].desks["police"]
    late, due = now - timedelta(hours=2), now + timedelta(hours=40)
    asked = open_ticket(live_hub.graph, TicketDraft(
        side=TicketSide.CLAIMANT, peer="cross-39", kind="plate", entity_key=plate,
        ticket_id=f"FT-{canary_tag()}", lead_ids=[lead_id], agencies=["police"],
        handling_code="H1", desk=desk, due_at=late), now - timedelta(hours=50))[0]
    received = open_ticket(live_hub.graph, TicketDraft(
        side=TicketSide.HOLDER, peer="cross-70", kind="plate", entity_key=plate,
        lead_ids=[lead_id], agencies=["police"], handling_code="H1",
        desk="Secrétariat CROSS 25", due_at=due), now - timedelta(hours=8))[0]
    analyst = make_web_user("police", "analyst")
    authenticator = enrol_web_user(live_hub, analyst)
    page, _ = open_page(analyst)

    # The lead sheet: both tickets, the overdue one badged « En retard ».
    page.goto(f"{live_hub.url}/pistes/{lead_id}")
    section = page.locator("section.ch-federation")
    section.locator(f"li[data-ticket='{asked.ticket_id}']").wait_for()
    asked_item = section.locator(f"li[data-ticket='{asked.ticket_id}']").text_content()
    assert (f"Aussi détenu par CROSS du Jura — contactez {desk} — réponse attendue avant le "
            f"{_due_fr(late)}") in asked_item and "En retard" in asked_item
    assert ("CROSS de la Haute-Saône détient aussi cet identifiant et attend votre réponse avant "
            f"le {_due_fr(due)}") in section.locator(f"li[data-ticket='{received.ticket_id}']").text_content()

    # The page « Fédération »: two captioned tables, then the answer form.
    page.goto(f"{live_hub.url}/federation")
    page.locator("#app[data-state='ready']").wait_for()
    assert page.locator("nav a[href='/federation']").count() >= 1  # in the menu: federation is on
    ours = page.locator("table", has=page.locator("caption", has_text="aussi détenus par d'autres CROSS"))
    # Rows by this test's lead (other tests' tickets of the police may share the graph).
    row = ours.locator("tr", has_text=lead_id).text_content()
    assert "CROSS du Jura" in row and desk in row and "En retard" in row
    theirs = page.locator("table", has=page.locator("caption", has_text="demandés par d'autres CROSS"))
    row = theirs.locator("tr", has_text=lead_id).text_content()
    assert "CROSS de la Haute-Saône" in row and "En attente de réponse" in row
    assert axe_violations(page) == []

    form = page.locator(f"form[data-ticket='{received.ticket_id}']")
    form.get_by_label("Réponse").select_option("declined")
    form.get_by_label("Message au CROSS demandeur").fill("Pas de communication en l'état.")
    form.get_by_role("button", name="Envoyer la réponse").click()
    dialog = page.get_by_role("dialog", name="Second facteur requis")
    dialog.get_by_label("Code à 6 chiffres").fill(authenticator.next_code())
    dialog.get_by_role("button", name="Valider").click()
    theirs.locator("tr", has_text=lead_id).filter(has_text="Communication refusée").wait_for()
    assert form.count() == 0  # answered: no form left for it
    stored = get_ticket(live_hub.graph, received.ticket_id, TicketSide.HOLDER)
    assert stored.status is TicketStatus.DECLINED
    assert stored.message == "Pas de communication en l'état."
