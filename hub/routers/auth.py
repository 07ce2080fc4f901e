"""People's sessions: login (password → short-lived access token), logout, revocation of one
session, and an administrator's revocation of everything a user holds (sessions and API tokens).

Wiring only: the rules are in policies/auth/ (passwords, throttling, providers), tokens and key
files in hub/auth/, storage in graph/sessions.py. Every login success, failure and refusal,
every logout and revocation is appended to the audit trail.

Audit: each event is built by ``hub.audit.events.authentication`` — action ``authentication``,
``personal_data=False``, ``details.event`` naming what happened (login_success, login_failure,
login_throttled, logout, session_revoked, user_revoked_all).
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from graph import identity
from graph import sessions as graph_sessions
from graph.identity import Principal
from hub.audit.events import actor_of, authentication
from hub.auth.throttle import keyring_for
from hub.auth.refresh import open_session
from hub.auth.tokens import AccessClaims
from hub.contract.errors import InvalidInput, NotFound, TooManyRequests
from hub.deps import (
    AuditDep,
    CallerDep,
    GraphDep,
    RulebookDep,
    SettingsDep,
    requires,
)
from hub.settings import Settings
from policies.audit import (
    SYSTEM_ACTOR,
    Actor,
    DecisionOutcome,
)
from policies.auth import passwords, throttle
from policies.auth.providers import (
    InvalidCredentials,
    PasswordCredentials,
    PasswordProvider,
    StoredAccount,
)
from policies.permissions import Action, permission

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/auth", tags=["authentification"])

UserId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200,
                                          pattern=r"^[^\x00-\x1f\x7f]+$")]


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: UserId = Field(description="Identifiant « service:nom », p. ex. police:dupont")
    password: SecretStr = Field(min_length=1, max_length=passwords.MAX_LENGTH)


class LoginResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    session_id: str
    # Single use: POST /api/v1/auth/refresh gives the next access token and the next one
    # (hub/routers/refresh.py), until the session's absolute end.
    refresh_token: str | None = None
    session_expires_at: datetime | None = None


class SessionView(BaseModel):
    session_id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    client: str | None
    provider: str


class RevokeAllResponse(BaseModel):
    user_id: str
    sessions_revoked: int
    api_tokens_revoked: int


def _in_networks(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: Request, settings: Settings) -> str:
    """The client's address: the ASGI peer, unless that peer is a trusted proxy
    (``trusted_proxies``), in which case the right-most ``X-Forwarded-For`` hop that is not itself
    a trusted proxy (hops to its left are the client's own claims). Never the header otherwise:
    anyone can write it."""
    # The trail requires an origin; the test client and some proxies give none.
    peer = request.client.host if request.client else "inconnue"
    trusted = [ipaddress.ip_network(n, strict=False) for n in settings.trusted_proxies]
    if not trusted or not _in_networks(peer, trusted):
        return peer
    hops = [h.strip() for value in request.headers.getlist("x-forwarded-for")
            for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in_networks(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a garbled hop: the proxy's own address, not the garbage
    return hops[0] if hops else peer


def _client(request: Request) -> str:
    return client_address(request, request.app.state.settings)


def login_clock() -> Callable[[], datetime]:
    """The login's notion of now (a dependency, so tests replace it rather than sleep)."""
    return lambda: datetime.now(UTC)


ClockDep = Annotated[Callable[[], datetime], Depends(login_clock)]

# One login in this many also sweeps expired failed-login records (bounded per sweep), so a flood
# of failures under fresh ids cleans up after itself without a job of its own.
SWEEP_ONE_IN = 100


def throttle_policy(settings: Settings) -> throttle.LoginThrottlePolicy:
    window = timedelta(seconds=settings.login_window_s)
    base_lock = timedelta(seconds=settings.login_lock_s)
    max_lock = timedelta(seconds=max(settings.login_lock_max_s, settings.login_lock_s))
    account_lock = timedelta(seconds=settings.login_account_lock_s)
    return throttle.LoginThrottlePolicy(
        pair=throttle.ThrottlePolicy(max_failures=settings.login_max_failures, window=window,
                                     base_lock=base_lock, max_lock=max_lock),
        account=throttle.ThrottlePolicy(max_failures=settings.login_account_max_failures,
                                        window=window, base_lock=account_lock,
                                        max_lock=account_lock),
        client=throttle.SprayPolicy(max_accounts=settings.login_spray_max_accounts, window=window,
                                    base_lock=base_lock, max_lock=max_lock),
    )


def _records(keys: throttle.ThrottleKeys,
             stored: dict[str, graph_sessions.LoginAttempts]) -> throttle.LoginRecords:
    def attempts(key: str) -> throttle.AttemptRecord:
        return throttle.AttemptRecord.model_validate(stored[key].model_dump(include={
            "failures", "window_started_at", "locked_until", "lockouts", "last_failure_at"}))

    client = stored[keys.client]
    return throttle.LoginRecords(
        pair=attempts(keys.pair), account=attempts(keys.account),
        client=throttle.ClientRecord(accounts=tuple(client.accounts),
                                     window_started_at=client.window_started_at,
                                     locked_until=client.locked_until, lockouts=client.lockouts,
                                     last_failure_at=client.last_failure_at))


def _stored(keys: throttle.ThrottleKeys, records: throttle.LoginRecords,
            policy: throttle.LoginThrottlePolicy) -> dict[str, graph_sessions.LoginAttempts]:
    return {
        keys.pair: graph_sessions.LoginAttempts(
            throttle_key=keys.pair, account=keys.account, **records.pair.model_dump(),
            expires_at=throttle.expires_at(records.pair, policy.pair)),
        keys.account: graph_sessions.LoginAttempts(
            throttle_key=keys.account, **records.account.model_dump(),
            expires_at=throttle.expires_at(records.account, policy.account)),
        keys.client: graph_sessions.LoginAttempts(
            throttle_key=keys.client, **records.client.model_dump(exclude={"accounts"}),
            accounts=list(records.client.accounts),
            expires_at=throttle.client_expires_at(records.client, policy.client)),
    }


def _gate(policy: throttle.LoginThrottlePolicy, keys: throttle.ThrottleKeys, now: datetime):
    def decide(stored: dict[str, graph_sessions.LoginAttempts]):
        decision = throttle.begin_login(_records(keys, stored), policy, keys.account, now)
        return (_stored(keys, decision.records, policy) if decision.allowed else {}), decision
    return decide


def _forgive(policy: throttle.LoginThrottlePolicy, keys: throttle.ThrottleKeys):
    def decide(stored: dict[str, graph_sessions.LoginAttempts]):
        return _stored(keys, throttle.login_succeeded(_records(keys, stored), keys.account),
                       policy), None
    return decide


async def _record(request: Request, audit, *, actor: Actor, event: str, outcome: DecisionOutcome,
                  rule_id: str, user_id: str, session_id: str | None = None,
                  details: dict[str, str | int | bool | None] | None = None) -> None:
    await run_in_threadpool(audit.append, authentication(
        _client(request), actor, event=event, outcome=outcome, rule_id=rule_id, user_id=user_id,
        session_id=session_id, details=details))


def _session_view(record: graph_sessions.SessionRecord) -> SessionView:
    return SessionView(**record.model_dump())


@router.post(
    "/login",
    response_model=LoginResponse,
    summary="Ouvrir une session",
    description=(
        "Échange un identifiant et un mot de passe contre un jeton d'accès de courte durée "
        "(`Authorization: Bearer <jeton>`). Même réponse 401 pour un compte inconnu ou un mot de "
        "passe faux. Après trop d'échecs, le poste client est bloqué pour ce compte un temps "
        "croissant ; un poste qui essaie trop de comptes différents est bloqué pour tous ; un "
        "compte visé depuis de nombreux postes est bloqué un temps court et fixe pour les seuls "
        "postes qui y ont échoué récemment (429 avec `Retry-After`, même réponse que le compte "
        "existe ou non)."
    ),
    responses={401: {"description": "Identifiant ou mot de passe incorrect"},
               429: {"description": "Trop de tentatives : réessayer après `Retry-After` secondes"}},
)
async def login(request: Request, body: LoginRequest, graph: GraphDep, settings: SettingsDep,
                audit: AuditDep, clock: ClockDep):
    now = clock()
    user_id = body.user_id
    policy = throttle_policy(settings)
    keys = keyring_for(settings.keys_dir).keys(user_id, _client(request))
    # Counted before the password is checked, atomically (policies/auth/throttle.py).
    gate = await run_in_threadpool(graph_sessions.update_login_attempts, graph, keys.all(),
                                   _gate(policy, keys, now))
    if secrets.randbelow(SWEEP_ONE_IN) == 0:
        try:
            await run_in_threadpool(graph_sessions.purge_login_attempts, graph, now)
        except Exception:  # noqa: BLE001 - housekeeping never fails a login; next sweep retries
            log.warning("failed-login records sweep failed", exc_info=True)
    stored = await run_in_threadpool(graph_sessions.get_credentials, graph, user_id)
    actor = actor_of(stored.principal) if stored else SYSTEM_ACTOR
    if not gate.allowed:
        await _record(request, audit, actor=actor, event="login_throttled",
                      outcome=DecisionOutcome.DENY, rule_id="auth-login-throttle", user_id=user_id,
                      details={"retry_after_s": gate.retry_after_s,
                               "refused_by": ",".join(gate.refused_by)})
        raise TooManyRequests(
            f"trop de tentatives de connexion : réessayer dans {gate.retry_after_s} s",
            details=[{"field": "user_id", "reason": "connexion temporairement bloquée après des "
                      "échecs répétés"}],
            retry_after_s=gate.retry_after_s)

    account = (StoredAccount(**stored.principal.model_dump(exclude={"password_hash", "contact"}),
                             password_hash=stored.password_hash) if stored else None)
    provider = PasswordProvider(
        lambda _uid: account,
        on_rehash=lambda uid, new_hash: graph_sessions.set_password_hash(graph, uid, new_hash))
    try:
        who = await run_in_threadpool(provider.authenticate, PasswordCredentials(
            user_id=user_id, password=body.password))
    except InvalidCredentials as exc:
        await _record(request, audit, actor=actor, event="login_failure",
                      outcome=DecisionOutcome.DENY, rule_id="auth-login-password",
                      user_id=user_id, details={"reason": exc.reason})
        raise

    await run_in_threadpool(graph_sessions.update_login_attempts, graph, keys.all(),
                            _forgive(policy, keys))
    session_id = graph_sessions.new_session_id()
    opened = open_session(settings, session_id=session_id, user_id=who.user_id,
                          agency=who.agency, role=who.role, now=now)
    issued = opened.access
    # Logged before the session exists: nothing is issued that the trail does not show.
    assert stored is not None  # authenticate succeeded
    await _record(request, audit, actor=actor_of(stored.principal), event="login_success",
                  outcome=DecisionOutcome.ALLOW, rule_id="auth-login-password", user_id=user_id,
                  session_id=session_id, details={"provider": who.provider,
                                                  "jti": issued.claims.jti})
    await run_in_threadpool(graph_sessions.create_session, graph, user_id=who.user_id,
                            expires_at=opened.session_expires_at, client=_client(request),
                            provider=who.provider, session_id=session_id,
                            refresh_hash=opened.refresh_hash)
    return LoginResponse(access_token=issued.token, expires_at=issued.expires_at,
                         session_id=session_id, refresh_token=opened.refresh_token,
                         session_expires_at=opened.session_expires_at)


@router.post("/logout", status_code=204, summary="Fermer la session en cours",
             description="Révoque la session du jeton d'accès présenté : il est refusé aussitôt.")
async def logout(request: Request, caller: CallerDep, graph: GraphDep, audit: AuditDep) -> None:
    claims: AccessClaims | None = getattr(request.state, "access_claims", None)
    if claims is None:
        raise InvalidInput(
            "aucune session à fermer : ce jeton est un jeton d'API (le révoquer par "
            "« crosshub token revoke »)",
            details=[{"field": "Authorization", "reason": "jeton d'accès de session attendu"}])
    # Revoked first, then logged: a revocation that could not be logged still stands (the safe
    # side), and the answer waits for the log.
    await run_in_threadpool(graph_sessions.revoke_session, graph, claims.sid)
    await _record(request, audit, actor=actor_of(caller), event="logout",
                  outcome=DecisionOutcome.ALLOW, rule_id="auth-logout", user_id=caller.user_id,
                  session_id=claims.sid)


@router.post("/sessions/{session_id}/revoke", response_model=SessionView,
             summary="Révoquer une session",
             description="Par l'administrateur, ou par le titulaire de la session.")
async def revoke_session(
    request: Request, session_id: Annotated[str, Path(min_length=8, max_length=100)],
    caller: CallerDep, graph: GraphDep, audit: AuditDep, rulebook: RulebookDep,
) -> SessionView:
    record = await run_in_threadpool(graph_sessions.get_session, graph, session_id)
    is_admin = permission(rulebook.policy, caller.role, Action.REVOKE_SESSIONS).allowed
    if record is None or (not is_admin and record.user_id != caller.user_id):
        # Someone else's session is "unknown" to a non-administrator: ids are not confirmed.
        await _record(request, audit, actor=actor_of(caller), event="session_revoked",
                      outcome=DecisionOutcome.DENY, rule_id="auth-revoke-session",
                      user_id=record.user_id if record else caller.user_id, session_id=session_id,
                      details={"reason": "unknown" if record is None else "not_owner"})
        raise NotFound(f"session inconnue : {session_id}")
    revoked = await run_in_threadpool(graph_sessions.revoke_session, graph, session_id)
    assert revoked is not None
    await _record(request, audit, actor=actor_of(caller), event="session_revoked",
                  outcome=DecisionOutcome.ALLOW,
                  rule_id="auth-revoke-session-admin" if is_admin and record.user_id != caller.user_id
                  else "auth-revoke-session-own",
                  user_id=record.user_id, session_id=session_id)
    return _session_view(revoked)


@router.post("/users/{user_id}/revoke-all", response_model=RevokeAllResponse,
             summary="Révoquer tous les accès d'un utilisateur",
             description="Administrateur : révoque toutes les sessions et tous les jetons d'API "
                         "de l'utilisateur. Le compte reste actif (le désactiver par "
                         "« crosshub users disable »).")
async def revoke_all(
    request: Request, user_id: Annotated[str, Path(min_length=3, max_length=200)],
    caller: Annotated[Principal, requires(Action.REVOKE_SESSIONS)],
    graph: GraphDep, audit: AuditDep,
) -> RevokeAllResponse:
    await run_in_threadpool(identity.get_user, graph, user_id)  # NotFound, in French
    sessions_n = await run_in_threadpool(graph_sessions.revoke_user_sessions, graph, user_id)
    tokens_n = await run_in_threadpool(identity.revoke_user_tokens, graph, user_id)
    await _record(request, audit, actor=actor_of(caller), event="user_revoked_all",
                  outcome=DecisionOutcome.ALLOW, rule_id="auth-revoke-all-admin", user_id=user_id,
                  details={"sessions": sessions_n, "api_tokens": tokens_n})
    return RevokeAllResponse(user_id=user_id, sessions_revoked=sessions_n,
                             api_tokens_revoked=tokens_n)
