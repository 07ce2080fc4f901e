"""A real OIDC provider for the tests: one Keycloak per test session (shared by the xdist workers
through a file lock and a state file with a count of users; the last user stops it), started
only when a test asks for ``keycloak``, with two realms — two agencies' issuers — generated here.

Also the hub configuration that trusts them (``oidc_settings``: an identity providers file, the
police client's secret as a 0600 file) and ``keycloak_sign_in``, which fills Keycloak's own login
form the way a browser would (httpx, cookies kept).
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from graph.host import locked
from hub.dev import keycloak as kc
from hub.settings import Settings

PASSWORD = "Mot-de-passe-Keycloak-25"
EXISTING_ENV = "CROSSHUB_TEST_KEYCLOAK_URL"
POLICE_SECRET = "secret-du-client-police-" + "x" * 16

# The table the providers file below declares, as the tests read it (value -> hub role).
POLICE_ROLES = [("cross-coordinateurs", "coordinator"), ("cross-analystes", "analyst")]
GENDARMERIE_ROLES = [("analystes-gn", "analyst")]

REALMS = [
    kc.RealmSpec(name="police", client_secret=POLICE_SECRET,
                 groups=("cross-analystes", "cross-coordinateurs", "autres"),
                 users=(kc.RealmUser(username="dupont", password=PASSWORD, first_name="Jean",
                                     last_name="Dupont", groups=("cross-analystes",)),
                        kc.RealmUser(username="martin", password=PASSWORD, first_name="Léa",
                                     last_name="Martin",
                                     groups=("cross-analystes", "cross-coordinateurs")),
                        kc.RealmUser(username="sansrole", password=PASSWORD, first_name="Paul",
                                     last_name="Sansrole", groups=("autres",)),
                        kc.RealmUser(username="suspendu", password=PASSWORD, first_name="Max",
                                     last_name="Suspendu", groups=("cross-analystes",)))),
    kc.RealmSpec(name="gendarmerie", client_secret=None, groups=("analystes-gn",),
                 users=(kc.RealmUser(username="durand", password=PASSWORD, first_name="Marie",
                                     last_name="Durand", groups=("analystes-gn",)),)),
]


@dataclass(frozen=True)
class Keycloak:
    base_url: str

    def issuer(self, realm: str) -> str:
        return f"{self.base_url}/realms/{realm}"


def _shared_root(factory: pytest.TempPathFactory) -> Path:
    base = factory.getbasetemp()
    # Under xdist each worker's basetemp is a child of the session's own directory.
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _alive(state: dict) -> bool:
    try:
        os.kill(int(state["pid"]), 0)
        return httpx.get(f"http://127.0.0.1:{state['port']}/realms/police", timeout=2).status_code == 200
    except (OSError, KeyError, ValueError, httpx.HTTPError):
        return False


@pytest.fixture(scope="session")
def keycloak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keycloak]:
    if os.environ.get(EXISTING_ENV):  # a server with these realms already running (iterating)
        yield Keycloak(base_url=os.environ[EXISTING_ENV].rstrip("/"))
        return
    root = _shared_root(tmp_path_factory) / "keycloak"
    root.mkdir(parents=True, exist_ok=True)
    state_file, lock = root / "state.json", root / ".lock"
    with locked(lock):
        state = json.loads(state_file.read_text()) if state_file.is_file() else {}
        if state and _alive(state):
            state["users"] = int(state.get("users", 0)) + 1
        else:
            running = kc.start(root / "instance", REALMS)
            state = {"pid": running.pid, "port": running.port, "users": 1}
        state_file.write_text(json.dumps(state))
    try:
        yield Keycloak(base_url=f"http://127.0.0.1:{state['port']}")
    finally:
        with locked(lock):
            state = json.loads(state_file.read_text())
            state["users"] -= 1
            if state["users"] <= 0:
                kc.stop(kc.RunningKeycloak(pid=state["pid"], port=state["port"],
                                           instance=root / "instance"))
                state_file.unlink()
            else:
                state_file.write_text(json.dumps(state))


def providers_yaml(server: Keycloak) -> str:
    def table(rows: list[tuple[str, str]]) -> str:
        return "".join(f"      - {{value: {v}, role: {r}}}\n" for v, r in rows)

    return (
        "version: 1\nproviders:\n"
        f"  - id: police\n    agency: police\n    label_fr: Police nationale (test)\n"
        f"    issuer: {server.issuer('police')}\n    client_id: crosshub\n"
        f"    client_auth: client_secret_basic\n    roles:\n{table(POLICE_ROLES)}"
        f"  - id: gendarmerie\n    agency: gendarmerie\n    label_fr: Gendarmerie nationale (test)\n"
        f"    issuer: {server.issuer('gendarmerie')}\n    client_id: crosshub\n"
        f"    roles:\n{table(GENDARMERIE_ROLES)}"
    )


def oidc_settings(base: Settings, server: Keycloak, data_dir: Path) -> Settings:
    """A hub of its own (own data dir: keys, audit) trusting the two realms."""
    data_dir.mkdir(parents=True, exist_ok=True)
    providers = data_dir / "identity_providers.yaml"
    providers.write_text(providers_yaml(server), encoding="utf-8")
    secret_dir = data_dir / "keys" / "oidc"
    secret_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (data_dir / "keys").chmod(0o700)
    fd = os.open(secret_dir / "police.secret", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(POLICE_SECRET)
    return base.model_copy(update={"data_dir": data_dir, "identity_providers_file": providers,
                                   "hub_jobs_enabled": False})


_FORM_ACTION = re.compile(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', re.S)


def keycloak_sign_in(authorize_url: str, username: str, password: str = PASSWORD) -> str:
    """Open the provider's authorization URL, fill its login form, and return where it sends the
    browser back (the hub's callback URL with ``code`` and ``state``), without following it."""
    with httpx.Client(timeout=20, follow_redirects=False) as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 200, page.text[:500]
        # Keycloak marks its cookies Secure; a browser keeps them on http://127.0.0.1 (a secure
        # context), httpx would not send them back: do as the browser does.
        for cookie in browser.cookies.jar:
            cookie.secure = False
        found = _FORM_ACTION.search(page.text)
        assert found, page.text[:1000]
        answer = browser.post(html.unescape(found.group(1)),
                              data={"username": username, "password": password,
                                    "credentialId": ""})
        assert answer.status_code in (302, 303), answer.text[:1000]
        return answer.headers["location"]
