"""The triage board (/tri, issue 12 item 8) in Chromium, on a real hub.

Oracles, from what each rule means:
- the queue is ordered by precision score, highest first (``order=score``): the scores read on the
  page are the API's for the same leads, and they never increase down the list nor across pages;
  a lead with a described vehicle and its plate scores above the same lead without them, and one
  placed only at its commune scores below (policies/data/triage.yaml, precision);
- the board asks for one page at a time (never the whole queue);
- a change of state made through the page is in the lead's history, attributed to the user who
  made it; the lifecycle has no ``under_assessment → closed`` transition (triage.yaml, lifecycle):
  that change is refused with the API's French message shown, and nothing changes;
- closing a lead with an arrest makes one more resolved lead and one more hit in the hit rates
  (``hit_outcomes: [arrest, seizure]``), and the page's table shows the API's figures;
- a police lead sharing a plate with a gendarmerie lead raises a link alert the gendarmerie reads
  as "who holds how many, whom to call", never the police narrative.
"""

from __future__ import annotations

import random
import re
import string
import time
import uuid
from pathlib import Path
from typing import Any

from graph import identity
from hub.jobs.triage import triage_pending_once
from tests.factories import BESANCON, canary_tag, lead, random_plate
from tests.web.conftest import MOTIF, axe_violations

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGE_SIZE = 25  # the board's page (src/pages/triage.js)


def _plate() -> str:
    return random_plate()


def _token(live_hub, user) -> str:
    return identity.issue_token(live_hub.graph, user.user_id).token


def _triaged(live_hub, token: str, ids: set[str], **params: Any) -> list[dict[str, Any]]:
    """The gendarmerie's queue once every lead of ``ids`` is in it. The hub's own triage loop may
    hold part of a batch (it claims what it triages, ADR 0013): triage what is left here, and
    wait — bounded — for the rest."""
    deadline = time.monotonic() + 60
    while True:
        triage_pending_once(live_hub.app)
        queue = _get(live_hub, token, "/api/v1/triage/queue", state="new", agency="gendarmerie",
                     limit=500, **params)
        missing = ids - {q["lead_id"] for q in queue}
        if not missing:
            return queue
        assert time.monotonic() < deadline, f"{len(missing)} lead(s) never triaged"
        time.sleep(0.5)


def _get(live_hub, token: str, path: str, **params: Any) -> Any:
    with live_hub.client() as c:
        r = c.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


def _gendarmerie_leads(pusher, *leads: dict[str, Any]) -> list[str]:
    answer = pusher.push(list(leads))
    return [r["lead_id"] for r in answer["results"]]


def _rows(page) -> list[tuple[str, int | None]]:
    page.wait_for_selector("#app[data-state=ready]")
    out = []
    for row in page.locator("#table-file tbody tr.ch-lead-row").all():
        score = row.get_attribute("data-score")
        out.append((row.get_attribute("data-lead-id"), int(score) if score else None))
    return out


def _descending(scores: list[int | None]) -> bool:
    known = [-1 if s is None else s for s in scores]  # unscored leads come last
    return all(a >= b for a, b in zip(known, known[1:], strict=False))


def _open_form(page, lead_id: str):
    row = page.locator(f'#table-file tr.ch-lead-row[data-lead-id="{lead_id}"]')
    button = row.get_by_role("button", name=re.compile("^Traiter"))
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    return page.locator(f"#{button.get_attribute('aria-controls')} form")


def _change_state(page, lead_id: str, state: str, **fields: str):
    form = _open_form(page, lead_id)
    form.locator("select[name=state]").select_option(state)
    for name, value in fields.items():
        control = form.locator(f"[name={name}]")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    with page.expect_response(lambda r: r.url.endswith(f"/leads/{lead_id}/status")) as answer:
        form.locator("button[type=submit]").click()
    return form, answer.value


