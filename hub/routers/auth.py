"""People's sessions: login (password → short-lived access token), logout, revocation of one
session, and an administrator's revocation of everything a user holds (sessions and API tokens).

Wiring only: the rules are in policies/auth/ (passwords, throttling, tokens, providers), storage
in graph/sessions.py. Every login success, failure and refusal, every logout and revocation is
appended to the audit trail.

Audit action: the trail's vocabulary is the six Art. 25 processing operations, none of which is
"authentication". Until the trail has an action of its own for these events, they are recorded as
``alteration`` of hub bookkeeping (each one does write: a session, a failed-login counter, a
revocation), with ``personal_data=False`` and ``details.event`` naming what happened
(login_success, login_failure, login_throttled, logout, session_revoked, user_revoked_all).
``AUTH_AUDIT_ACTION`` is the one place to change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from graph import identity
from graph import sessions as graph_sessions
from graph.identity import Principal
from hub.contract.errors import InvalidInput, NotFound, TooManyRequests
from hub.deps import AuditDep, CallerDep, DriverDep, SettingsDep, actor_of, require_role
from hub.settings import Settings
from policies.audit.models import (
    SYSTEM_ACTOR,
    Actor,
    AuditAction,
    AuditEvent,
    Decision,
    DecisionOutcome,
)
from policies.auth import passwords, throttle
from policies.auth.providers import (
    InvalidCredentials,
    PasswordCredentials,
    PasswordProvider,
    StoredAccount,
)
from policies.auth.tokens import AccessClaims, keys_for
from policies.models import Role

router = APIRouter(prefix="/api/v1/auth", tags=["authentification"])

AUTH_AUDIT_ACTION = AuditAction.AUTHENTICATION  # see the module docstring

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


def _client(request: Request) -> str:
    # The trail requires an origin; the test client and some proxies give none.
    return request.client.host if request.client else "inconnue"


def throttle_policy(settings: Settings) -> throttle.ThrottlePolicy:
    return throttle.ThrottlePolicy(
        max_failures=settings.login_max_failures,
        window=timedelta(seconds=settings.login_window_s),
        base_lock=timedelta(seconds=settings.login_lock_s),
        max_lock=timedelta(seconds=max(settings.login_lock_max_s, settings.login_lock_s)),
    )


def _gate(policy: throttle.ThrottlePolicy, now: datetime):
    def decide(stored: graph_sessions.LoginAttempts):
        record = throttle.AttemptRecord.model_validate(stored.model_dump(exclude={"user_id"}))
        decision = throttle.begin_attempt(record, policy, now)
        return (graph_sessions.LoginAttempts(user_id=stored.user_id, **decision.record.model_dump()),
                decision)
    return decide


async def _record(request: Request, audit, *, actor: Actor, event: str, outcome: DecisionOutcome,
                  rule_id: str, user_id: str, session_id: str | None = None,
                  details: dict[str, str | int | bool | None] | None = None) -> None:
    keys = [f"user:{user_id}"] + ([f"session:{session_id}"] if session_id else [])
    await run_in_threadpool(audit.append, AuditEvent(
        action=AUTH_AUDIT_ACTION, actor=actor, entity_keys=keys, client_address=_client(request),
        decision=Decision(outcome=outcome, rule_id=rule_id), personal_data=False,
        details={"event": event, **(details or {})},
    ))


def _session_view(record: graph_sessions.SessionRecord) -> SessionView:
    return SessionView(**record.model_dump())


@router.post(
    "/login",
    response_model=LoginResponse,
    summary="Ouvrir une session",
    description=(
        "Échange un identifiant et un mot de passe contre un jeton d'accès de courte durée "
        "(`Authorization: Bearer <jeton>`). Même réponse 401 pour un compte inconnu ou un mot de "
        "passe faux ; après trop d'échecs, le compte est verrouillé un temps croissant (429 avec "
        "`Retry-After`)."
    ),
    responses={401: {"description": "Identifiant ou mot de passe incorrect"},
               429: {"description": "Trop de tentatives : réessayer après `Retry-After` secondes"}},
)
async def login(request: Request, body: LoginRequest, driver: DriverDep, settings: SettingsDep,
                audit: AuditDep):
    db = settings.neo4j_database
    now = datetime.now(UTC)
    user_id = body.user_id
    # Counted before the password is checked, atomically (policies/auth/throttle.py).
    gate = await run_in_threadpool(graph_sessions.update_login_attempts, driver, db, user_id,
                                   _gate(throttle_policy(settings), now))
    stored = await run_in_threadpool(graph_sessions.get_credentials, driver, db, user_id)
    actor = actor_of(stored.principal) if stored else SYSTEM_ACTOR
    if not gate.allowed:
        await _record(request, audit, actor=actor, event="login_throttled",
                      outcome=DecisionOutcome.DENY, rule_id="auth-login-throttle", user_id=user_id,
                      details={"retry_after_s": gate.retry_after_s})
        raise TooManyRequests(
            f"trop de tentatives de connexion : réessayer dans {gate.retry_after_s} s",
            details=[{"field": "user_id", "reason": "connexion temporairement bloquée après des "
                      "échecs répétés"}],
            retry_after_s=gate.retry_after_s)

    account = (StoredAccount(**stored.principal.model_dump(exclude={"password_hash", "contact"}),
                             password_hash=stored.password_hash) if stored else None)
    provider = PasswordProvider(
        lambda _uid: account,
        on_rehash=lambda uid, new_hash: graph_sessions.set_password_hash(driver, db, uid, new_hash))
    try:
        who = await run_in_threadpool(provider.authenticate, PasswordCredentials(
            user_id=user_id, password=body.password))
    except InvalidCredentials as exc:
        await _record(request, audit, actor=actor, event="login_failure",
                      outcome=DecisionOutcome.DENY, rule_id="auth-login-password",
                      user_id=user_id, details={"reason": exc.reason})
        raise

    await run_in_threadpool(graph_sessions.clear_login_attempts, driver, db, user_id)
    session_id = graph_sessions.new_session_id()
    issued = keys_for(settings.keys_dir).issue(
        user_id=who.user_id, agency=who.agency, role=who.role, session_id=session_id,
        ttl=timedelta(minutes=settings.access_token_ttl_min), now=now)
    # Logged before the session exists: nothing is issued that the trail does not show.
    assert stored is not None  # authenticate succeeded
    await _record(request, audit, actor=actor_of(stored.principal), event="login_success",
                  outcome=DecisionOutcome.ALLOW, rule_id="auth-login-password", user_id=user_id,
                  session_id=session_id, details={"provider": who.provider,
                                                  "jti": issued.claims.jti})
    await run_in_threadpool(graph_sessions.create_session, driver, db, user_id=who.user_id,
                            expires_at=issued.expires_at, client=_client(request),
                            provider=who.provider, session_id=session_id)
    return LoginResponse(access_token=issued.token, expires_at=issued.expires_at,
                         session_id=session_id)


@router.post("/logout", status_code=204, summary="Fermer la session en cours",
             description="Révoque la session du jeton d'accès présenté : il est refusé aussitôt.")
async def logout(request: Request, caller: CallerDep, driver: DriverDep, settings: SettingsDep,
                 audit: AuditDep) -> None:
    claims: AccessClaims | None = getattr(request.state, "access_claims", None)
    if claims is None:
        raise InvalidInput(
            "aucune session à fermer : ce jeton est un jeton d'API (le révoquer par "
            "« crosshub token revoke »)",
            details=[{"field": "Authorization", "reason": "jeton d'accès de session attendu"}])
    # Revoked first, then logged: a revocation that could not be logged still stands (the safe
    # side), and the answer waits for the log.
    await run_in_threadpool(graph_sessions.revoke_session, driver, settings.neo4j_database,
                            claims.sid)
    await _record(request, audit, actor=actor_of(caller), event="logout",
                  outcome=DecisionOutcome.ALLOW, rule_id="auth-logout", user_id=caller.user_id,
                  session_id=claims.sid)


@router.post("/sessions/{session_id}/revoke", response_model=SessionView,
             summary="Révoquer une session",
             description="Par l'administrateur, ou par le titulaire de la session.")
async def revoke_session(
    request: Request, session_id: Annotated[str, Path(min_length=8, max_length=100)],
    caller: CallerDep, driver: DriverDep, settings: SettingsDep, audit: AuditDep,
) -> SessionView:
    db = settings.neo4j_database
    record = await run_in_threadpool(graph_sessions.get_session, driver, db, session_id)
    is_admin = caller.role == Role.ADMINISTRATOR
    if record is None or (not is_admin and record.user_id != caller.user_id):
        # Someone else's session is "unknown" to a non-administrator: ids are not confirmed.
        await _record(request, audit, actor=actor_of(caller), event="session_revoked",
                      outcome=DecisionOutcome.DENY, rule_id="auth-revoke-session",
                      user_id=record.user_id if record else caller.user_id, session_id=session_id,
                      details={"reason": "unknown" if record is None else "not_owner"})
        raise NotFound(f"session inconnue : {session_id}")
    revoked = await run_in_threadpool(graph_sessions.revoke_session, driver, db, session_id)
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
    caller: Annotated[Principal, require_role(Role.ADMINISTRATOR.value)],
    driver: DriverDep, settings: SettingsDep, audit: AuditDep,
) -> RevokeAllResponse:
    db = settings.neo4j_database
    await run_in_threadpool(identity.get_user, driver, db, user_id)  # NotFound, in French
    sessions_n = await run_in_threadpool(graph_sessions.revoke_user_sessions, driver, db, user_id)
    tokens_n = await run_in_threadpool(identity.revoke_user_tokens, driver, db, user_id)
    await _record(request, audit, actor=actor_of(caller), event="user_revoked_all",
                  outcome=DecisionOutcome.ALLOW, rule_id="auth-revoke-all-admin", user_id=user_id,
                  details={"sessions": sessions_n, "api_tokens": tokens_n})
    return RevokeAllResponse(user_id=user_id, sessions_revoked=sessions_n,
                             api_tokens_revoked=tokens_n)
