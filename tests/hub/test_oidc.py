"""Agency sign-in through a real OIDC provider (Keycloak, started once for the test session):
the code flow with PKCE maps to the provider's agency and to the role its table gives; a code or
an ID token of another agency's issuer is refused; state is checked, single use and bound to the
browser; a stolen code is useless without the PKCE verifier; refresh tokens rotate and a reused
one closes the session. Refusals are asserted on the raw bytes of the answer, causes in the
audit trail."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from graph import sessions as graph_sessions
from graph.handle import Graph
from graph.identity import get_user
from hub.app import create_app
from hub.audit import AuditFilters, query
from hub.auth import tokens
from hub.auth.oidc import OidcClient
from hub.settings import Settings
from policies.auth.oidc import OIDC_REFUSED, OidcRefused
from tests.oidc_support import (  # noqa: F401 - the fixture is used by name
    GENDARMERIE_ROLES,
    POLICE_ROLES,
    POLICE_SECRET,
    Keycloak,
    keycloak,
    keycloak_sign_in,
    oidc_settings,
)

PROTECTED = "/api/v1/leads/police:X?justification=test-motif"
STATE_REFUSAL = "La demande de connexion a expiré ou ne vient pas de ce navigateur"


@pytest.fixture(scope="module")
def oidc_hub(keycloak: Keycloak, hub_settings: Settings,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings]]:
    own = oidc_settings(hub_settings, keycloak, tmp_path_factory.mktemp("oidc-hub"))
    own = own.model_copy(update={"refresh_reuse_grace_s": 0})
    with TestClient(create_app(own), follow_redirects=False) as c:
        yield c, own


def _start(client: TestClient, provider: str, suite: str = "/") -> tuple[str, dict[str, str]]:
    """The hub's redirect to the provider and the query it carries."""
    started = client.get(f"/auth/oidc/{provider}/start", params={"suite": suite})
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _callback_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _sign_in(client: TestClient, provider: str, username: str, suite: str = "/") -> httpx.Response:
    location, _ = _start(client, provider, suite)
    return client.get(_callback_path(keycloak_sign_in(location, username)))


def _expected_role(table: list[tuple[str, str]], groups: list[str]) -> str:
    return next(role for value, role in table if value in groups)


def _audit_reasons(settings: Settings, limit: int = 20) -> list[str]:
    return [e.details.get("reason") for e in query(settings.audit_dir, AuditFilters(limit=limit))
            if e.details.get("event") == "login_failure"]


@pytest.mark.parametrize(("provider", "username", "groups", "table"), [
    ("police", "dupont", ["cross-analystes"], POLICE_ROLES),
    ("police", "martin", ["cross-analystes", "cross-coordinateurs"], POLICE_ROLES),
    ("gendarmerie", "durand", ["analystes-gn"], GENDARMERIE_ROLES),
])
def test_code_flow_with_pkce_maps_to_the_providers_agency_and_the_tables_role(
        oidc_hub, driver, provider, username, groups, table) -> None:
    client, settings = oidc_hub
    location, query_ = _start(client, provider, "/graphe")
    assert location.startswith(f"http://127.0.0.1:") and f"/realms/{provider}/" in location
    assert query_["code_challenge_method"] == "S256" and len(query_["code_challenge"]) == 43
    assert query_["state"] and query_["nonce"] and query_["response_type"] == "code"
    done = client.get(_callback_path(keycloak_sign_in(location, username)))
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/graphe"
    raw_cookies = "\n".join(done.headers.get_list("set-cookie"))
    assert "crosshub_refresh=crr_" in raw_cookies and "Path=/api/v1/auth/refresh" in raw_cookies
    assert "HttpOnly" in raw_cookies and "SameSite=strict" in raw_cookies
    access = client.cookies.get("crosshub_session")
    claims = tokens.keys_for(settings.keys_dir).verify(access)
    expected_role = _expected_role(table, groups)
    assert (claims.sub, claims.agency, claims.role) == (f"{provider}:{username}", provider,
                                                        expected_role)
    user = get_user(Graph(driver, settings.neo4j_database), f"{provider}:{username}")
    assert (user.agency, user.role) == (provider, expected_role)
    session = graph_sessions.get_session(Graph(driver, settings.neo4j_database), claims.sid)
    assert session is not None and session.provider == f"oidc:{provider}" and session.active()
    # The session works on the API (an unknown lead is 404, not an unknown caller's 401).
    assert client.get(PROTECTED).status_code == 404
    success = query(settings.audit_dir, AuditFilters(entity_key=f"session:{claims.sid}"))[0]
    assert success.details["event"] == "login_success"
    assert success.details["provider"] == f"oidc:{provider}"
    client.cookies.clear()


def test_a_code_or_an_id_token_of_another_agencys_issuer_is_refused(oidc_hub, keycloak) -> None:
    client, settings = oidc_hub
    gendarmerie_url, _ = _start(client, "gendarmerie")
    _, police = _start(client, "police")  # the pending sign-in now is the police one
    foreign = parse_qs(urlsplit(keycloak_sign_in(gendarmerie_url, "durand")).query)
    answer = client.get("/auth/oidc/police/callback",
                        params={"code": foreign["code"][0], "state": police["state"]})
    assert answer.status_code == 401
    assert "Connexion refusée : l&#39;identité transmise par Police nationale (test)" in answer.text
    assert b"crosshub_session=" not in b"".join(
        v.encode() for v in answer.headers.get_list("set-cookie") if "Max-Age=0" not in v)
    assert _audit_reasons(settings)[0] == "code_exchange_refused"

    # A genuine gendarmerie ID token, carrying the nonce the police sign-in expects, handed to
    # the police provider's verification: refused (not its issuer, not its keys).
    nonce = secrets.token_urlsafe(16)
    id_token = _gendarmerie_id_token(keycloak, nonce)
    providers = client.app.state.identity_providers
    police_client = OidcClient(providers.get("police"), settings.keys_dir)
    with pytest.raises(OidcRefused) as refused:
        police_client.verify_id_token(id_token, nonce=nonce)
    assert refused.value.reason in ("token_key_unknown", "token_issuer")
    assert refused.value.message == OIDC_REFUSED
    # The same token passes its own provider's checks (the refusal is about the issuer).
    ok = OidcClient(providers.get("gendarmerie"), settings.keys_dir).verify_id_token(
        id_token, nonce=nonce)
    assert ok.claims["iss"] == keycloak.issuer("gendarmerie")
    client.cookies.clear()


