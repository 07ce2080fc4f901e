"""The meeting room (issue 12, item 11), in real pages (Chromium) on a real hub.

Oracles, from what each rule means:
- the CROSS chief (meetings.manage in roles.yaml) creates the week's meeting from the page; the
  agenda generated for them names what is new and links agencies — a plate a police lead and a
  gendarmerie lead of this week share; they record a decision with its action, follow up an
  earlier meeting's open action (marked done: it leaves the follow-up list, and the graph holds
  it done), and download their own brief, which is the meeting of that week (HTML and PDF);
- an analyst (meetings.attend, not meetings.manage) reads the agenda and gets their brief, but
  is shown neither the create nor the record form — the API refuses them both;
- an auditor (audit.read only) is refused the meeting room: the French 403 page.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdfium2

from graph import identity
from graph import meetings as graph_meetings
from tests.factories import lead
from tests.web.conftest import axe_violations

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The agenda is several reads of the week's graph: generous on a shared, loaded machine.
AGENDA_TIMEOUT_MS = 60_000
_SIV = "ABCDEFGHJKLMNPRSTVWXYZ"  # letters a SIV plate uses (no I, O, U)


def _plate() -> str:
    pick = lambda: "".join(random.choices(_SIV, k=2))  # noqa: E731
    return f"{pick()}-{random.randint(100, 999)}-{pick()}"


def _this_week() -> str:
    return graph_meetings.iso_week_of(datetime.now(UTC))


def _previous_week(week: str) -> str:
    year, number = int(week[:4]), int(week[-2:])
    monday = date.fromisocalendar(year, number, 1) - timedelta(days=7)
    y, w, _ = monday.isocalendar()
    return f"{y}-W{w:02d}"


def _bearer(live_hub, user) -> dict[str, str]:
    return {"Authorization": f"Bearer {identity.issue_token(live_hub.graph, user.user_id).token}"}


def _shared_plate_leads(make_pusher) -> tuple[str, str]:
    """A police lead and a gendarmerie lead of this week on one new plate: a cross-agency link."""
    plate = _plate()
    police = make_pusher("police").push([lead(handling_code="H1", vehicles=[{"plate": plate}])])
    make_pusher("gendarmerie").push([lead(source_agency="gendarmerie", handling_code="H1",
                                          source_ref=f"GN-{uuid.uuid4().hex[:8]}",
                                          vehicles=[{"plate": plate}])])
    return plate, police["results"][0]["lead_id"]


def test_the_chief_creates_the_meeting_records_a_decision_and_downloads_the_brief(
        open_page, make_web_user, make_pusher, live_hub):
    dept = live_hub.settings.cross_departement
    week = _this_week()
    plate, police_lead = _shared_plate_leads(make_pusher)
    chief = make_web_user("police", "coordinator")
    # An action decided at last week's meeting, still open and due this week: to follow up.
    auth = _bearer(live_hub, chief)
    with live_hub.client() as c:
        earlier = c.post("/api/v1/meetings", json={"departement": dept, "week": _previous_week(week)},
                         headers=auth)
        assert earlier.status_code in (200, 201), earlier.text
        due = c.post(f"/api/v1/meetings/{earlier.json()['meeting_id']}/actions", headers=auth, json={
            "title": f"Relevé des passages au point de deal {uuid.uuid4().hex[:6]}",
            "lead_agency": "police", "tasked": "BSU Besançon",
            "deadline": (datetime.now(UTC).date()).isoformat()})
        assert due.status_code == 201, due.text
    earlier_action = due.json()

    page, _ = open_page(chief)
    page.goto(f"{live_hub.url}/reunions")
    create = page.locator("#creer-reunion")
    create.wait_for(state="visible")
    # The week proposed is this week (Paris), the one the CROSS meets about.
    assert page.input_value("#semaine") == week
    page.fill("#departement", dept)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/meetings")
                              and r.request.method == "POST" and r.status < 300) as made:
        create.click()
    assert made.value.json()["meeting_id"] == f"{dept}-{week}"
    title = page.locator("#titre-reunion")
    title.wait_for(timeout=AGENDA_TIMEOUT_MS)
    assert title.inner_text() == f"Réunion CROSS {dept} — semaine {week}"

    # The generated agenda: the new cross-agency link, the earlier action to follow up.
    links = page.locator("section[aria-labelledby=odj-liens]")
    assert f"Véhicule {plate}" in links.inner_text()
    assert police_lead in links.inner_text()
    follow = page.locator("section[aria-labelledby=odj-suivi]")
    row = follow.locator("tr", has_text=earlier_action["title"])
    assert row.count() == 1
    for heading in ("Ce qui est nouveau", "Ce qui relie les services", "Ce qui appelle une décision",
                    "Suivi des actions précédentes", "Décisions de la séance"):
        assert page.get_by_role("heading", name=heading).count() == 1, heading
    assert axe_violations(page) == []

    # A decision of this meeting, with its action on the police lead.
    decision = f"Identifier le conducteur du véhicule signalé {uuid.uuid4().hex[:6]}"
    deadline = (datetime.now(UTC).date() + timedelta(days=14)).isoformat()
    page.fill("#action-titre", decision)
    page.select_option("#action-pilote", "gendarmerie")
    page.fill("#action-charge", "BR Besançon")
    page.fill("#action-echeance", deadline)
    page.fill("#action-pistes", police_lead)
    page.click("#form-decision button[type=submit]")
    page.get_by_text(f"Décision enregistrée : « {decision} ».").wait_for(timeout=AGENDA_TIMEOUT_MS)
    decided = page.locator("section[aria-labelledby=odj-seance] tr", has_text=decision)
    assert decided.count() == 1
    assert "Gendarmerie nationale" in decided.inner_text() and "BR Besançon" in decided.inner_text()
    assert axe_violations(page) == []

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "meeting.png"), full_page=True)

    # Follow-up: the earlier action is done; it leaves the list of open actions due.
    row.locator("select").select_option("done")
    row.get_by_role("button", name="Mettre à jour").click()
    page.get_by_text(f"Action « {earlier_action['title']} » : Réalisée.").wait_for(timeout=AGENDA_TIMEOUT_MS)
    assert earlier_action["title"] not in follow.inner_text()
    assert graph_meetings.get_action(live_hub.graph, earlier_action["action_id"]).status == "done"

    # The chief's own brief, as a file, for this week's meeting (HTML, then PDF).
    with page.expect_download() as html_download:
        page.get_by_role("button", name="Ma note de séance (HTML)").click()
    html_file = html_download.value
    assert html_file.suggested_filename.startswith(f"brief-{dept}-{week}-")
    assert html_file.suggested_filename.endswith(".html")
    html = Path(html_file.path()).read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert f"semaine {week}" in html and decision in html

    with page.expect_download() as pdf_download:
        page.get_by_role("button", name="Ma note de séance (PDF)").click()
    pdf_file = pdf_download.value
    assert pdf_file.suggested_filename.endswith(".pdf")
    pdf = Path(pdf_file.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert week in text


def test_an_analyst_reads_the_agenda_and_gets_a_brief_but_no_create_or_record_form(
        open_page, make_web_user, make_pusher, live_hub):
    dept = live_hub.settings.cross_departement
    week = _this_week()
    plate, _ = _shared_plate_leads(make_pusher)
    chief = make_web_user("police", "coordinator")
    with live_hub.client() as c:
        made = c.post("/api/v1/meetings", json={"departement": dept, "week": week},
                      headers=_bearer(live_hub, chief))
        assert made.status_code in (200, 201), made.text

    analyst = make_web_user("gendarmerie", "analyst")
    page, _ = open_page(analyst)
    page.goto(f"{live_hub.url}/reunions?departement={dept}&semaine={week}")
    page.locator("#titre-reunion").wait_for(timeout=AGENDA_TIMEOUT_MS)
    assert f"Véhicule {plate}" in page.locator("section[aria-labelledby=odj-liens]").inner_text()
    assert page.get_by_role("button", name="Ma note de séance (PDF)").is_visible()
    # Neither form: the API refuses this role both (meetings.manage), in French.
    assert page.locator("#creer-reunion").count() == 0
    assert page.locator("#form-decision").count() == 0
    status, body = page.evaluate("""async ([dept, week]) => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/api/v1/meetings', {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
            body: JSON.stringify({departement: dept, week})});
        return [r.status, await r.text()];
    }""", [dept, week])
    assert status == 403 and '"code":"forbidden"' in body, body
    assert axe_violations(page) == []

    with page.expect_download() as download:
        page.get_by_role("button", name="Ma note de séance (HTML)").click()
    assert re.fullmatch(rf"brief-{dept}-{week}-.+\.html", download.value.suggested_filename)
    assert f"semaine {week}" in Path(download.value.path()).read_text(encoding="utf-8")


def test_an_auditor_is_refused_the_meeting_room(open_page, make_web_user, live_hub):
    auditor = make_web_user("police", "auditor")
    page, _ = open_page(auditor, motif=None)
    response = page.goto(f"{live_hub.url}/reunions")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Accès refusé"
    assert page.locator("#app").count() == 0  # no page module: nothing asks the API
    assert axe_violations(page) == []
