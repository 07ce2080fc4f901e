"""People's sessions through the real app and graph: login, the token on a protected endpoint,
uniform refusals, throttling (per account and client, per account, per client; expiry of the
records), logout, revocation, expiry and foreign keys, the audit trail — and a connector's signing
key belonging to that connector alone."""

from __future__ import annotations

import stat
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph import identity
from graph import sessions as graph_sessions
from graph.handle import Graph
from hub.app import create_app
from hub.audit import AuditFilters, query
from hub.audit.layout import list_segments
from hub.auth import throttle, tokens
from hub.routers import auth as auth_router
from hub.settings import Settings
from policies.auth import passwords
from tests.factories import lead

PASSWORD = "cheval correct agrafe"
PROTECTED = "/api/v1/leads/police:X?justification=test-motif"
UNIFORM_401 = {"code": "invalid_credentials", "message": "identifiant ou mot de passe incorrect"}
REVOKED_401 = "jeton inconnu, expiré ou révoqué"


@pytest.fixture
def make_person(driver, hub_settings: Settings):
    """A person with a password (default argon2id parameters, as in production)."""

    def make(role: str = "analyst", agency: str = "police", password: str = PASSWORD,
             password_hash: str | None = None) -> str:
        db = hub_settings.neo4j_database
        user = identity.upsert_user(Graph(driver, db), agency=agency, role=role,
                                    name=f"{role}-{uuid.uuid4().hex[:8]}")
        graph_sessions.set_password_hash(Graph(driver, db), user.user_id,
                                         password_hash or passwords.hash_password(password))
        return user.user_id

    return make


def login(client: TestClient, user_id: str, password: str = PASSWORD):
    return client.post("/api/v1/auth/login", json={"user_id": user_id, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_gives_a_short_lived_token_that_works_on_a_protected_endpoint(
        client, make_person, hub_settings, driver) -> None:
    user_id = make_person()
    assert client.get(PROTECTED).status_code == 401
    before = datetime.now(UTC)
    resp = login(client, user_id)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer" and set(body) == {
        "access_token", "token_type", "expires_at", "session_id", "refresh_token",
        "session_expires_at"}
    expires = datetime.fromisoformat(body["expires_at"])
    ttl = timedelta(minutes=hub_settings.access_token_ttl_min)
    assert before + ttl - timedelta(seconds=2) <= expires <= datetime.now(UTC) + ttl
    # Authenticated: the lead is unknown (404), not the caller (401).
    got = client.get(PROTECTED, headers=bearer(body["access_token"]))
    assert got.status_code == 404, got.text
    session = graph_sessions.get_session(Graph(driver, hub_settings.neo4j_database), body["session_id"])
    assert session is not None and session.user_id == user_id and session.active()
    # The session lasts session_max_hours (renewed by refresh tokens, ADR 0004 amended).
    assert session.expires_at == datetime.fromisoformat(body["session_expires_at"])
    assert session.expires_at - expires == timedelta(hours=hub_settings.session_max_hours) - ttl
    key = hub_settings.keys_dir / tokens.KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    claims = tokens.keys_for(hub_settings.keys_dir).verify(body["access_token"])
    assert (claims.sub, claims.sid, claims.role) == (user_id, body["session_id"], "analyst")


def test_wrong_password_unknown_user_and_non_interactive_accounts_get_the_same_401(
        client, make_person, make_user, hub_settings, driver) -> None:
    user_id = make_person()
    no_password = identity.upsert_user(Graph(driver, hub_settings.neo4j_database), agency="police",
                                       role="analyst", name=f"nopw-{uuid.uuid4().hex[:6]}").user_id
    disabled = make_person()
    graph_sessions.set_user_disabled(Graph(driver, hub_settings.neo4j_database), disabled, True)
    connector = make_person(role="connector")
    answers = [login(client, user_id, "mauvais mot de passe !"),
               login(client, f"police:inconnu-{uuid.uuid4().hex[:6]}"),
               login(client, no_password), login(client, disabled), login(client, connector)]
    for resp in answers:
        assert resp.status_code == 401
        assert resp.json() == UNIFORM_401
        assert resp.headers["www-authenticate"] == "Bearer"
    assert login(client, user_id).status_code == 200  # the right password still works


def test_login_body_is_validated_naming_the_field(client) -> None:
    resp = client.post("/api/v1/auth/login", json={"user_id": "police:x"})
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["details"]] == ["body.password"]
    extra = client.post("/api/v1/auth/login",
                        json={"user_id": "police:x", "password": "p", "role": "administrator"})
    assert extra.status_code == 422 and "body.role" in {d["field"] for d in extra.json()["details"]}
    # The password is never echoed back.
    long = client.post("/api/v1/auth/login", json={"user_id": "police:x", "password": "s" * 2000})
    assert long.status_code == 422 and "s" * 50 not in long.text


