"""The « Dossiers » page (issue 15, part A; ADR 0019) in Chromium, on a real hub.

A police analyst opens an H0 dossier through the page, links a police H1 lead and a police H2
lead, adds a gendarmerie analyst and posts an H2 comment. From the policy text (tests/oracles.py,
rules.yaml): the gendarmerie analyst reads the H1 lead redacted (the page links it, without its
narrative) and knows the H2 lead only as a hit — the page names the service to call, and no byte
the page received holds that lead's id, narrative or plate; the H2 comment is shown as a hit
(its author's service), never its text.
"""

from __future__ import annotations

from tests.factories import canary_tag, lead, random_plate
from tests.oracles import GENDARMERIE_SEES_POLICE_LEAD
from tests.web.conftest import axe_violations


def test_a_member_of_another_agency_sees_the_dossier_as_the_policy_allows(open_page, make_web_user,
                                                                         make_pusher, live_hub):
    assert GENDARMERIE_SEES_POLICE_LEAD["analyst"]["H1"] == "redacted"
    assert GENDARMERIE_SEES_POLICE_LEAD["analyst"]["H2"] == "hit"
    police, gendarmerie = make_web_user("police", "analyst"), make_web_user("gendarmerie", "analyst")
    canary, plate, note = {c: canary_tag() for c in ("H1", "H2")}, random_plate(), canary_tag()
    answer = make_pusher("police").push([
        lead(handling_code="H1", narrative=f"Guetteur {canary['H1']}."),
        lead(handling_code="H2", vehicles=[{"plate": plate}], narrative=f"Livraison {canary['H2']}.")])
    h1, h2 = (r["lead_id"] for r in answer["results"])

    page, _ = open_page(police)
    page.goto(f"{live_hub.url}/dossiers")
    page.wait_for_selector("#app[data-state=ready]")
    page.fill("#dossier-titre", f"Trafic hall {canary_tag(5)}")
    page.select_option("#dossier-code", "H0")
    page.click("#form-dossier button[type=submit]")
    page.wait_for_selector("#titre-dossier")
    page.wait_for_selector("#app[data-state=ready]")
    assert page.evaluate("document.activeElement.id") == "titre-dossier"  # focus on the dossier
    for lead_id in (h1, h2):
        page.fill("#form-piste input[name=lead_id]", lead_id)
        page.click("#form-piste button[type=submit]")
        page.wait_for_selector(f"#dossier-pistes a[href='/pistes/{lead_id}']")
    page.select_option("#form-membre select", gendarmerie.user_id)
    page.click("#form-membre button[type=submit]")
    page.wait_for_selector("#dossier-membres li:has-text('Gendarmerie')")
    page.fill("#form-commentaire textarea", f"Note {note}.")
    page.select_option("#form-commentaire select", "H2")
    page.click("#form-commentaire button[type=submit]")
    page.wait_for_selector(f"#dossier-commentaires li:has-text('{note}')")
    dossier_url = page.url

    other, watched = open_page(gendarmerie)
    other.goto(f"{live_hub.url}/dossiers")
    other.wait_for_selector("#app[data-state=ready]")
    other.click("#liste-dossiers a")
    other.wait_for_selector("#titre-dossier")
    other.wait_for_selector("#app[data-state=ready]")
    assert other.url == dossier_url
    readable = other.locator("#dossier-pistes li[data-access=redacted] a")
    assert readable.get_attribute("href") == f"/pistes/{h1}"
    hit = other.locator("#dossier-pistes li[data-access=hit]")
    assert "Police nationale" in hit.inner_text()
    assert hit.get_by_role("button", name="Demander la communication").count() == 1
    comment = other.locator("#dossier-commentaires li[data-access=hit]")
    assert "Police nationale" in comment.inner_text()
    dom = other.content()
    received = b"".join(body for _, body in watched.bodies)
    for secret in (h2, canary["H2"], plate, note, f"Guetteur {canary['H1']}"):
        assert secret not in dom and secret.encode() not in received, secret
    assert axe_violations(other) == []
