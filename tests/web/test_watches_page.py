"""The « Veilles » page (issue 14, part 1) in Chromium, on a real hub.

A gendarmerie analyst follows two plates typed in another spelling; police pushes one lead on
each, marked H1 and H2. From the policy text (tests/oracles.py, rules.yaml): the analyst reads
the H1 lead redacted — the page links it — and knows the H2 lead only as a hit — the page names
the service to call, and no byte the page received holds that lead's id, narrative or source
reference. The page refreshes by itself from the notification stream.
"""

from __future__ import annotations

import time

from hub.jobs.triage import triage_pending_once
from tests.factories import canary_tag, lead
from tests.hub.test_watches import other_spelling, random_plate
from tests.oracles import GENDARMERIE_SEES_POLICE_LEAD
from tests.web.conftest import axe_violations

DEADLINE_S = 60.0


def test_a_watcher_sees_each_new_lead_as_the_policy_allows(open_page, make_web_user,
                                                           make_pusher, live_hub):
    analyst = make_web_user("gendarmerie", "analyst")
    assert GENDARMERIE_SEES_POLICE_LEAD["analyst"]["H1"] == "redacted"
    assert GENDARMERIE_SEES_POLICE_LEAD["analyst"]["H2"] == "hit"
    plates = {"H1": random_plate(), "H2": random_plate()}
    page, watched = open_page(analyst)
    page.goto(f"{live_hub.url}/veilles")
    page.wait_for_selector("#app[data-state=ready]")
    for plate in plates.values():
        page.select_option("#veille-type", "vehicle")
        page.fill("#veille-valeur", other_spelling(plate))
        page.click("#form-veille-entite button[type=submit]")
        page.wait_for_selector(f"#liste-veilles article:has-text('{plate}')")

    canaries = {code: canary_tag() for code in plates}
    answer = make_pusher("police").push([
        lead(source_ref=f"PN-V-{canaries[code]}", handling_code=code, vehicles=[{"plate": plate}],
             narrative=f"Véhicule signalé, repère {canaries[code]}.")
        for code, plate in plates.items()])
    lead_of = {code: r["lead_id"] for code, r in zip(plates, answer["results"], strict=True)}

    deadline = time.monotonic() + DEADLINE_S
    while page.locator(".ch-watch-hit").count() < 2:
        assert time.monotonic() < deadline, "the page was not told of both leads"
        triage_pending_once(live_hub.app)  # the hub's loop may not hold the lease yet
        time.sleep(0.5)
    readable = page.locator(".ch-watch-hit[data-level=redacted] a")
    assert readable.get_attribute("href") == f"/pistes/{lead_of['H1']}"
    hit = page.locator(".ch-watch-hit[data-level=hit]")
    assert "Police nationale" in hit.inner_text()
    assert hit.get_by_role("button", name="Demander la communication").count() == 1
    dom = page.content()
    received = b"".join(body for _, body in watched.bodies)
    for secret in (lead_of["H2"], canaries["H2"], f"PN-V-{canaries['H2']}"):
        assert secret not in dom and secret.encode() not in received
    assert canaries["H1"] not in dom  # a notification never carries a narrative
    assert axe_violations(page) == []