def test_outdated_hash_is_upgraded_at_login(client, make_person, hub_settings, driver) -> None:
    weak = passwords.hash_password(PASSWORD, passwords.HashParameters(time_cost=1, memory_cost_kib=1024))
    user_id = make_person(password_hash=weak)
    assert login(client, user_id).status_code == 200
    stored = graph_sessions.get_credentials(Graph(driver, hub_settings.neo4j_database), user_id)
    assert stored.password_hash != weak and not passwords.needs_rehash(stored.password_hash)
    assert login(client, user_id).status_code == 200


def test_logout_revokes_the_token_at_once(client, make_person, make_user) -> None:
    user_id = make_person()
    token = login(client, user_id).json()["access_token"]
    other = login(client, user_id).json()["access_token"]  # a second session stays open
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    after = client.get(PROTECTED, headers=bearer(token))
    assert after.status_code == 401 and after.json()["message"] == REVOKED_401
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 401
    assert client.get(PROTECTED, headers=bearer(other)).status_code == 404
    # An API token has no session to close: told so, not silently accepted.
    api = client.post("/api/v1/auth/logout", headers=make_user())
    assert api.status_code == 422 and api.json()["details"][0]["field"] == "Authorization"


def test_a_session_is_revoked_by_its_owner_or_an_administrator_only(client, make_person) -> None:
    alice = make_person()
    first, second = (login(client, alice).json() for _ in range(2))
    bob = login(client, make_person()).json()
    admin = login(client, make_person(role="administrator")).json()

    def revoke(session_id: str, as_: dict):
        return client.post(f"/api/v1/auth/sessions/{session_id}/revoke",
                           headers=bearer(as_["access_token"]))

    denied = revoke(first["session_id"], bob)
    assert denied.status_code == 404 and "session inconnue" in denied.json()["message"]
    assert client.get(PROTECTED, headers=bearer(first["access_token"])).status_code == 404

    own = revoke(second["session_id"], first)
    assert own.status_code == 200 and own.json()["revoked_at"] is not None
    assert own.json()["user_id"] == alice
    assert client.get(PROTECTED, headers=bearer(second["access_token"])).status_code == 401
    assert client.get(PROTECTED, headers=bearer(first["access_token"])).status_code == 404

    by_admin = revoke(first["session_id"], admin)
    assert by_admin.status_code == 200
    assert client.get(PROTECTED, headers=bearer(first["access_token"])).status_code == 401
    assert revoke("sans-session-x", admin).status_code == 404


def test_admin_revoke_all_cuts_sessions_and_api_tokens(client, make_person, hub_settings, driver) -> None:
    user_id = make_person()
    db = hub_settings.neo4j_database
    api_tokens = [identity.issue_token(Graph(driver, db), user_id).token for _ in range(2)]
    sessions = [login(client, user_id).json()["access_token"] for _ in range(2)]
    for token in api_tokens + sessions:
        assert client.get(PROTECTED, headers=bearer(token)).status_code == 404
    analyst = login(client, make_person()).json()["access_token"]
    refused = client.post(f"/api/v1/auth/users/{user_id}/revoke-all", headers=bearer(analyst))
    assert refused.status_code == 403
    admin = login(client, make_person(role="administrator")).json()["access_token"]
    resp = client.post(f"/api/v1/auth/users/{user_id}/revoke-all", headers=bearer(admin))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"user_id": user_id, "sessions_revoked": 2, "api_tokens_revoked": 2}
    for token in api_tokens + sessions:
        after = client.get(PROTECTED, headers=bearer(token))
        assert after.status_code == 401 and after.json()["message"] == REVOKED_401
    assert login(client, user_id).status_code == 200  # the account itself stays active
    unknown = client.post("/api/v1/auth/users/police:personne/revoke-all", headers=bearer(admin))
    assert unknown.status_code == 404 and "inconnu" in unknown.json()["message"]


