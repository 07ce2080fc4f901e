"""« Second facteur » in Chromium: a police coordinator enrols through the page — the QR code the
hub drew and the key to type by hand, then a first code from pyotp (the phone) — and the page
says the session is verified for deciding disclosures and exporting (the two actions
policies/data/second_factor.yaml names). Once confirmed, the key is gone from the page, and the
hub never sends it again. (The step-up dialog itself is exercised where an approval needs it:
tests/web/test_disclosures.py.)"""

from __future__ import annotations

import pyotp

from tests.web.conftest import axe_violations


def test_a_person_enrols_through_the_page(open_page, make_web_user, live_hub):
    coordinator = make_web_user("police", "coordinator")
    page, watched = open_page(coordinator)
    page.goto(f"{live_hub.url}/second-facteur")
    page.wait_for_selector("#etat-second-facteur :text('Non enrôlé')")
    assert axe_violations(page) == []

    page.get_by_role("button", name="Générer une clé").click()
    key = page.wait_for_selector("#cle-manuelle").inner_text().replace(" ", "")
    qr = page.get_by_role("img", name="QR code d'enrôlement (la même clé est écrite ci-dessous)")
    assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert axe_violations(page) == []

    page.get_by_label("Premier code affiché par l'application").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Confirmer l'enrôlement").click()
    page.wait_for_selector("text=Second facteur enrôlé : la session en cours est vérifiée.")
    status = page.inner_text("#etat-second-facteur")
    assert "Second facteur enrôlé le" in status
    assert "décider des demandes de communication : possible jusqu'au" in status
    assert "exporter le réseau d'une entité : possible jusqu'au" in status
    assert page.locator("#cle-manuelle").count() == 0  # the key left the page

    # Reloaded: the hub's answers never carry the key again.
    seen = len(watched.bodies)
    page.reload()
    page.wait_for_selector("#etat-second-facteur :text('Enrôlé')")
    assert all(key.encode() not in body for _, body in watched.bodies[seen:])
    assert page.get_by_label("Code du second facteur actuel").is_visible()  # replacing needs it
