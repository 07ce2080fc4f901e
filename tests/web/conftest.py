"""Web application fixtures: one real hub per session served by uvicorn on loopback (its own
data directory, the session's Neo4j), one headless Debian Chromium driven by Playwright, and
helpers to make password users, push leads as a connector and open a signed-in page.

Every page a test opens through ``open_page`` is watched: a console error, a request to a host
other than the hub, or a page without the hub's Content-Security-Policy fails the test at
teardown.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from graph import identity
from graph import sessions as graph_sessions
from graph.handle import Graph
from hub.app import create_app
from hub.contract.signing import (
    generate_keypair,
    key_id_of,
    load_private_key,
    load_public_key_pem,
    sign_request,
)
from hub.settings import Settings
from hub.web.security import CSP
from policies.auth import passwords

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
MOTIF = "PV 2026/118 — test"


def chromium_path() -> str:
    path = os.environ.get("CROSSHUB_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail("chromium introuvable : scripts/setup.sh l'installe (apt-get install chromium) "
                    "ou CROSSHUB_CHROMIUM le désigne", pytrace=False)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveHub:
    url: str
    settings: Settings
    graph: Graph
    app: Any

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


@pytest.fixture(scope="session")
def web_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("web-hub"),
                                       "hub_jobs_enabled": False})


@pytest.fixture(scope="session")
def live_hub(web_settings: Settings, driver) -> Iterator[LiveHub]:
    app = create_app(web_settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name="web-hub", daemon=True)
    thread.start()
    deadline = time.monotonic() + 90
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("le hub de test n'a pas démarré", pytrace=False)
        time.sleep(0.05)
    static = Path(__file__).resolve().parents[2] / "hub" / "web" / "static" / "js"
    if not static.is_dir():
        pytest.fail("hub/web/static absent : lancer scripts/setup.sh (npm ci + build)", pytrace=False)
    try:
        yield LiveHub(url=f"http://127.0.0.1:{port}", settings=web_settings,
                      graph=Graph(driver, web_settings.neo4j_database), app=app)
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class WebUser:
    user_id: str
    password: str
    agency: str
    role: str


@pytest.fixture
def make_web_user(live_hub: LiveHub):
    def make(agency: str = "gendarmerie", role: str = "analyst", name: str | None = None,
             contact: str | None = None) -> WebUser:
        name = name or f"{role}-{uuid.uuid4().hex[:6]}"
        user = identity.upsert_user(live_hub.graph, agency=agency, role=role, name=name,
                                    contact=contact or f"Permanence {agency} 03 29 00 00 00")
        password = f"Mot-de-passe-{uuid.uuid4().hex}"
        graph_sessions.set_password_hash(live_hub.graph, user.user_id,
                                         passwords.hash_password(password))
        return WebUser(user.user_id, password, agency, role)
    return make


@dataclass
class Pusher:
    hub: LiveHub
    token: str
    key_path: Path

    def push(self, leads: list[dict[str, Any]]) -> dict[str, Any]:
        body = json.dumps({"leads": leads}, default=str).encode()
        headers = sign_request(load_private_key(self.key_path), "POST", "/api/v1/leads", body)
        with self.hub.client() as c:
            response = c.post("/api/v1/leads", content=body, headers={
                **headers, "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["rejected"] == 0, data
        return data


@pytest.fixture
def make_pusher(live_hub: LiveHub, tmp_path: Path):
    def make(agency: str = "police") -> Pusher:
        name = f"{agency}-{uuid.uuid4().hex[:6]}"
        user = identity.upsert_user(live_hub.graph, agency=agency, role="connector", name=name)
        token = identity.issue_token(live_hub.graph, user.user_id).token
        key_path = tmp_path / f"{name}.pem"
        pem = generate_keypair(key_path)
        identity.register_connector_key(live_hub.graph, identity.ConnectorKey(
            key_id=key_id_of(load_public_key_pem(pem)), connector=name, agency=agency,
            public_key_pem=pem))
        return Pusher(live_hub, token, key_path)
    return make


_EXPECTED_4XX = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d ")


@dataclass
class Watched:
    """What a browser context did: console errors, requests to other hosts, every response
    body the pages received (for the canary checks), pages without the hub's CSP."""

    hub_host: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    missing_csp: list[str] = field(default_factory=list)

    def on_console(self, message: Any) -> None:
        # A 4xx the hub answers on purpose (a refused login, a hit's 404) is shown to the user
        # by the page; Chromium also logs it. Server errors are caught below, by status.
        if message.type == "error" and not _EXPECTED_4XX.match(message.text):
            self.console_errors.append(message.text)

    def on_response(self, response: Any) -> None:
        url = response.url
        if not url.startswith(self.hub_host):
            return
        if response.status >= 500:
            self.console_errors.append(f"{response.status} {url}")
        if response.request.resource_type == "document":
            if response.headers.get("content-security-policy") != CSP and "/docs" not in url \
                    and "/redoc" not in url:
                self.missing_csp.append(url)
        if response.request.resource_type in ("document", "fetch", "xhr", "eventsource"):
            try:
                self.bodies.append((url, response.body()))
            except Exception:  # noqa: BLE001 - a redirect or a stream has no body to keep
                pass


@pytest.fixture
def open_page(browser: Any, live_hub: LiveHub):
    """``open_page(user=None, motif=MOTIF)`` → (page, watched): a fresh browser context, signed
    in through the login form (and the motif form) when a user is given."""
    contexts: list[tuple[Any, Watched]] = []

    def open_(user: WebUser | None = None, motif: str | None = MOTIF):
        context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
        watched = Watched(hub_host=live_hub.url)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("console", watched.on_console)
        page.on("pageerror", lambda exc: watched.console_errors.append(f"exception: {exc}"))
        page.on("request", lambda r: None if r.url.startswith((live_hub.url, "data:", "blob:"))
                else watched.foreign_requests.append(r.url))
        page.on("response", watched.on_response)
        contexts.append((context, watched))
        if user is not None:
            sign_in(page, live_hub, user)
            if motif:
                set_motif(page, live_hub, motif)
        return page, watched

    yield open_
    problems = []
    for context, watched in contexts:
        context.close()
        problems += [f"console: {e}" for e in watched.console_errors]
        problems += [f"requête externe: {u}" for u in watched.foreign_requests]
        problems += [f"CSP absente: {u}" for u in watched.missing_csp]
    assert not problems, problems


def sign_in(page: Any, hub: LiveHub, user: WebUser, target: str = "/") -> None:
    page.goto(f"{hub.url}/connexion?suite={target}")
    page.fill("#user_id", user.user_id)
    page.fill("#password", user.password)
    page.click("button[type=submit]")


def set_motif(page: Any, hub: LiveHub, motif: str) -> None:
    page.goto(f"{hub.url}/motif?suite=/")
    page.fill("#motif", motif)
    page.click("form[action='/motif'] button[type=submit]")
    page.wait_for_url(f"{hub.url}/")


def axe_violations(page: Any) -> list[tuple[str, str, str]]:
    """axe-core's serious and critical violations of the page as it stands."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [(v["id"], v["impact"], v["help"]) for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")]