def test_expired_token_is_refused_though_its_session_is_open(client, make_person, hub_settings) -> None:
    user_id = make_person()
    session_id = login(client, user_id).json()["session_id"]
    keys = tokens.keys_for(hub_settings.keys_dir)
    args = {"user_id": user_id, "agency": "police", "role": "analyst", "session_id": session_id,
            "ttl": timedelta(minutes=5)}
    fresh = keys.issue(**args)
    assert client.get(PROTECTED, headers=bearer(fresh.token)).status_code == 404  # the control
    expired = keys.issue(**args, now=datetime.now(UTC) - timedelta(minutes=6))
    resp = client.get(PROTECTED, headers=bearer(expired.token))
    assert resp.status_code == 401 and resp.json()["message"] == REVOKED_401


def test_token_signed_by_another_key_or_for_another_user_is_refused(
        client, make_person, hub_settings, tmp_path: Path) -> None:
    user_id = make_person()
    session_id = login(client, user_id).json()["session_id"]
    args = {"user_id": user_id, "agency": "police", "role": "analyst", "session_id": session_id,
            "ttl": timedelta(minutes=5)}
    foreign = tokens.load_or_create_keys(tmp_path / "elsewhere").issue(**args)
    assert client.get(PROTECTED, headers=bearer(foreign.token)).status_code == 401
    # The hub's own key, but someone else's name on this session: refused too.
    hijack = tokens.keys_for(hub_settings.keys_dir).issue(**{**args, "user_id": make_person()})
    assert client.get(PROTECTED, headers=bearer(hijack.token)).status_code == 401
    assert client.get(PROTECTED, headers=bearer("pas-un-jeton")).status_code == 401


def test_disabling_the_user_refuses_their_token(client, make_person, hub_settings, driver) -> None:
    user_id = make_person()
    token = login(client, user_id).json()["access_token"]
    graph_sessions.set_user_disabled(Graph(driver, hub_settings.neo4j_database), user_id, True)
    assert client.get(PROTECTED, headers=bearer(token)).status_code == 401


def test_logins_logouts_and_revocations_are_in_the_audit_trail(client, make_person, hub_settings) -> None:
    user_id = make_person()
    assert login(client, user_id, "mauvais mot de passe !").status_code == 401
    good = login(client, user_id).json()
    client.post("/api/v1/auth/logout", headers=bearer(good["access_token"]))
    entries = query(hub_settings.audit_dir, AuditFilters(entity_key=f"user:{user_id}"))
    events = [(e.details["event"], e.decision.outcome.value) for e in reversed(entries)]
    assert events == [("login_failure", "deny"), ("login_success", "allow"), ("logout", "allow")]
    failure, success, logout = reversed(entries)
    assert failure.details["reason"] == "wrong_password" and failure.actor.user_id == user_id
    assert f"session:{good['session_id']}" in success.entity_keys
    assert logout.entity_keys == [f"user:{user_id}", f"session:{good['session_id']}"]
    assert all(not e.personal_data and e.client_address for e in entries)
    assert all(PASSWORD.encode() not in seg.entries.read_bytes() for seg in list_segments(hub_settings.audit_dir))


# --- throttling, on an app of its own with a short lock ---------------------------------------------


