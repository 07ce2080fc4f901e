"""Request-scoped dependencies, handed out as ``Annotated`` aliases: the settings, the one Neo4j
graph handle of the process (the one driver, opened in the app's lifespan), the rulebook, and the
authenticated caller.

Nothing here connects on import; everything comes from ``app.state``, filled by ``create_app``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StringConstraints

from graph import identity
from graph import sessions as graph_sessions
from graph.access import AccessFilter
from graph.handle import Graph
from graph.identity import Principal
from hub.audit import AuditTrail
from hub.auth.tokens import keys_for as access_token_keys
from hub.contract.errors import (
    CsrfRefused,
    Forbidden,
    MissingJustification,
    NotAuthenticated,
    PayloadTooLarge,
    SecondFactorNotEnrolled,
    SecondFactorRequired,
    SecondFactorSessionRequired,
)
from hub.contract.signing import load_public_key_pem, verify_request
from hub.settings import Settings
from hub.web.session import CSRF_HEADER, SESSION_COOKIE, csrf_keys_for
from policies.permissions import Action, permission
from policies.rulebook import Rulebook


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_graph(request: Request) -> Graph:
    return request.app.state.graph


def get_rulebook(request: Request) -> Rulebook:
    return request.app.state.rulebook


def get_audit(request: Request) -> AuditTrail:
    return request.app.state.audit


SettingsDep = Annotated[Settings, Depends(get_settings)]
AuditDep = Annotated[AuditTrail, Depends(get_audit)]
GraphDep = Annotated[Graph, Depends(get_graph)]
RulebookDep = Annotated[Rulebook, Depends(get_rulebook)]


def get_clock() -> datetime:
    """The hub's "now" (UTC) for routes whose answer depends on the instant (the citizen
    receipt's publication delay). A dependency, so a test moves time with
    ``app.dependency_overrides[get_clock]`` instead of waiting; nothing else can change it."""
    return datetime.now(UTC)


ClockDep = Annotated[datetime, Depends(get_clock)]

_bearer = HTTPBearer(auto_error=False, description="Jeton d'accès CROSS Hub")


async def get_caller(
    request: Request,
    graph: GraphDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer credential: either an API token (``chx_…``, looked up by
    hash) or an access token issued at login (a JWT: signature, issuer, audience and expiry
    checked here, then one graph read that its session is open and its user active). The access
    token's claims are left in ``request.state.access_claims`` (None for an API token) for the
    session endpoints.

    A browser signed in to the web application presents the same access token in its session
    cookie instead (hub/web/session.py): read the same way, and a mutation so authenticated
    must carry the session's anti-CSRF token and come from the hub's own origin."""
    request.state.access_claims = None
    if credentials is not None and credentials.scheme.lower() == "bearer" and credentials.credentials:
        token = credentials.credentials
        from_cookie = False
    elif (cookie := request.cookies.get(SESSION_COOKIE)) and not cookie.startswith(
            identity.TOKEN_PREFIX):
        token, from_cookie = cookie, True
    else:
        raise NotAuthenticated("authentification requise : en-tête Authorization: Bearer <jeton>")
    if token.startswith(identity.TOKEN_PREFIX):
        principal = await run_in_threadpool(identity.principal_for_token, graph, token)
    else:
        try:
            claims = access_token_keys(settings.keys_dir).verify(token)
        except NotAuthenticated:
            raise NotAuthenticated("jeton inconnu, expiré ou révoqué") from None
        if from_cookie and request.method not in _SAFE_METHODS:
            _check_csrf(request, settings, claims.sid)
        principal = await run_in_threadpool(
            graph_sessions.principal_for_session, graph, claims.sid, claims.sub,
        )
        request.state.access_claims = claims
    if principal is None:
        raise NotAuthenticated("jeton inconnu, expiré ou révoqué")
    claims = request.state.access_claims
    if claims is not None and (claims.role != principal.role or claims.agency != principal.agency):
        # Issued before the account's role or agency changed (a mover): never evaluated with
        # rights it no longer names, even if its session were still open.
        raise NotAuthenticated("jeton inconnu, expiré ou révoqué")
    await _record_use(request, graph, principal)
    return principal


