"""The map page (/carte, issue 12 item 7) in Chromium: a gendarmerie analyst sees what the map API
answers them, drawn — one focusable pin per placed lead, deal point and operation, one marker per
placed commune, hotspots, a co-presence disc — with the legend saying there is no basemap, no
request outside the hub, every item listed in the table under the map, and axe clean. What only
another service's H3 lead (no one else may know it exists) or H2 lead (a hit: whom to call, never
the place) asserts reaches the page in no answer at all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.factories import lead
from tests.web.conftest import axe_violations

NO_BASEMAP = "Fond de carte : aucun — communes placées au centre de leurs lieux connus"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "map.png"

PONTARLIER = {"insee_code": "25462", "commune": "Pontarlier"}
GARE, ARCON, MORTEAU_PT = (46.9040, 6.3540), (46.9075, 6.3620), (47.0580, 6.6070)
SECRET_PT, HIT_PT = (47.1071, 6.1437), (47.3529, 6.3611)
SECRETS = (b"Ornans", b"25434", b"47.1071", b"6.1437", b"Clos Interdit",
           b"Baume-les-Dames", b"25047", b"47.3529", b"6.3611", b"Quai Discret")


def at(place: dict, address: str, point: tuple[float, float]) -> dict:
    return {**place, "address": address, "point": {"lat": point[0], "lon": point[1]}}


def when(days_ago: float) -> dict:
    now = datetime.now(UTC)
    return {"observed_at": (now - timedelta(days=days_ago)).isoformat(),
            "reported_at": (now - timedelta(days=days_ago) + timedelta(hours=2)).isoformat()}


def push_world(make_pusher) -> None:
    make_pusher("police").push([
        lead(source_ref="CARTE-G1", **when(40), location=at(PONTARLIER, "Rue de la Gare", GARE),
             deal_point={"insee_code": "25462", "label": "Square des Cordeliers"}),
        lead(source_ref="CARTE-G2", **when(41), location=at(PONTARLIER, "Rue de la Gare", GARE)),
        lead(source_ref="CARTE-A1", **when(3), location=at(PONTARLIER, "Place d'Arçon", ARCON),
             vehicles=[{"plate": "GC-303-CC"}]),
        lead(source_ref="CARTE-A2", **when(3 - 10 / 1440), location=at(PONTARLIER, "Place d'Arçon", ARCON), vehicles=[{"plate": "GD-404-DD"}]),
        lead(source_ref="CARTE-O1", handling_code="H3", **when(2),
             location=at({"insee_code": "25434", "commune": "Ornans"}, "Clos Interdit", SECRET_PT)),
        lead(source_ref="CARTE-B1", handling_code="H2", **when(2),
             location=at({"insee_code": "25047", "commune": "Baume-les-Dames"}, "Quai Discret", HIT_PT)),
    ])
    make_pusher("gendarmerie").push([
        lead(source_agency="gendarmerie", source_ref="CARTE-M1", **when(5),
             location=at({"insee_code": "25411", "commune": "Morteau"}, "Rue de l'Hôtel de Ville", MORTEAU_PT)),
    ])


def test_a_gendarmerie_analyst_reads_the_map_with_the_keyboard_and_without_the_canvas(
        clean_graph, open_page, make_web_user, make_pusher, live_hub):
    # The graph is wiped first: the secrets below are real communes, which leads other tests
    # left readable in the same worker's graph could legitimately name.
    push_world(make_pusher)
    user = make_web_user("gendarmerie", "analyst")
    page, watched = open_page(user)
    # The analyst's brigade declares a surveillance in Morteau (through the page's own session).
    start = datetime.now(UTC) + timedelta(hours=1)
    declared = page.evaluate("""async (body) => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch('/api/v1/operations', {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
            body: JSON.stringify(body)});
        return r.status;
    }""", {"kind": "surveillance", "unit": "BR Morteau", "starts_at": start.isoformat(),
           "ends_at": (start + timedelta(hours=6)).isoformat(),
           "place": {"insee_code": "25411", "commune": "Morteau",
                     "point": {"lat": 47.0612, "lon": 6.6021}, "radius_m": 400}})
    assert declared == 201
    page.set_viewport_size({"width": 1280, "height": 1100})
    page.goto(f"{live_hub.url}/carte")
    page.wait_for_selector("#app[data-state=ready]")
    assert page.locator("#app .fr-alert--error").count() == 0

    [answer] = [json.loads(body) for url, body in watched.bodies if "/api/v1/analysis/map?" in url]
    features = answer["features"]
    pins = [f for f in features if f["geometry"] and f["properties"]["kind"] != "commune"]
    communes = [f for f in features if f["geometry"] and f["properties"]["kind"] == "commune"]
    kinds = {f["properties"]["kind"] for f in pins}
    assert {"lead", "deal_point", "operation"} <= kinds
    assert {f["properties"]["commune"] for f in communes} >= {"Pontarlier", "Morteau"}
    # Every placed item drawn: one pin each, one marker per placed commune.
    assert page.locator("#carte .leaflet-marker-icon").count() == len(pins)
    assert page.locator("#carte path.ch-map-commune").count() == len(communes)
    # Hotspots: Pontarlier's activity moved from the station to Place d'Arçon (arrow drawn).
    assert page.locator("#carte path.ch-hot--recent").count() >= 1
    assert page.locator("#carte path.ch-hot-move").count() >= 1
    assert page.get_by_text(NO_BASEMAP).is_visible()
    screenshot(page)

    # Nothing is reachable only on the canvas: every feature and hotspot is a row of the table.
    [hotspots] = [json.loads(body) for url, body in watched.bodies if "/api/v1/analysis/hotspots?" in url]
    rows = page.locator("#elements-carte tbody tr")
    assert rows.count() == len(features) + len(hotspots["places"]) + len(hotspots["communes"])
    lead_links = page.locator("#elements-carte a[href^='/pistes/']")
    assert lead_links.count() == sum(f["properties"]["kind"] == "lead" for f in features)

    # Keyboard: the map takes the focus, named; Tab reaches a pin; Enter opens its bubble.
    container = page.locator("#carte")
    assert container.get_attribute("tabindex") == "0" and container.get_attribute("aria-label")
    container.focus()
    on_pin = "document.activeElement.classList.contains('leaflet-marker-icon')"
    for _ in range(5):  # the pins, then Leaflet's zoom buttons, in document order
        page.keyboard.press("Tab")
        if page.evaluate(on_pin):
            break
    assert page.evaluate(on_pin)
    assert page.evaluate("document.activeElement.getAttribute('role')") == "button"
    page.keyboard.press("Enter")
    page.wait_for_selector("#carte .leaflet-popup .ch-map-popup a")

    # A co-presence disc around Place d'Arçon over the last week: the two vehicles, drawn.
    page.fill("#cp-lat", str(ARCON[0]))
    page.fill("#cp-lon", str(ARCON[1]))
    page.fill("#cp-rayon", "150")
    page.click("#form-copresence button[type=submit]")
    page.wait_for_selector("#resultat-copresence [role=status]")
    assert "1 paire(s) co-présente(s)" in page.locator("#resultat-copresence").inner_text()
    assert page.locator("#carte path.ch-copresence").count() == 1

    # What the analyst may not know of is in no answer the page received.
    for url, body in watched.bodies:
        for secret in SECRETS:
            assert secret not in body, (secret, url)
    assert watched.foreign_requests == []
    assert axe_violations(page) == []


def screenshot(page) -> None:
    """The map as it opens (for the README): layer switches, the map, its legend."""
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    top = page.locator("#page-title").bounding_box()
    bottom = page.locator("#legende-carte").bounding_box()
    page.screenshot(path=str(SCREENSHOT), full_page=True, clip={
        "x": 0, "y": top["y"] - 16, "width": 1280,
        "height": bottom["y"] + bottom["height"] - top["y"] + 32})