@pytest.fixture(scope="module")
def throttled(settings: Settings, tmp_path_factory) -> Iterator[tuple[TestClient, Settings]]:
    own = settings.model_copy(update={
        "data_dir": tmp_path_factory.mktemp("throttled"),  # its own audit trail (exclusive lock)
        "login_max_failures": 3, "login_window_s": 60, "login_lock_s": 1, "login_lock_max_s": 60,
    })
    with TestClient(create_app(own)) as c:
        yield c, own


def test_repeated_failures_lock_with_retry_after_then_the_lock_expires(throttled, make_person,
                                                                       driver) -> None:
    client, own = throttled
    user_id = make_person()
    for _ in range(3):
        assert login(client, user_id, "mauvais mot de passe !").status_code == 401
    locked = login(client, user_id)  # even the right password, while locked
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "1"
    assert locked.json()["code"] == "too_many_requests" and "réessayer" in locked.json()["message"]
    time.sleep(1.1)
    assert login(client, user_id).status_code == 200
    keys = throttle.keyring_for(own.keys_dir).keys(user_id, "testclient")
    assert graph_sessions.get_login_attempts(Graph(driver, own.neo4j_database), keys.pair).empty
    # Lockouts grow: three more failures now lock for 1 s again (the success forgave), and a
    # fresh series without success locks for 2 s the time after.
    for _ in range(3):
        login(client, user_id, "mauvais mot de passe !")
    assert login(client, user_id).headers["retry-after"] == "1"
    time.sleep(1.1)
    for _ in range(3):
        assert login(client, user_id, "mauvais mot de passe !").status_code == 401
    second = login(client, user_id)
    assert second.status_code == 429 and second.headers["retry-after"] == "2"
    entries = query(own.audit_dir, AuditFilters(entity_key=f"user:{user_id}", limit=3))
    assert entries[0].details["event"] == "login_throttled"


def test_unknown_user_ids_are_throttled_exactly_like_real_ones(throttled) -> None:
    client, _ = throttled
    ghost = f"police:fantome-{uuid.uuid4().hex[:6]}"
    statuses = [login(client, ghost).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_concurrent_failures_are_all_counted(driver, settings: Settings) -> None:
    """The graph's read-modify-write is atomic: no failure is lost under contention, even with
    several records locked per attempt."""
    from concurrent.futures import ThreadPoolExecutor

    run = uuid.uuid4().hex[:6]
    keys = [f"test:concurrent-{run}-a", f"test:concurrent-{run}-b"]
    db = settings.neo4j_database

    def bump(stored: dict[str, graph_sessions.LoginAttempts]):
        now = datetime.now(UTC)
        return ({k: v.model_copy(update={"failures": v.failures + 1, "last_failure_at": now})
                 for k, v in stored.items()}, stored[keys[0]].failures)

    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(
            lambda i: graph_sessions.update_login_attempts(Graph(driver, db), keys[::1 - 2 * (i % 2)], bump),
            range(40)))
    assert sorted(seen) == list(range(40))
    assert [graph_sessions.get_login_attempts(Graph(driver, db), k).failures for k in keys] == [40, 40]
    graph_sessions.update_login_attempts(  # emptied records are deleted, not kept
        Graph(driver, db), keys, lambda stored: ({k: graph_sessions.LoginAttempts(throttle_key=k)
                                           for k in stored}, None))
    assert _attempt_nodes(driver, keys) == 0


def _attempt_nodes(driver, keys: list[str]) -> int:
    return driver.execute_query(
        "MATCH (a:LoginAttempts) WHERE a.throttle_key IN $keys RETURN count(a) AS n",
        keys=keys).records[0]["n"]


# --- throttling per account and client, per account, per client, on a clock the test moves ---------


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="module")
def tuned_app(settings: Settings, tmp_path_factory):
    """3 failures per (account, client) lock that client for 60 s; 5 failures on an account across
    clients lock it for 120 s (clients that failed on it recently only); 4 distinct accounts failed
    from one client lock that client everywhere."""
    own = settings.model_copy(update={
        "data_dir": tmp_path_factory.mktemp("tuned"),
        "login_max_failures": 3, "login_window_s": 600, "login_lock_s": 60, "login_lock_max_s": 600,
        "login_account_max_failures": 5, "login_account_lock_s": 120,
        "login_spray_max_accounts": 4,
    })
    app = create_app(own)
    with TestClient(app):
        yield app, own


