"""Renewing a session without typing a password again: ``POST /api/v1/auth/refresh`` exchanges a
refresh token for a new access token and the next refresh token (hub/auth/refresh.py), for API
clients (token in the JSON body, tokens in the answer) and for the web application (token in its
HttpOnly cookie scoped to this path, new cookies in the answer, no token in the body; the page's
anti-CSRF token required, as for any mutation by cookie). ``GET /api/v1/auth/refresh/page`` is the
same renewal for a page navigation (the browser sends the cookie only under this path), then a
redirect to the page, or to the sign-in page when the session cannot be renewed.

Role and agency are read from the graph at each renewal, never from the old token. Every renewal,
refusal and detected reuse is appended to the audit trail (``details.event``: session_refreshed,
refresh_refused, refresh_reuse — the last also revokes the session).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from urllib.parse import urlencode

from graph import sessions as graph_sessions
from hub.audit.events import actor_of, authentication
from hub.auth.refresh import access_ttl, new_refresh_token, parse_refresh_token
from hub.auth.tokens import keys_for
from hub.contract.errors import CsrfRefused, NotAuthenticated
from hub.deps import AuditDep, GraphDep, SettingsDep
from hub.routers.auth import client_address
from hub.web.session import CSRF_HEADER, csrf_keys_for, safe_next
from hub.web.signin import (
    REFRESH_COOKIE,
    clear_session_cookies,
    set_session_cookies,
)
from policies.audit import SYSTEM_ACTOR, DecisionOutcome

router = APIRouter(prefix="/api/v1/auth", tags=["authentification"])

REFUSED = "jeton de renouvellement invalide, expiré ou révoqué : se reconnecter"


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=300,
                               description="Le jeton de renouvellement reçu à la connexion ou au "
                                           "dernier renouvellement (usage unique)")


class RefreshResponse(BaseModel):
    access_token: str | None = Field(description="Absent quand le navigateur le reçoit en cookie")
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    session_id: str
    refresh_token: str | None = Field(description="Le suivant, à usage unique ; absent en cookie")
    session_expires_at: datetime


class _Renewed(BaseModel):
    access_token: str
    expires_at: datetime
    session_id: str
    refresh_token: str
    session_expires_at: datetime


async def _renew(request: Request, graph, settings, audit, token: str | None,
                 *, by_cookie: bool, channel: str | None = None) -> _Renewed:
    now = datetime.now(UTC).replace(microsecond=0)
    client = client_address(request, settings)
    parsed = parse_refresh_token(token)

    async def record(event: str, outcome: DecisionOutcome, user_id: str, session_id: str | None,
                     principal=None, **details) -> None:
        await run_in_threadpool(audit.append, authentication(
            client, actor_of(principal) if principal else SYSTEM_ACTOR, event=event,
            outcome=outcome, rule_id="auth-refresh", user_id=user_id, session_id=session_id,
            details={"channel": channel or ("cookie" if by_cookie else "api"), **details}))

    if parsed is None:
        await record("refresh_refused", DecisionOutcome.DENY, "inconnu", None, reason="malformed")
        raise NotAuthenticated(REFUSED)
    session_id, presented = parsed
    if by_cookie:  # a mutation by cookie: the page's own origin and anti-CSRF token
        origin = request.headers.get("origin")
        if (origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}") or \
                not csrf_keys_for(settings.keys_dir).session_token_ok(
                    session_id, request.headers.get(CSRF_HEADER)):
            raise CsrfRefused("jeton anti-CSRF manquant ou invalide : recharger la page et "
                              "recommencer",
                              details=[{"field": CSRF_HEADER, "reason": "jeton de la session attendu"}])
    next_token, next_hash = new_refresh_token(session_id)
    outcome = await run_in_threadpool(
        graph_sessions.rotate_refresh, graph, session_id, presented, next_hash, now=now,
        grace=timedelta(seconds=settings.refresh_reuse_grace_s))
    user_id = outcome.session.user_id if outcome.session else "inconnu"
    if outcome.kind == "reused":
        await record("refresh_reuse", DecisionOutcome.DENY, user_id, session_id,
                     reason="refresh_token_reused", session_revoked=True)
        raise NotAuthenticated(REFUSED)
    if outcome.kind != "rotated":
        await record("refresh_refused", DecisionOutcome.DENY, user_id,
                     session_id if outcome.session else None, reason=outcome.kind)
        raise NotAuthenticated(REFUSED)
    who, session = outcome.principal, outcome.session
    assert who is not None and session is not None
    issued = keys_for(settings.keys_dir).issue(
        user_id=who.user_id, agency=who.agency, role=who.role, session_id=session_id,
        ttl=access_ttl(settings, now, session.expires_at), now=now)
    await record("session_refreshed", DecisionOutcome.ALLOW, who.user_id, session_id, who,
                 jti=issued.claims.jti, refreshes=session.refreshes)
    return _Renewed(access_token=issued.token, expires_at=issued.expires_at,
                    session_id=session_id, refresh_token=next_token,
                    session_expires_at=session.expires_at)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.post(
    "/refresh", response_model=RefreshResponse, summary="Renouveler la session",
    description=(
        "Échange un jeton de renouvellement (corps JSON `refresh_token`, ou cookie de "
        "l'application web avec l'en-tête `X-CSRF-Token`) contre un nouveau jeton d'accès et le "
        "jeton de renouvellement suivant. Chaque jeton ne sert qu'une fois : en présenter un déjà "
        "utilisé ferme toute la session (vol présumé). Jamais au-delà de la durée maximale de la "
        "session."),
    responses={401: {"description": "Jeton invalide, expiré, révoqué ou déjà utilisé"},
               403: {"description": "Navigateur : jeton anti-CSRF de la page manquant ou invalide"}},
)
async def refresh(request: Request, graph: GraphDep, settings: SettingsDep, audit: AuditDep,
                  body: RefreshRequest | None = None) -> Response:
    by_cookie = body is None
    token = body.refresh_token if body is not None else request.cookies.get(REFRESH_COOKIE)
    try:
        renewed = await _renew(request, graph, settings, audit, token, by_cookie=by_cookie)
    except NotAuthenticated:
        if not by_cookie:
            raise
        response = JSONResponse({"code": "not_authenticated", "message": REFUSED,
                                 "details": []}, status_code=401)
        clear_session_cookies(response)
        return response
    if not by_cookie:
        return JSONResponse(RefreshResponse(**renewed.model_dump()).model_dump(mode="json"))
    response = JSONResponse(RefreshResponse(
        access_token=None, expires_at=renewed.expires_at, session_id=renewed.session_id,
        refresh_token=None, session_expires_at=renewed.session_expires_at).model_dump(mode="json"))
    set_session_cookies(response, secure=_secure(request), access_token=renewed.access_token,
                        access_expires_at=renewed.expires_at, refresh_token=renewed.refresh_token,
                        session_expires_at=renewed.session_expires_at,
                        now=datetime.now(UTC))
    return response


@router.get("/refresh/page", include_in_schema=False)
async def refresh_page(request: Request, graph: GraphDep, settings: SettingsDep, audit: AuditDep,
                       suite: Annotated[str, Query(max_length=2000)] = "/") -> Response:
    """A page navigation whose access token expired: renew (the refresh cookie is SameSite=Strict,
    so another site cannot make the browser send it here), then back to the page."""
    target = safe_next(suite)
    # The page's own anti-CSRF check does not apply to a navigation; SameSite=Strict does.
    token = request.cookies.get(REFRESH_COOKIE)
    try:
        renewed = await _renew(request, graph, settings, audit, token, by_cookie=False,
                               channel="page")
    except NotAuthenticated:
        response = RedirectResponse("/connexion?" + urlencode({"suite": target,
                                                               "raison": "expiree"}),
                                    status_code=303)
        clear_session_cookies(response)
        return response
    response = RedirectResponse(target, status_code=303)
    set_session_cookies(response, secure=_secure(request), access_token=renewed.access_token,
                        access_expires_at=renewed.expires_at, refresh_token=renewed.refresh_token,
                        session_expires_at=renewed.session_expires_at, now=datetime.now(UTC))
    return response