async def _record_use(request: Request, graph: Graph, principal: Principal) -> None:
    """The account's last use, written at most once per the resolution of
    policies/data/accounts.yaml (the identity read already brought the last one back)."""
    from graph.identity.lifecycle import touch_last_use
    from policies.accounts import needs_touch

    rules, now = get_rulebook(request).accounts, datetime.now(UTC)
    if needs_touch(rules, principal.last_used_at, now):
        await run_in_threadpool(touch_last_use, graph, principal.user_id, now, rules.resolution)


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _check_csrf(request: Request, settings: Settings, session_id: str) -> None:
    """A mutation by a browser session: its own origin (when the browser says), and the
    session's anti-CSRF token in the header (pages) or the form field (hub/web/views.py)."""
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise CsrfRefused("requête refusée : elle ne vient pas d'une page du hub",
                          details=[{"field": "Origin", "reason": "origine étrangère au hub"}])
    presented = request.headers.get(CSRF_HEADER) or getattr(request.state, "csrf_form_token", None)
    if not csrf_keys_for(settings.keys_dir).session_token_ok(session_id, presented):
        raise CsrfRefused("jeton anti-CSRF manquant ou invalide : recharger la page et recommencer",
                          details=[{"field": CSRF_HEADER, "reason": "jeton de la session attendu"}])


CallerDep = Annotated[Principal, Depends(get_caller)]


def requires(action: Action):
    """A dependency that admits only callers whose role may do ``action`` (``may:`` in
    roles.yaml, decided by policies.permissions); the route names the action, never roles.

    Then, for the actions policies/data/second_factor.yaml names, the second factor: the
    caller's own session (never an API token) must have proved it within the freshness the
    policy sets, else 403 ``second_factor_required`` (or ``second_factor_not_enrolled``,
    ``second_factor_session_required``) before the route runs — nothing is read or written."""

    async def check(request: Request, caller: CallerDep, rulebook: RulebookDep,
                    graph: GraphDep, now: ClockDep) -> Principal:
        decision = permission(rulebook.policy, caller.role, action)
        if not decision.allowed:
            raise Forbidden(decision.refusal_fr)
        if rulebook.second_factor.freshness(action) is not None:
            await _check_second_factor(request, graph, rulebook, caller, action, now)
        return caller

    check.required_action = action  # read by the tests and the docs: which action a route needs
    return Depends(check)


async def _check_second_factor(request: Request, graph: Graph, rulebook: Rulebook,
                               caller: Principal, action: Action, now: datetime) -> None:
    from graph.identity import second_factor as graph_second_factor
    from policies.second_factor import STEP_UP_MESSAGES_FR, StepUp, step_up_decision

    claims = getattr(request.state, "access_claims", None)
    enrolled, verified_at = False, None
    if claims is not None:
        enrolled, verified_at = await run_in_threadpool(
            graph_second_factor.step_up_state, graph, caller.user_id, claims.sid)
    outcome = step_up_decision(rulebook.second_factor, action, person_session=claims is not None,
                               enrolled=enrolled, verified_at=verified_at, now=now)
    if outcome in (StepUp.FRESH, StepUp.NOT_NEEDED):
        return
    error = {StepUp.STALE: SecondFactorRequired, StepUp.NOT_ENROLLED: SecondFactorNotEnrolled,
             StepUp.NO_SESSION: SecondFactorSessionRequired}[outcome]
    raise error(STEP_UP_MESSAGES_FR[outcome], details=[{
        "field": "(second facteur)",
        "reason": "POST /api/v1/second-factor/verify avec le code du moment, puis recommencer"
        if outcome is StepUp.STALE else STEP_UP_MESSAGES_FR[outcome].split(" : ", 1)[1]}])


async def get_access_filter(caller: CallerDep, graph: GraphDep, settings: SettingsDep,
                            rulebook: RulebookDep) -> AccessFilter:
    """The caller's read policy compiled into Cypher (hub/access.py, graph/access.py)."""
    from dataclasses import replace

    from hub.access import access_filter_for
    from hub.handles import handles_for

    compiled = await run_in_threadpool(partial(access_filter_for, graph, caller,
                                               policy=rulebook.policy))
    # Hits carry the caller's handle, sealed for the caller's agency (hub/handles.py).
    return replace(compiled, seal=handles_for(settings.keys_dir).sealer(caller.agency))


AccessDep = Annotated[AccessFilter, Depends(get_access_filter)]


class VerifiedConnector(BaseModel):
    key_id: str
    connector: str
    agency: str