def _gendarmerie_id_token(server: Keycloak, nonce: str) -> str:
    """An ID token as the gendarmerie realm issues it to its (public) client."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
        b"=").decode()
    redirect = "http://testserver/auth/oidc/gendarmerie/callback"
    authorize = f"{server.issuer('gendarmerie')}/protocol/openid-connect/auth?" + urlencode({
        "response_type": "code", "client_id": "crosshub", "redirect_uri": redirect,
        "scope": "openid", "state": "x" * 20, "nonce": nonce, "code_challenge": challenge,
        "code_challenge_method": "S256"})
    code = parse_qs(urlsplit(keycloak_sign_in(authorize, "durand")).query)["code"][0]
    tokens_ = httpx.post(f"{server.issuer('gendarmerie')}/protocol/openid-connect/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
        "client_id": "crosshub", "code_verifier": verifier}).json()
    return tokens_["id_token"]


def test_state_is_bound_to_the_browser_single_use_and_a_stolen_code_needs_the_verifier(
        oidc_hub, keycloak) -> None:
    client, settings = oidc_hub
    # A wrong state: refused, no session.
    location, _ = _start(client, "police")
    pending = client.cookies.get("crosshub_oidc")
    back = keycloak_sign_in(location, "dupont")
    params = {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}
    bad = client.get("/auth/oidc/police/callback", params={**params, "state": "autre" * 9})
    assert bad.status_code == 401 and STATE_REFUSAL in bad.text
    assert "crosshub_session=ey" not in "".join(bad.headers.get_list("set-cookie"))
    # No pending cookie at all (another browser): refused.
    stranger = client.get("/auth/oidc/police/callback", params=params,
                          cookies={"crosshub_oidc": ""})
    assert stranger.status_code == 401 and STATE_REFUSAL in stranger.text
    # A tampered cookie: refused.
    tampered = client.get("/auth/oidc/police/callback", params=params,
                          cookies={"crosshub_oidc": pending[:-2] + ("AA" if pending[-2:] != "AA" else "BB")})
    assert tampered.status_code == 401 and STATE_REFUSAL in tampered.text
    assert _audit_reasons(settings)[:3] == ["state_missing_or_expired", "state_missing_or_expired",
                                            "state_mismatch"]

    # Good state: signed in once; the same callback replayed with the same cookie is refused.
    location, _ = _start(client, "police")
    pending = client.cookies.get("crosshub_oidc")
    path = _callback_path(keycloak_sign_in(location, "dupont"))
    assert client.get(path).status_code == 303
    client.cookies.clear()
    replay = client.get(path, cookies={"crosshub_oidc": pending})
    assert replay.status_code == 401 and STATE_REFUSAL in replay.text
    assert _audit_reasons(settings)[0] == "state_replayed"

    # A code intercepted on its way back is useless without the verifier (PKCE): the provider
    # refuses to redeem it, even with the client's own secret.
    location, _ = _start(client, "police")
    stolen = parse_qs(urlsplit(keycloak_sign_in(location, "dupont")).query)["code"][0]
    redeemed = httpx.post(f"{keycloak.issuer('police')}/protocol/openid-connect/token", data={
        "grant_type": "authorization_code", "code": stolen,
        "redirect_uri": "http://testserver/auth/oidc/police/callback"},
        auth=("crosshub", POLICE_SECRET))
    assert redeemed.status_code == 400 and "id_token" not in redeemed.text
    client.cookies.clear()


def test_an_unmapped_role_and_a_disabled_account_are_refused(oidc_hub, driver) -> None:
    client, settings = oidc_hub
    refused = _sign_in(client, "police", "sansrole")
    assert refused.status_code == 401 and "n&#39;est pas acceptée par le hub" in refused.text
    assert _audit_reasons(settings)[0] == "role_unmapped"
    client.cookies.clear()
    assert _sign_in(client, "police", "suspendu").status_code == 303
    client.cookies.clear()
    graph_sessions.set_user_disabled(Graph(driver, settings.neo4j_database), "police:suspendu", True)
    again = _sign_in(client, "police", "suspendu")
    assert again.status_code == 401 and "crosshub_session=ey" not in "".join(
        again.headers.get_list("set-cookie"))
    assert _audit_reasons(settings)[0] == "disabled"
    client.cookies.clear()


def test_the_login_page_offers_each_agencys_provider_and_the_list_is_public(oidc_hub) -> None:
    client, _ = oidc_hub
    page = client.get("/connexion")
    assert "Se connecter avec Police nationale (test)" in page.text
    assert "Se connecter avec Gendarmerie nationale (test)" in page.text
    listed = client.get("/api/v1/auth/oidc/providers").json()
    assert [(p["id"], p["agency"]) for p in listed] == [("police", "police"),
                                                       ("gendarmerie", "gendarmerie")]
    unknown = client.get("/auth/oidc/douanes/start")
    assert unknown.status_code == 404 and "pas configuré" in unknown.text
