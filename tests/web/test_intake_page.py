"""The intake service's form in Chromium (ADR 0014): a member of a bailleur social signs in with
their hub account, a bad plate is named next to its field (label, ``aria-invalid``, error text)
and the lead is versed once fixed; no serious or critical axe-core violation, no console error,
no request leaving the intake service, its CSP on every page."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from pydantic import SecretStr

from connectors.intake.connector import IntakeSettings
from connectors.intake.web import create_app
from graph import identity
from hub.contract.signing import generate_keypair, key_id_of, load_public_key_pem
from tests.web.conftest import LiveHub, _free_port, axe_violations

LINKAGE_KEY = "web-intake-linkage-key-0123456789abcdef"


@pytest.fixture
def intake_url(live_hub: LiveHub, tmp_path: Path) -> Iterator[str]:
    key_path = tmp_path / "intake.pem"
    pem = generate_keypair(key_path)
    name = "intake"
    identity.register_connector_key(live_hub.graph, identity.ConnectorKey(
        key_id=key_id_of(load_public_key_pem(pem)), connector=name, agency="prefecture", public_key_pem=pem))
    user = identity.upsert_user(live_hub.graph, agency="prefecture", role="connector", name=name)
    token = identity.issue_token(live_hub.graph, user.user_id, purpose="connector").token
    settings = IntakeSettings(hub_url=live_hub.url, hub_token=SecretStr(token), agency="prefecture",
                              state_dir=str(tmp_path / "state"), signing_key_path=str(key_path),
                              linkage_key=SecretStr(LINKAGE_KEY))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, name="intake", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "le service de saisie n'a pas démarré"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def test_a_bailleur_enters_a_lead_through_the_form(browser: Any, make_web_user, intake_url: str) -> None:
    member = make_web_user("bailleur_social", "analyst")
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    problems: list[str] = []
    page = context.new_page()
    page.set_default_timeout(30_000)
    # The refused form is answered 422 on purpose (field errors), which Chromium logs as a
    # failed load: that one line is expected, any other console error is not.
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error"
            and "status of 422" not in m.text else None)
    page.on("request", lambda r: None if r.url.startswith((intake_url, "data:")) else
            problems.append(f"requête externe : {r.url}"))
    page.on("response", lambda r: None if "default-src 'self'" in r.headers.get("content-security-policy", "")
            or not r.url.startswith(intake_url) or "/static/" in r.url else problems.append(f"CSP absente : {r.url}"))
    try:
        page.goto(f"{intake_url}/connexion")
        page.get_by_label("Identifiant").fill(member.user_id)
        page.get_by_label("Mot de passe").fill(member.password)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(f"{intake_url}/")

        page.get_by_label("Nature *").fill("Signalement bailleur")
        page.get_by_label("Code INSEE").fill("61001")
        page.get_by_label("Commune").fill("Alençon")
        page.get_by_label("Immatriculation").fill("ZZ-12")
        page.get_by_label("Code de traitement *").fill("H0")
        page.get_by_label("Fiabilité de la source *").fill("C")
        page.get_by_label("Crédibilité de l'information *").fill("3")
        page.get_by_role("button", name="Verser la piste").click()
        plate = page.locator("#immatriculation")
        plate.wait_for()
        assert plate.get_attribute("aria-invalid") == "true"
        assert page.locator("#immatriculation-erreur").inner_text().strip()
        assert "champ « immatriculation »" in page.locator("[role=alert]").inner_text()
        assert axe_violations(page) == []

        plate.fill("PR-404-ST")
        page.get_by_role("button", name="Verser la piste").click()
        page.locator("#verse").wait_for()
        assert "1 piste(s) versée(s)" in page.locator("#verse").inner_text()
    finally:
        context.close()
    assert not problems, problems
