"""The link chart and the timeline in real pages (Chromium, a real hub): a gendarmerie analyst
searches a plate, opens the chart, expands a node and opens its sheet with the keyboard alone,
sees the police H2 lead on the plate as a hit (holder and whom to contact, never its content)
and asks for its communication from the hit; exports; the timeline of the plate.

Expected outcomes come from the rules (policies/data/rules.yaml, issue 12): an H2 lead of
another agency is "on request to the originator", so a gendarmerie analyst knows only that the
police hold a lead on the plate, and whom to call; its narrative reaches neither the page nor
any answer the page received. A request filed from the hit names the police lead's holder."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from graph import grants as graph_grants
from tests.factories import lead
from tests.second_factor import enrol_web_user, step_up_page
from tests.web.conftest import axe_violations

PLATE = "AB-123-CD"
CANARY = "Canari-é7f3 récit réservé à la police"
BESANCON = {"insee_code": "25056", "commune": "Besançon"}
CASSIN = {**BESANCON, "address": "Place Cassin", "point": {"lat": 47.2205, "lon": 5.9710}}
DOLE = {**BESANCON, "address": "Rue de Dole", "point": {"lat": 47.2380, "lon": 6.0150}}
POLICE_CONTACT = "permanence CROSS de la direction interdépartementale de la police nationale"
SCREENSHOT = "/work/main/docs/screenshots/chart.png"


def _seed(make_pusher, plate: str, other_plate: str, canary: str) -> dict[str, str]:
    """A police H2 lead on ``plate`` (its narrative holds the canary); a gendarmerie lead on the
    same plate at Place Cassin; another gendarmerie lead at Place Cassin on ``other_plate``."""
    police = make_pusher("police").push([lead(
        source_agency="police", handling_code="H2", vehicles=[{"plate": plate}], location=DOLE,
        observed_at="2025-07-20T22:10:00+02:00", reported_at="2025-07-21T08:00:00+02:00",
        narrative=f"Observation discrète. {canary}.")])
    gendarmerie = make_pusher("gendarmerie").push([
        lead(source_agency="gendarmerie", source_ref=f"G-plaque-{plate}", handling_code="H1",
             vehicles=[{"plate": plate}], location=CASSIN,
             observed_at="2025-07-25T21:00:00+02:00", reported_at="2025-07-26T08:00:00+02:00",
             narrative="Véhicule stationné devant le hall 3."),
        lead(source_agency="gendarmerie", source_ref=f"G-lieu-{plate}", handling_code="H1",
             vehicles=[{"plate": other_plate}], location=CASSIN,
             observed_at="2025-07-27T23:30:00+02:00", reported_at="2025-07-28T08:00:00+02:00",
             narrative="Second véhicule au même endroit."),
    ])
    ids = {r["source_ref"]: r["lead_id"] for r in gendarmerie["results"]}
    return {"police": police["results"][0]["lead_id"], "plate": ids[f"G-plaque-{plate}"], "place": ids[f"G-lieu-{plate}"]}


def _watch_errors(page) -> list[str]:
    errors: list[str] = []
    # Uncaught errors of the chart's and the timeline's own modules (the console check of
    # open_page does not see them).
    page.on("pageerror", lambda e: errors.append(f"{e.message} {e.stack}")
            if re.search(r"/static/js/(chart|timeline|chunk-)", e.stack or "") else None)
    return errors


def _rows(page) -> list[str]:
    return page.locator("#liste-noeuds tbody tr").all_inner_texts()


def _wait_rows(page, at_least: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#liste-noeuds tbody tr').length >= n", arg=at_least)


def test_analyst_charts_a_plate_expands_by_keyboard_and_requests_the_hit(
        clean_graph, open_page, make_web_user, make_pusher, live_hub):
    # The graph is wiped first: Place Cassin is the factories' default place, so leads other
    # tests left in the same worker's graph would be one expansion away too (CI saw 4 leads).
    ids = _seed(make_pusher, PLATE, "KL-789-MN", CANARY)
    user = make_web_user("gendarmerie", "analyst")
    page, watched = open_page(user)
    errors = _watch_errors(page)
    page.set_viewport_size({"width": 1400, "height": 1350})

    # Search on the home page, then "Ouvrir dans le graphe" on the plate.
    page.fill("#q", "ab 123 cd")
    page.click("#recherche button[type=submit]")
    page.locator("#resultats", has_text="pour « ab 123 cd »").wait_for()
    assert "Ouvrir dans le graphe" in page.locator("#resultats").inner_text(), page.locator("#resultats").inner_text()
    page.get_by_role("link", name="Ouvrir dans le graphe").first.click()
    page.wait_for_url(re.compile(r".*/graphe\?depart=vehicle%3AAB-123-CD$"))
    # The plate, the gendarmerie lead on it, its place, and the police hit: four nodes.
    try:
        _wait_rows(page, 4)
    finally:
        assert errors == []
    rows = _rows(page)
    assert any(PLATE in r for r in rows)
    assert any("Place Cassin" in r for r in rows)
    assert not any("KL-789-MN" in r for r in rows), "the other plate is one expansion away"
    hit_rows = [r for r in rows if r.startswith("Hit")]
    assert len(hit_rows) == 1 and "Police nationale — 1 piste" in hit_rows[0]
    assert axe_violations(page) == []
    assert errors == []

    # Keyboard alone: focus the chart, arrows to the place, Enter expands it.
    live = page.locator("#graphe-annonce")
    page.focus("#graphe")
    for _ in range(12):
        if live.inner_text().startswith("Lieu Place Cassin"):
            break
        page.keyboard.press("ArrowRight")
    assert live.inner_text().startswith("Lieu Place Cassin")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#liste-noeuds tbody tr')].some(r => r.innerText.includes('KL-789-MN'))")
    assert "développé" in live.inner_text()
    rows = _rows(page)
    assert sum(r.startswith("Piste") for r in rows) == 2  # both gendarmerie leads, not the police one

    # Undo removes the expansion, redo brings it back.
    page.get_by_role("button", name="Annuler").click()
    page.wait_for_function(
        "() => ![...document.querySelectorAll('#liste-noeuds tbody tr')].some(r => r.innerText.includes('KL-789-MN'))")
    page.get_by_role("button", name="Rétablir").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#liste-noeuds tbody tr')].some(r => r.innerText.includes('KL-789-MN'))")

    # The hit: its own panel with the holder and whom to call, and "Demander la communication".
    page.locator("#liste-noeuds tbody tr", has_text="Police nationale — 1 piste").get_by_role("button").click()
    panel = page.locator("#panneau")
    assert "Service détenteur : Police nationale" in panel.inner_text()
    assert f"Contact : {POLICE_CONTACT}" in panel.inner_text()
    page.locator("#graphe").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, document.getElementById('page-title').getBoundingClientRect().top + window.scrollY - 16)")
    page.screenshot(path=SCREENSHOT, full_page=False)

    # Its content reaches neither the page nor any answer the page received.
    escaped = json.dumps(CANARY)[1:-1]
    assert escaped != CANARY  # the accented canary has a distinct JSON-escaped form
    assert CANARY not in page.content()
    for url, body in watched.bodies:
        for form in (CANARY, escaped, "Canari-"):
            assert form.encode() not in body, url
    assert ids["police"].encode() not in b"".join(b for _, b in watched.bodies), "a hit hides the lead id"

    panel.get_by_role("button", name="Demander la communication").click()
    panel.locator("textarea").fill("PV 2026/118 — même véhicule vu à Place Cassin")
    panel.get_by_role("button", name="Envoyer la demande").click()
    panel.get_by_text("Demande envoyée à Police nationale").wait_for()
    made = graph_grants.list_disclosure_requests(live_hub.graph, requester_user_id=user.user_id)
    assert [(r.owner_agency, r.lead_id, r.requester_agency) for r in made] == \
        [("police", ids["police"], "gendarmerie")]
    assert made[0].justification == "PV 2026/118 — même véhicule vu à Place Cassin"

    # Back on the chart from the keyboard: the focused place opens its sheet with "o".
    page.focus("#graphe")
    for _ in range(12):
        if live.inner_text().startswith("Lieu Place Cassin"):
            break
        page.keyboard.press("ArrowRight")
    page.keyboard.press("o")
    page.wait_for_url(f"{live_hub.url}/entites/location/{quote('addr:25056:place cassin', safe='')}")


def test_chart_exports_a_png_and_the_timeline_lists_the_plate_leads(
        clean_graph, open_page, make_web_user, make_pusher, live_hub):
    plate, other = "GH-456-JK", "MN-321-PQ"
    ids = _seed(make_pusher, plate, other, "Canari-ü91 autre récit")
    user = make_web_user("gendarmerie", "analyst")
    page, watched = open_page(user)
    # Exporting needs the second factor: enrolled, and this session verified.
    step_up_page(page, live_hub, enrol_web_user(live_hub, user))
    errors = _watch_errors(page)
    page.goto(f"{live_hub.url}/graphe?depart=vehicle:{plate}")
    _wait_rows(page, 4)

    with page.expect_download() as png:
        page.get_by_role("button", name="PNG").click()
    data = open(png.value.path(), "rb").read()
    assert png.value.suggested_filename.endswith(".png")
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000

    with page.expect_download() as svg:
        page.get_by_role("button", name="SVG").click()
    text = open(svg.value.path(), encoding="utf-8").read()
    assert text.startswith("<svg") and plate in text and "Police nationale — 1 piste" in text

    with page.expect_download() as graphml:
        page.get_by_role("button", name="GRAPHML").click()
    exported = open(graphml.value.path(), encoding="utf-8").read()
    assert "<graphml" in exported and ids["plate"] in exported and ids["police"] not in exported

    # The timeline of the plate: the gendarmerie lead, the police one only as a hit.
    page.goto(f"{live_hub.url}/chronologie?entite=vehicle:{plate}")
    page.wait_for_selector("#chronologie-table")
    table = page.locator("#chronologie-table tbody").inner_text()
    links = page.locator("#chronologie-table tbody a")
    assert links.count() == 1
    assert links.first.get_attribute("href") == f"/pistes/{ids['plate']}"
    assert "Gendarmerie nationale" in table and "Police nationale" not in table
    assert "Police nationale détient 1 piste(s)" in page.locator("#app").inner_text()
    assert axe_violations(page) == []
    assert errors == []