def test_the_queue_is_by_descending_score_and_state_changes_are_recorded(
        open_page, make_web_user, make_pusher, live_hub):
    analyst = make_web_user("gendarmerie", "analyst")
    token = _token(live_hub, analyst)
    pusher = make_pusher("gendarmerie")
    plate = _plate()
    street = f"{random.randint(1, 99)} rue {uuid.uuid4().hex[:6]}"
    here = {**BESANCON, "address": street, "point": {"lat": 47.2380, "lon": 6.0240}}
    high, mid, low = _gendarmerie_leads(
        pusher,
        lead(source_agency="gendarmerie", location=here,
             vehicles=[{"plate": plate, "make": "Peugeot", "colour": "gris"}]),
        lead(source_agency="gendarmerie", location=here),
        lead(source_agency="gendarmerie", location=dict(BESANCON)))
    # A police lead on the same plate: a link between the two agencies.
    police_narrative = f"Récit-police-{canary_tag(24)}"
    make_pusher("police").push([lead(vehicles=[{"plate": plate}], narrative=police_narrative)])
    api_queue = _triaged(live_hub, token, {high, mid, low}, order="score")
    scores = {i["lead_id"]: i["score"] for i in api_queue}
    assert scores[high] > scores[mid] > scores[low], scores

    page, watched = open_page(analyst)
    page.goto(f"{live_hub.url}/tri?etat=new&ordre=score&service=gendarmerie")
    rows = _rows(page)
    shown = dict(rows)
    assert {high, mid, low} <= set(shown), "own leads missing from the first page"
    assert all(shown[i] == scores[i] for i in shown), "the page shows the API's scores"
    assert _descending([s for _, s in rows]), rows
    order = [i for i, _ in rows]
    assert order.index(high) < order.index(mid) < order.index(low)
    # One page at a time: every queue request of the page asks for a page, not the queue.
    asked = [u for u, _ in watched.bodies if "/api/v1/triage/queue" in u]
    assert asked and all(re.search(rf"[?&]limit={PAGE_SIZE + 1}(&|$)", u) for u in asked), asked

    # An allowed change, through the page: new → under_assessment.
    history_before = _get(live_hub, token, f"/api/v1/leads/{mid}/history", justification=MOTIF)
    form, answer = _change_state(page, mid, "under_assessment")
    assert answer.status == 200, answer.text()
    form.locator(".fr-alert--success").wait_for()
    assert "En cours d'évaluation" in page.locator(f'tr[data-lead-id="{mid}"] .ch-lead-state').inner_text()
    history = _get(live_hub, token, f"/api/v1/leads/{mid}/history", justification=MOTIF)
    assert len(history) == len(history_before) + 1
    last = history[-1]
    assert (last["from_state"], last["to_state"]) == ("new", "under_assessment")
    assert last["user_id"] == analyst.user_id and last["user_agency"] == "gendarmerie"

    # A change the lifecycle does not allow: under_assessment → closed. Refused, said in French.
    form, answer = _change_state(page, mid, "closed", outcome="arrest")
    assert answer.status == 422
    refusal = answer.json()["message"]
    assert "non permise" in refusal
    shown_error = form.locator(".fr-alert--error")
    shown_error.wait_for()
    assert refusal in shown_error.inner_text()
    assert axe_violations(page) == []
    assert _get(live_hub, token, f"/api/v1/leads/{mid}/history", justification=MOTIF) == history
    triage = _get(live_hub, token, f"/api/v1/leads/{mid}/triage", justification=MOTIF)
    assert triage["state"] == "under_assessment"

    # Assign, then record the outcome: new → under_assessment → assigned → closed (arrest).
    rates_before = _get(live_hub, token, "/api/v1/stats/hit-rates")["overall"]
    for state, fields in (("under_assessment", {}),
                          ("assigned", {"assignee_agency": "gendarmerie", "unit": "BR Besançon"}),
                          ("closed", {"outcome": "arrest"})):
        form, answer = _change_state(page, high, state, **fields)
        assert answer.status == 200, (state, answer.text())
    page.locator(f'tr[data-lead-id="{high}"] .ch-lead-state', has_text="Clôturée").wait_for()
    closing = _get(live_hub, token, f"/api/v1/leads/{high}/history", justification=MOTIF)[-1]
    assert (closing["to_state"], closing["outcome"], closing["user_id"]) == ("closed", "arrest", analyst.user_id)
    rates = _get(live_hub, token, "/api/v1/stats/hit-rates")
    assert rates["overall"]["resolved"] == rates_before["resolved"] + 1
    assert rates["overall"]["hits"] == rates_before["hits"] + 1

    # The hit rates as the page shows them: the API's rows and figures.
    page.reload()
    page.wait_for_selector("#taux-canal table")
    channel_rows = page.locator("#taux-canal tbody tr").all_inner_texts()
    assert len(channel_rows) == len(rates["by_channel"])
    for rate, text in zip(rates["by_channel"], channel_rows, strict=True):
        cells = text.split("\t")
        assert cells[0] == rate["label_fr"]
        assert cells[1:5] == [str(rate["resolved"]), str(rate["closed"]), str(rate["dismissed"]), str(rate["hits"])]
    assert page.locator("#taux-connecteur tbody tr").count() == len(rates["by_connector"])

    # The link alert on the plate: the police holding, counted, never its content.
    alert = page.locator("#alertes-liens tbody tr", has_text=plate)
    alert.wait_for()
    assert "Police nationale : 1 piste(s)" in alert.inner_text()
    assert high in alert.inner_text()
    assert police_narrative not in page.content()
    assert not any(police_narrative.encode() in body for _, body in watched.bodies)
    assert axe_violations(page) == []


