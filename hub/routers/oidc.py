"""Signing in through an agency's identity provider (OIDC authorization code flow with PKCE):
the list of configured providers, the start (redirect to the provider) and the callback (back
from it: a session like a password sign-in's, in the browser's cookies).

Wiring only: which providers exist and how their claims map to hub terms are policies/auth/oidc.py,
the protocol hub/auth/oidc.py, the account link graph/oidc_accounts.py, sessions graph/sessions.py.

- **Start** (``GET /auth/oidc/{provider}/start?suite=``): fresh ``state``, ``nonce`` and PKCE
  verifier, kept in a signed HttpOnly cookie for ten minutes (``SameSite=Lax``: the provider
  sends the browser back with a top-level navigation from its own site, which a Strict cookie
  would not follow), then a redirect to the provider.
- **Callback** (``GET /auth/oidc/{provider}/callback``): the cookie must be intact, for this
  provider, with the same ``state``; that state is consumed in the graph (single use, across hub
  processes); the code is exchanged with the verifier; the ID token is verified against *this*
  provider (issuer, audience, azp, nonce, expiry, signature by its keys): a token or code of
  another agency's issuer is refused. The agency is the provider's; the role comes from its table.
- Every success and refusal goes to the audit trail (``details.event`` login_success /
  login_failure, rule ``auth-login-oidc``, the cause in ``details.reason``); the person reads a
  French page with one message per kind of refusal, never the cause in detail.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from graph import oidc_accounts
from graph import sessions as graph_sessions
from graph.identity import consume_nonce
from hub.audit.account_events import account_changed
from hub.audit.events import actor_of, authentication
from hub.auth.oidc import OidcClients, pkce_pair, providers_of
from hub.auth.refresh import PENDING_TTL_S, PendingSignIn, open_session, state_signer_for
from hub.contract.errors import ConfigurationError, ReplayDetected
from hub.contract.lead import AGENCY_LABELS_FR
from hub.routers.auth import client_address
from hub.settings import Settings
from hub.web.session import LOGIN_COOKIE, safe_next
from hub.web.signin import set_session_cookies
from policies.audit import SYSTEM_ACTOR, DecisionOutcome
from policies.auth.oidc import (
    IdentityProviderConfig,
    OidcProvider,
    OidcRefused,
    link_key,
)

log = logging.getLogger(__name__)

api_router = APIRouter(prefix="/api/v1/auth/oidc", tags=["authentification"])
web_router = APIRouter(prefix="/auth/oidc", include_in_schema=False)

PENDING_COOKIE = "crosshub_oidc"
PENDING_PATH = "/auth/oidc/"
ProviderPath = Annotated[str, Path(min_length=2, max_length=40, pattern=r"^[a-z][a-z0-9-]+$")]


def _clients(request: Request) -> OidcClients:
    state = request.app.state
    clients = getattr(state, "oidc_clients", None)
    if clients is None:
        clients = state.oidc_clients = OidcClients(state.settings.keys_dir)
    return clients


class ProviderView(BaseModel):
    id: str
    agency: str
    agency_label: str
    label_fr: str
    start_url: str


@api_router.get("/providers", response_model=list[ProviderView],
                summary="Fournisseurs d'identité des services",
                description="Les fournisseurs OIDC configurés (un par service) et l'adresse où "
                            "commencer la connexion. Public : aucune donnée personnelle.")
async def list_providers(request: Request) -> list[ProviderView]:
    return [ProviderView(id=p.id, agency=p.agency.value,
                         agency_label=AGENCY_LABELS_FR.get(p.agency, p.agency.value),
                         label_fr=p.label_fr, start_url=f"/auth/oidc/{p.id}/start")
            for p in providers_of(request).providers]


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _redirect_uri(request: Request, provider: str) -> str:
    # From the request: the provider's list of registered redirect URIs is what pins it.
    return str(request.url_for("oidc_callback", provider=provider))


def _refusal(request: Request, config: IdentityProviderConfig | None, reason: str) -> Response:
    from hub.web.views import _login_page

    label = config.label_fr if config else "le fournisseur d'identité"
    if reason.startswith("state_"):
        message = ("La demande de connexion a expiré ou ne vient pas de ce navigateur : "
                   "recommencez la connexion.")
    elif reason.startswith("provider_error"):
        message = f"La connexion a été annulée ou refusée par {label}."
    elif reason in ("discovery_failed", "token_endpoint_unreachable"):
        message = f"{label} ne répond pas : réessayez dans quelques instants."
    elif reason == "unknown_provider":
        message = "Ce fournisseur d'identité n'est pas configuré sur ce hub."
    else:
        message = (f"Connexion refusée : l'identité transmise par {label} n'est pas acceptée "
                   "par le hub. Contactez l'administrateur de la plateforme.")
    response = _login_page(request, status=404 if reason == "unknown_provider" else 401,
                           error=message)
    response.delete_cookie(PENDING_COOKIE, path=PENDING_PATH)
    return response


async def _audit_failure(request: Request, provider: str, reason: str,
                         user_id: str = "inconnu") -> None:
    state = request.app.state
    await run_in_threadpool(state.audit.append, authentication(
        client_address(request, state.settings), SYSTEM_ACTOR, event="login_failure",
        outcome=DecisionOutcome.DENY, rule_id="auth-login-oidc", user_id=user_id,
        details={"provider": f"oidc:{provider}", "reason": reason}))


@web_router.get("/{provider}/start", name="oidc_start")
async def start(request: Request, provider: ProviderPath,
                suite: Annotated[str, Query(max_length=2000)] = "/") -> Response:
    config = providers_of(request).get(provider)
    if config is None:
        return _refusal(request, None, "unknown_provider")
    verifier, challenge = pkce_pair()
    pending = PendingSignIn(provider=provider, state=secrets.token_urlsafe(32),
                            nonce=secrets.token_urlsafe(32), verifier=verifier,
                            suite=safe_next(suite), exp=int(time.time()) + PENDING_TTL_S)
    client = _clients(request).for_provider(config)
    try:
        url = await run_in_threadpool(
            lambda: client.authorization_url(redirect_uri=_redirect_uri(request, provider),
                                             state=pending.state, nonce=pending.nonce,
                                             challenge=challenge))
    except OidcRefused as exc:
        await _audit_failure(request, provider, exc.reason)
        return _refusal(request, config, exc.reason)
    response = RedirectResponse(url, status_code=303)
    settings = request.app.state.settings
    response.set_cookie(PENDING_COOKIE, state_signer_for(settings.keys_dir).seal(pending),
                        max_age=PENDING_TTL_S, path=PENDING_PATH, httponly=True, samesite="lax",
                        secure=_secure(request))
    return response


@web_router.get("/{provider}/callback", name="oidc_callback")
async def callback(request: Request, provider: ProviderPath,
                   code: Annotated[str | None, Query(max_length=4000)] = None,
                   state: Annotated[str | None, Query(max_length=200)] = None,
                   error: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    config = providers_of(request).get(provider)
    if config is None:
        return _refusal(request, None, "unknown_provider")
    try:
        return await _complete(request, config, code=code, state=state, error=error)
    except OidcRefused as exc:
        await _audit_failure(request, provider, exc.reason, user_id=exc.user_id or "inconnu")
        return _refusal(request, config, exc.reason)
    except ConfigurationError:
        log.exception("OIDC provider %s misconfigured", provider)
        await _audit_failure(request, provider, "configuration")
        return _refusal(request, config, "configuration")


async def _complete(request: Request, config: IdentityProviderConfig, *, code: str | None,
                    state: str | None, error: str | None) -> Response:
    app = request.app.state
    settings: Settings = app.settings
    graph = app.graph
    pending = state_signer_for(settings.keys_dir).open(request.cookies.get(PENDING_COOKIE))
    if pending is None:
        raise OidcRefused("state_missing_or_expired")
    if pending.provider != config.id:
        raise OidcRefused("state_other_provider")
    if not state or not secrets.compare_digest(state.encode(), pending.state.encode()):
        raise OidcRefused("state_mismatch")
    try:  # single use, whatever follows
        await run_in_threadpool(consume_nonce, graph,
                                "oidc-state:" + hashlib.sha256(state.encode()).hexdigest(),
                                f"oidc:{config.id}", timedelta(seconds=2 * PENDING_TTL_S))
    except ReplayDetected:
        raise OidcRefused("state_replayed") from None
    if error:
        raise OidcRefused(f"provider_error:{error[:60]}")
    if not code:
        raise OidcRefused("code_missing")
    client = _clients(request).for_provider(config)
    redirect_uri = _redirect_uri(request, config.id)
    id_token = await run_in_threadpool(lambda: client.exchange_code(
        code=code, verifier=pending.verifier, redirect_uri=redirect_uri))
    verified = await run_in_threadpool(lambda: client.verify_id_token(id_token,
                                                                      nonce=pending.nonce))
    mapper = OidcProvider(config, lambda link, uid: oidc_accounts.find_accounts(graph, link, uid))
    who = await run_in_threadpool(mapper.authenticate, verified)
    subject = str(verified.claims["sub"])
    client_ip = client_address(request, settings)

    def role_changed(change) -> None:  # noqa: ANN001 — the provider moved the person (ADR 0029)
        app.audit.append_many(account_changed(client_ip, SYSTEM_ACTOR, change,
                                              {"provider": who.provider, "issuer": config.issuer}))

    try:
        principal = await run_in_threadpool(lambda: oidc_accounts.sign_in_account(
            graph, link=link_key(config.issuer, subject), issuer=config.issuer, subject=subject,
            user_id=who.user_id, name=who.name, agency=who.agency, role=who.role,
            on_role_change=role_changed))
    except oidc_accounts.AccountConflict:
        raise OidcRefused("account_id_taken", who.user_id) from None
    if principal.disabled:
        raise OidcRefused("disabled", principal.user_id)
    now = datetime.now(UTC).replace(microsecond=0)
    opened = open_session(settings, session_id=graph_sessions.new_session_id(),
                          user_id=principal.user_id, agency=principal.agency,
                          role=principal.role, now=now)
    # Logged before the session exists: nothing is issued that the trail does not show.
    await run_in_threadpool(app.audit.append, authentication(
        client_ip, actor_of(principal), event="login_success", outcome=DecisionOutcome.ALLOW,
        rule_id="auth-login-oidc", user_id=principal.user_id, session_id=opened.session_id,
        details={"provider": who.provider, "issuer": config.issuer, "role": principal.role,
                 "jti": opened.access.claims.jti}))
    await run_in_threadpool(lambda: graph_sessions.create_session(
        graph, user_id=principal.user_id, expires_at=opened.session_expires_at, client=client_ip,
        provider=who.provider, session_id=opened.session_id, refresh_hash=opened.refresh_hash))
    response = RedirectResponse(safe_next(pending.suite), status_code=303)
    set_session_cookies(response, secure=_secure(request), access_token=opened.access.token,
                        access_expires_at=opened.access.expires_at,
                        refresh_token=opened.refresh_token,
                        session_expires_at=opened.session_expires_at, now=now)
    response.delete_cookie(PENDING_COOKIE, path=PENDING_PATH)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response