@pytest.fixture
def tuned(tuned_app):
    """(a client factory by address, the settings, the clock): each test on a fresh clock."""
    app, own = tuned_app
    clock = Clock()
    app.dependency_overrides[auth_router.login_clock] = lambda: clock

    def from_address(host: str) -> TestClient:
        return TestClient(app, client=(host, 50000))

    yield from_address, own, clock
    app.dependency_overrides.pop(auth_router.login_clock, None)


def _address() -> str:
    """A fresh client address per call, so tests never share a client's records."""
    b = uuid.uuid4().bytes
    return f"10.{b[0]}.{b[1]}.{b[2] or 1}"


WRONG = "mauvais mot de passe !"


def test_a_strangers_failures_from_elsewhere_do_not_stop_the_owner(tuned, make_person) -> None:
    from_address, own, clock = tuned
    owner = make_person()
    stranger = from_address(_address())
    assert [login(stranger, owner, WRONG).status_code for _ in range(4)] == [401, 401, 401, 429]
    # The stranger's lock is his alone: the owner at their own desk logs in.
    assert login(from_address(_address()), owner).status_code == 200
    # Strangers on more addresses push the account past its account-wide threshold (5)...
    for _ in range(3):
        login(from_address(_address()), owner, WRONG)
    half_tried = from_address(_address())
    assert login(half_tried, owner, WRONG).status_code == 401  # failed once, not pair-locked
    refused = login(half_tried, owner)  # even the right password, from a recently failing client
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) <= own.login_account_lock_s
    # ...yet the account lock never reaches a client that has not failed on it.
    assert login(from_address(_address()), owner).status_code == 200


def test_an_owner_who_mistyped_waits_at_most_the_bounded_delay(tuned, make_person) -> None:
    from_address, own, clock = tuned
    owner = make_person()
    desk = from_address(_address())
    assert login(desk, owner, WRONG).status_code == 401  # the owner's own typo
    for _ in range(5):  # strangers, one address each, lock the account
        login(from_address(_address()), owner, WRONG)
    refused = login(desk, owner)
    assert refused.status_code == 429
    wait = int(refused.headers["retry-after"])
    assert 0 < wait <= own.login_account_lock_s
    # Strangers keep re-locking the account; the owner's wait still ends with their own failure's
    # window, whatever the strangers do.
    clock.advance(seconds=own.login_account_lock_s - 1)
    for _ in range(5):
        login(from_address(_address()), owner, WRONG)
    assert login(desk, owner).status_code == 429
    clock.advance(seconds=own.login_window_s)
    for _ in range(5):
        login(from_address(_address()), owner, WRONG)
    assert login(desk, owner).status_code == 200


def test_spraying_many_accounts_from_one_client_gets_429(tuned, make_person) -> None:
    from_address, own, _ = tuned
    sprayer = from_address(_address())
    accounts = [make_person() for _ in range(2)] + [f"police:inconnu-{uuid.uuid4().hex[:8]}"
                                                    for _ in range(2)]
    assert [login(sprayer, a, WRONG).status_code for a in accounts] == [401] * 4
    victim = make_person()
    blocked = login(sprayer, victim, WRONG)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) == own.login_lock_s
    assert login(sprayer, victim).status_code == 429  # blocked for every account
    assert login(from_address(_address()), victim).status_code == 200  # others are not


def test_the_429_is_the_same_for_a_known_and_an_unknown_id(tuned, make_person) -> None:
    from_address, _, clock = tuned
    answers = []
    for user_id in (make_person(), f"police:inconnu-{uuid.uuid4().hex[:8]}"):
        client = from_address(_address())
        assert [login(client, user_id, WRONG).status_code for _ in range(3)] == [401] * 3
        answers.append(login(client, user_id))
    known, unknown = answers
    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()
    assert known.headers["retry-after"] == unknown.headers["retry-after"]
    assert set(known.json()) == {"code", "message", "details"}
    assert known.json()["code"] == "too_many_requests" and "réessayer" in known.json()["message"]