def test_the_board_pages_through_the_queue_in_descending_score(open_page, make_web_user, make_pusher, live_hub):
    analyst = make_web_user("gendarmerie", "coordinator")
    token = _token(live_hub, analyst)
    pusher = make_pusher("gendarmerie")
    # Enough leads for two pages, of varied precision.
    batch = []
    for n in range(PAGE_SIZE + 6):
        extra: dict[str, Any] = {}
        if n % 3 == 0:
            extra["vehicles"] = [{"plate": _plate(), "make": "Renault"}]
        if n % 3 == 1:
            extra["location"] = dict(BESANCON)
        batch.append(lead(source_agency="gendarmerie", **extra))
    mine = set(_gendarmerie_leads(pusher, *batch))
    queued = {q["lead_id"] for q in _triaged(live_hub, token, mine)}
    total = len(queued)
    assert total > PAGE_SIZE

    page, _ = open_page(analyst)
    page.goto(f"{live_hub.url}/tri?service=gendarmerie")
    first = _rows(page)
    assert len(first) == PAGE_SIZE
    with page.expect_response(lambda r: "/api/v1/triage/queue" in r.url and "offset=25" in r.url):
        page.get_by_role("link", name="Page suivante").click()
    page.wait_for_url(re.compile(r".*[?&]page=2"))
    page.locator("#file-resume", has_text="Pistes 26 à").wait_for()
    second = _rows(page)
    assert second and len(second) == min(PAGE_SIZE, total - PAGE_SIZE)
    assert not {i for i, _ in first} & {i for i, _ in second}
    assert _descending([s for _, s in first + second])
    assert mine <= {i for i, _ in first + second} or total > 2 * PAGE_SIZE
    assert axe_violations(page) == []
    page.go_back()
    page.locator("#file-resume", has_text="Pistes 1 à").wait_for()
    assert _rows(page) == first

    # The board as an analyst works it: the queue, one lead's form open.
    _open_form(page, first[0][0]).locator("select[name=state]").select_option("assigned")
    page.set_viewport_size({"width": 1280, "height": 1200})
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "triage.png"))