async def verified_connector(request: Request, body: bytes, caller: Principal,
                             graph: Graph, settings: Settings) -> VerifiedConnector:
    """Admit a push only from a connector identity whose request is signed by a registered key
    *of that same connector* (its name and agency), fresh and never seen before (replay-proof).
    A key belongs to one connector: another connector's key, even of the same agency, is
    refused."""
    if not permission(get_rulebook(request).policy, caller.role, Action.PUSH_LEADS).allowed:
        raise Forbidden("seuls les connecteurs versent des pistes")

    found: list[identity.ConnectorKey] = []

    def lookup(key_id: str):
        key = identity.get_connector_key(graph, key_id)
        if key is not None:
            found.append(key)  # kept: the agency check below needs it, no second read
        return load_public_key_pem(key.public_key_pem) if key else None

    verified = await run_in_threadpool(
        verify_request, dict(request.headers), request.method, request.url.path, body, lookup,
        None, settings.signature_max_skew_s,
    )
    key = found[0]  # verify_request raised unless the key was found
    if key.agency != caller.agency:
        raise Forbidden(f"la clé {key.key_id} appartient à un connecteur d'un autre service")
    if key.connector != caller.name:
        raise Forbidden(f"la clé {key.key_id} appartient à un autre connecteur : chaque "
                        "connecteur signe avec sa propre clé")
    await run_in_threadpool(identity.consume_nonce, graph, verified.nonce,
                            verified.key_id, timedelta(seconds=2 * settings.signature_max_skew_s))
    return VerifiedConnector(key_id=key.key_id, connector=key.connector, agency=key.agency)


MIN_JUSTIFICATION = 5
MAX_JUSTIFICATION = 2000
# Control characters a justification may not hold (the audit trail refuses them): C0 but tab,
# line feed and carriage return; DEL; C1; bidi marks, embeddings, overrides and isolates;
# interlinear annotations; noncharacters (as hub.contract.identifiers, written so that the JSON
# Schema, Python and pydantic's Rust regex engines read it alike).
_JUSTIFICATION_CONTROL = (r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e"
                          r"\u200f\u202a-\u202e\u2066-\u2069\ufff9-\ufffb\ufffe\uffff")
# What the contract promises of a justification, as a JSON Schema pattern: no control character,
# and at least MIN_JUSTIFICATION characters once the surrounding blanks are stripped (a
# non-blank character, at least three more, a non-blank character).
JUSTIFICATION_PATTERN = (
    rf"^[^{_JUSTIFICATION_CONTROL}]*[^\s{_JUSTIFICATION_CONTROL}]"
    rf"[^{_JUSTIFICATION_CONTROL}]{{{MIN_JUSTIFICATION - 2},}}"
    rf"[^\s{_JUSTIFICATION_CONTROL}][^{_JUSTIFICATION_CONTROL}]*$")
JUSTIFICATION_DESCRIPTION = (
    "Motif de la consultation, obligatoire (art. 25 de la directive (UE) 2016/680) : au moins "
    f"{MIN_JUSTIFICATION} caractères hors blancs de début et de fin, sans caractère de contrôle, "
    "p. ex. un numéro de procédure. Absent, trop court ou avec un caractère de contrôle : 400 "
    "`missing_justification` nommant le champ `justification`.")


def missing_justification() -> MissingJustification:
    return MissingJustification(
        "justification obligatoire pour consulter des données à caractère personnel",
        details=[{"field": "justification",
                  "reason": f"motif de la consultation requis : au moins {MIN_JUSTIFICATION} "
                            "caractères hors blancs de début et de fin, sans caractère de "
                            "contrôle, p. ex. un numéro de procédure"}])


def require_justification(justification: str | None) -> str:
    """Art. 25: a consultation of personal data must say why. Missing → 400 naming the field."""
    if justification is None or len(justification.strip()) < MIN_JUSTIFICATION:
        raise missing_justification()
    return justification.strip()


def justification_param(justification: Annotated[str, Query(
    min_length=MIN_JUSTIFICATION, max_length=MAX_JUSTIFICATION, pattern=JUSTIFICATION_PATTERN,
    description=JUSTIFICATION_DESCRIPTION, examples=["PV 2025/118"])]) -> str:
    return require_justification(justification)


# The same, as a field of a JSON body (a disclosure request): required, same rule, same 400.
JustificationText = Annotated[str, StringConstraints(
    min_length=MIN_JUSTIFICATION, max_length=MAX_JUSTIFICATION, pattern=JUSTIFICATION_PATTERN),
    Field(description=JUSTIFICATION_DESCRIPTION, examples=["PV 2025/118"])]


# The one ``justification`` query parameter of every consultation: required in the contract;
# absent, blank or too short it is answered 400 ``missing_justification`` naming the field
# (hub.app maps its validation errors so, never 422). The handler receives it stripped.
JustificationDep = Annotated[str, Depends(justification_param)]


async def read_body(request: Request, limit: int) -> bytes:
    """The raw request body, refused with 413 past ``limit`` bytes before it is all read (signed
    requests are verified over these exact bytes)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"requête trop volumineuse : {declared} octets (maximum {limit})")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"requête trop volumineuse (maximum {limit} octets)")
        chunks.append(chunk)
    return b"".join(chunks)