def test_attempt_records_expire_and_an_unknown_id_leaves_no_node(tuned, driver) -> None:
    from_address, own, clock = tuned
    ghost = f"police:fantome-{uuid.uuid4().hex[:8]}"
    address = _address()
    keys = throttle.keyring_for(own.keys_dir).keys(ghost, address).all()
    db = own.neo4j_database
    assert login(from_address(address), ghost, WRONG).status_code == 401
    assert _attempt_nodes(driver, keys) == 3
    stored = driver.execute_query("MATCH (a:LoginAttempts) WHERE a.throttle_key IN $keys "
                                  "RETURN a {.*} AS a", keys=keys).records
    assert ghost not in str([r["a"] for r in stored]) and address not in str([r["a"] for r in stored])
    # Not yet expired: the sweep keeps them.
    graph_sessions.purge_login_attempts(Graph(driver, db), clock.now + timedelta(seconds=1))
    assert _attempt_nodes(driver, keys) == 3
    # Past the window (no lock was ever set), they hold nothing against anyone: swept.
    graph_sessions.purge_login_attempts(Graph(driver, db),
                                        clock.now + timedelta(seconds=own.login_window_s + 1))
    assert _attempt_nodes(driver, keys) == 0
    # A locked id is kept as long as its lockout count matters (a day), then swept too.
    for _ in range(3):
        login(from_address(address), ghost, WRONG)
    assert _attempt_nodes(driver, keys) == 3
    graph_sessions.purge_login_attempts(Graph(driver, db), clock.now + timedelta(hours=23))
    pair = throttle.keyring_for(own.keys_dir).keys(ghost, address).pair
    assert _attempt_nodes(driver, keys) == _attempt_nodes(driver, [pair]) == 1  # only it locked
    graph_sessions.purge_login_attempts(Graph(driver, db), clock.now + timedelta(hours=24, seconds=1))
    assert _attempt_nodes(driver, keys) == 0


def test_client_address_trusts_x_forwarded_for_only_from_a_listed_proxy(settings) -> None:
    from starlette.requests import Request

    def request(peer: str, xff: str | None) -> Request:
        headers = [(b"x-forwarded-for", xff.encode())] if xff else []
        return Request({"type": "http", "method": "POST", "path": "/", "headers": headers,
                        "client": (peer, 1234)})

    plain = settings.model_copy(update={"trusted_proxies": ()})
    proxied = settings.model_copy(update={"trusted_proxies": ("10.0.0.0/24",)})
    assert auth_router.client_address(request("10.0.0.5", "203.0.113.9"), plain) == "10.0.0.5"
    assert auth_router.client_address(request("10.0.0.5", "203.0.113.9"), proxied) == "203.0.113.9"
    # Hops left of the first untrusted one are the client's own claims: ignored.
    assert auth_router.client_address(request("10.0.0.5", "1.2.3.4, 203.0.113.9, 10.0.0.7"),
                                      proxied) == "203.0.113.9"
    # Someone who is not a listed proxy cannot choose their address by header.
    assert auth_router.client_address(request("198.51.100.1", "203.0.113.9"),
                                      proxied) == "198.51.100.1"
    assert auth_router.client_address(request("10.0.0.5", None), proxied) == "10.0.0.5"


# --- a signing key belongs to one connector ----------------------------------------------------------


def test_a_connector_may_not_sign_with_another_connectors_key(make_connector) -> None:
    from tests.hub.conftest import ConnectorClient

    first, second = make_connector("police"), make_connector("police")
    assert first.push([lead()]).status_code == 200  # the control: its own key
    borrowed = ConnectorClient(client=first.client, token=first.token, key_path=second.key_path,
                               agency=first.agency, name=first.name)
    resp = borrowed.push([lead()])
    assert resp.status_code == 403, resp.text
    assert resp.json()["code"] == "forbidden"
    assert "appartient à un autre connecteur" in resp.json()["message"]
