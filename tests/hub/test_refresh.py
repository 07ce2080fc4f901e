"""Sessions renewed without the password: single-use rotating refresh tokens (only a hash in the
graph), reuse of a spent one closes the whole session (theft), a race within the grace period is
refused without closing it, never past the session's absolute end, logout still immediate, the
web application's cookie path guarded by the anti-CSRF token, everything in the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from graph import identity
from graph import sessions as graph_sessions
from graph.handle import Graph
from hub.app import create_app
from hub.audit import AuditFilters, query
from hub.auth.refresh import new_refresh_token, refresh_hash
from hub.settings import Settings
from hub.web.session import csrf_keys_for
from policies.auth import passwords

PASSWORD = "un mot de passe assez long"
PROTECTED = "/api/v1/leads/police:X?justification=test-motif"
REFUSED = "jeton de renouvellement invalide, expiré ou révoqué : se reconnecter"


@pytest.fixture(scope="module")
def strict_hub(hub_settings: Settings,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings]]:
    """No grace: any reuse of a spent refresh token is theft."""
    own = hub_settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("refresh-hub"),
                                          "refresh_reuse_grace_s": 0})
    with TestClient(create_app(own), follow_redirects=False) as c:
        yield c, own


def _person(settings: Settings, driver) -> str:
    db = Graph(driver, settings.neo4j_database)
    user = identity.upsert_user(db, agency="police", role="analyst",
                                name=f"refresh-{uuid.uuid4().hex[:8]}")
    graph_sessions.set_password_hash(db, user.user_id, passwords.hash_password(PASSWORD))
    return user.user_id


def _login(client: TestClient, user_id: str) -> dict:
    answer = client.post("/api/v1/auth/login", json={"user_id": user_id, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _refresh(client: TestClient, token: str):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_refresh_rotates_and_a_spent_token_reused_closes_the_session(strict_hub, driver) -> None:
    client, settings = strict_hub
    user_id = _person(settings, driver)
    first = _login(client, user_id)
    assert first["refresh_token"].startswith(f"crr_{first['session_id']}.")
    # Only the hash of the token is in the graph.
    stored = Graph(driver, settings.neo4j_database).query(
        "MATCH (s:Session {session_id: $sid}) RETURN s {.*} AS s", sid=first["session_id"])[0]["s"]
    secret = first["refresh_token"].split(".", 1)[1]
    assert stored["refresh_hash"] == refresh_hash(secret) and secret not in str(stored)

    second = _refresh(client, first["refresh_token"])
    assert second.status_code == 200, second.text
    renewed = second.json()
    assert renewed["session_id"] == first["session_id"]
    assert renewed["refresh_token"] != first["refresh_token"]
    assert renewed["access_token"] != first["access_token"]
    assert client.get(PROTECTED, headers=_bearer(renewed["access_token"])).status_code == 404

    # The spent token comes back (a thief's copy, or the owner's after the thief's use).
    reused = _refresh(client, first["refresh_token"])
    assert reused.status_code == 401 and REFUSED.encode() in reused.content
    # ...the whole session is closed: the newest access and refresh tokens die with it.
    assert client.get(PROTECTED, headers=_bearer(renewed["access_token"])).status_code == 401
    assert _refresh(client, renewed["refresh_token"]).status_code == 401
    session = graph_sessions.get_session(Graph(driver, settings.neo4j_database),
                                         first["session_id"])
    assert session is not None and session.revoked_reason == "refresh_reuse"

    events = [(e.details["event"], e.decision.outcome.value, e.details.get("reason"))
              for e in reversed(query(settings.audit_dir,
                                      AuditFilters(entity_key=f"session:{first['session_id']}")))]
    assert events == [("login_success", "allow", None), ("session_refreshed", "allow", None),
                      ("refresh_reuse", "deny", "refresh_token_reused"),
                      ("refresh_refused", "deny", "inactive")]


def test_a_race_within_the_grace_period_is_refused_without_closing_the_session(
        client, hub_settings, driver) -> None:
    assert hub_settings.refresh_reuse_grace_s >= 1
    user_id = _person(hub_settings, driver)
    first = _login(client, user_id)
    renewed = _refresh(client, first["refresh_token"]).json()
    raced = _refresh(client, first["refresh_token"])  # the other tab, a moment later
    assert raced.status_code == 401
    assert client.get(PROTECTED, headers=_bearer(renewed["access_token"])).status_code == 404
    assert _refresh(client, renewed["refresh_token"]).status_code == 200


def test_no_refresh_after_logout_past_the_sessions_end_or_for_a_disabled_user(
        client, hub_settings, driver) -> None:
    db = Graph(driver, hub_settings.neo4j_database)
    # Logout: immediate, and the refresh token dies with the session.
    user_id = _person(hub_settings, driver)
    tokens = _login(client, user_id)
    assert client.post("/api/v1/auth/logout", headers=_bearer(tokens["access_token"])).status_code == 204
    assert _refresh(client, tokens["refresh_token"]).status_code == 401
    # Past the session's absolute end.
    session_id = graph_sessions.new_session_id()
    token, hashed = new_refresh_token(session_id)
    graph_sessions.create_session(db, user_id=user_id, expires_at=datetime.now(UTC) - timedelta(seconds=1),
                                  client=None, session_id=session_id, refresh_hash=hashed)
    assert _refresh(client, token).status_code == 401
    # A disabled user.
    tokens = _login(client, user_id)
    graph_sessions.set_user_disabled(db, user_id, True)
    assert _refresh(client, tokens["refresh_token"]).status_code == 401
    # Garbage and an unknown session: the same refusal, byte for byte.
    garbage, unknown = _refresh(client, "n'importe quoi"), _refresh(client, token[:-3] + "abc")
    assert garbage.content == unknown.content and garbage.status_code == 401


def test_an_access_token_never_outlives_its_session(strict_hub, driver) -> None:
    client, settings = strict_hub
    user_id = _person(settings, driver)
    db = Graph(driver, settings.neo4j_database)
    session_id = graph_sessions.new_session_id()
    token, hashed = new_refresh_token(session_id)
    ends = (datetime.now(UTC) + timedelta(minutes=3)).replace(microsecond=0)
    graph_sessions.create_session(db, user_id=user_id, expires_at=ends, client=None,
                                  session_id=session_id, refresh_hash=hashed)
    renewed = _refresh(client, token).json()
    assert datetime.fromisoformat(renewed["expires_at"]) <= ends
    assert datetime.fromisoformat(renewed["session_expires_at"]) == ends


def test_the_browser_refreshes_by_its_path_scoped_cookie_with_the_anti_csrf_token(
        client, hub_settings, driver) -> None:
    user_id = _person(hub_settings, driver)
    form = client.get("/connexion")
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed_in = client.post("/connexion", data={"user_id": user_id, "password": PASSWORD,
                                                "csrf_token": csrf}, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text
    cookies = "\n".join(signed_in.headers.get_list("set-cookie"))
    assert "crosshub_refresh=crr_" in cookies and "Path=/api/v1/auth/refresh" in cookies
    refresh_cookie = client.cookies.get("crosshub_refresh")
    session_id = refresh_cookie[4:].split(".", 1)[0]
    # Without the page's anti-CSRF token: refused, nothing rotated.
    assert client.post("/api/v1/auth/refresh").status_code == 403
    assert client.cookies.get("crosshub_refresh") == refresh_cookie
    token = csrf_keys_for(hub_settings.keys_dir).for_session(session_id)
    renewed = client.post("/api/v1/auth/refresh", headers={"X-CSRF-Token": token})
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["access_token"] is None and body["refresh_token"] is None
    assert client.cookies.get("crosshub_refresh") not in (None, refresh_cookie)
    assert client.get(PROTECTED).status_code == 404
    # A page whose access cookie is gone renews through the page hop, then opens.
    client.cookies.delete("crosshub_session")
    hop = client.get("/", follow_redirects=False)
    assert hop.status_code == 303 and hop.headers["location"].startswith("/api/v1/auth/refresh/page")
    back = client.get(hop.headers["location"], follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/"
    assert client.get(PROTECTED).status_code == 404
    client.cookies.clear()
