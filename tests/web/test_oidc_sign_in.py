"""A person signs in with their agency's account in a real browser: the sign-in page's
« Se connecter avec … » button, Keycloak's own login page, back to the hub signed in as the
provider's agency with the role of its table; an expired access cookie is renewed silently, both
on a page navigation and by a page's API call."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from hub.app import create_app
from hub.settings import Settings
from tests.oidc_support import (  # noqa: F401 - the fixture is used by name
    PASSWORD,
    Keycloak,
    keycloak,
    oidc_settings,
)
from tests.web.conftest import _free_port


@pytest.fixture(scope="module")
def oidc_live_hub(keycloak: Keycloak, web_settings: Settings,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    own = oidc_settings(web_settings, keycloak, tmp_path_factory.mktemp("oidc-web-hub"))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(own), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="oidc-web-hub", daemon=True)
    thread.start()
    deadline = time.monotonic() + 90
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("le hub de test (OIDC) n'a pas démarré", pytrace=False)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def _wait_url(page: Any, prefix: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not page.url.startswith(prefix):
        assert time.monotonic() < deadline, f"toujours sur {page.url}, attendu {prefix}"
        page.wait_for_timeout(100)


def test_signing_in_through_keycloaks_page_and_renewing_silently(browser, oidc_live_hub,
                                                                 keycloak) -> None:
    hub = oidc_live_hub
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{hub}/connexion")
        page.get_by_role("link", name="Se connecter avec Gendarmerie nationale (test)").click()
        _wait_url(page, keycloak.issuer("gendarmerie"))
        page.fill("#username", "durand")
        page.fill("#password", PASSWORD)
        page.click("#kc-login")
        # Back on the hub, signed in: the motif of consultation is asked first.
        _wait_url(page, f"{hub}/motif")
        who = page.locator(".ch-user").first
        assert who.get_attribute("title") == "gendarmerie:durand — Analyste, Gendarmerie nationale"
        names = {c["name"]: c for c in context.cookies()}
        assert names["crosshub_refresh"]["path"] == "/api/v1/auth/refresh"
        assert names["crosshub_refresh"]["httpOnly"] and names["crosshub_session"]["httpOnly"]

        # The access cookie is gone (expired): the next page opens without signing in again.
        context.clear_cookies(name="crosshub_session")
        page.goto(f"{hub}/motif")
        _wait_url(page, f"{hub}/motif")
        assert page.locator(".ch-user").first.get_attribute("title").startswith("gendarmerie:durand")
        assert "crosshub_session" in {c["name"] for c in context.cookies()}

        # Again gone, now under an open page: its API call gets 401, the page renews the session
        # once (POST /api/v1/auth/refresh) and repeats the call, without leaving the page.
        page.fill("#motif", "Procédure 2026/0042, contrôle de la connexion")
        page.click("form[action='/motif'] button[type=submit]")
        _wait_url(page, f"{hub}/")
        seen: list[tuple[str, int]] = []
        page.on("response", lambda r: seen.append((r.url.split("?")[0].removeprefix(hub), r.status)))
        context.clear_cookies(name="crosshub_session")
        page.fill("#q", "AB-123-CD")
        page.press("#q", "Enter")
        deadline = time.monotonic() + 30
        while ("/api/v1/search", 200) not in seen:
            assert time.monotonic() < deadline, seen
            page.wait_for_timeout(100)
        # Whichever of the page's calls meets the expired session first (the search, or the
        # notifications the page also reads), the session is renewed exactly once, the search
        # is answered, and a search refused 401 only ever came before the renewal.
        calls = [c for c in seen if c[0] in ("/api/v1/search", "/api/v1/auth/refresh")]
        renewals = [i for i, c in enumerate(calls) if c[0] == "/api/v1/auth/refresh"]
        assert [calls[i] for i in renewals] == [("/api/v1/auth/refresh", 200)], calls
        assert ("/api/v1/search", 200) in calls[renewals[0]:], calls
        assert all(c != ("/api/v1/search", 401) for c in calls[renewals[0]:]), calls
        assert page.url.startswith(f"{hub}/"), page.url
        assert page.url.startswith(f"{hub}/?") or page.url == f"{hub}/"
    finally:
        context.close()
