"""The second factor (TOTP): ``/api/v1/second-factor`` — a person enrols (the secret is made on
the hub, shown once with its ``otpauth://`` URI and a QR code drawn here as inline SVG, then
confirmed with a first code), steps their session up with a code before an action that policy
data says needs it (hub.deps.requires checks it), and an administrator resets a lost factor.

Wiring only: the rules are policies/second_factor.py (which actions, how fresh, codes, throttle),
the secret's encryption hub/auth/second_factor.py, storage graph/identity/second_factor.py.
Only a person's session (an access token, not an API token) enrols or steps up. Every
enrolment, code accepted or refused, throttled attempt and reset is audited (action
``authentication``, ``details.event``), inside the graph transaction that records it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StringConstraints

from graph.identity import Principal
from graph.identity import second_factor as store
from hub.audit import events as auditing
from hub.auth.second_factor import box_for
from hub.contract.errors import (
    Conflict,
    InvalidInput,
    SecondFactorNotEnrolled,
    SecondFactorSessionRequired,
    TooManyRequests,
)
from hub.deps import AuditDep, CallerDep, ClockDep, GraphDep, RulebookDep, SettingsDep, requires
from hub.routers.inputs import StrictIn
from policies.audit import DecisionOutcome
from policies.auth.throttle import AttemptRecord, begin_attempt
from policies.permissions import Action
from policies.second_factor import (
    STEP_UP_MESSAGES_FR,
    SecondFactorRules,
    StepUp,
    matching_step,
    new_secret,
    provisioning_uri,
)

router = APIRouter(prefix="/api/v1/second-factor", tags=["second facteur"])

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=8,
                                        pattern=r"^[0-9]{6,8}$")]
WRONG_CODE_FR = "code incorrect, expiré ou déjà utilisé"
# Refusals decided before any code is checked (audited, never counted as a wrong code).
NONE_PENDING = "second_factor_no_pending_enrolment"
NO_CODE = "second_factor_reenrol_without_code"


class CodeIn(StrictIn):
    code: Code = Field(description="Code à 6 chiffres affiché par l'application d'authentification")


class EnrolIn(StrictIn):
    code: Code | None = Field(default=None, description="Code du second facteur actuel : exigé "
                                                        "pour en enrôler un nouveau")


class StepUpRuleView(BaseModel):
    action: str
    fresh_minutes: float
    fresh_until: datetime | None = Field(description="Fin de validité du second facteur de cette "
                                                     "session pour cette action (null : à saisir)")


class SecondFactorStatus(BaseModel):
    enrolled: bool
    enrolled_at: datetime | None
    pending: bool = Field(description="Un enrôlement commencé attend son premier code")
    session_verified_at: datetime | None
    step_up: list[StepUpRuleView]


class EnrolmentStarted(BaseModel):
    secret: str = Field(description="Clé à saisir à la main dans l'application (montrée une fois)")
    otpauth_uri: str
    qr_svg: str = Field(description="Le QR code de otpauth_uri, en SVG, dessiné par le hub")
    digits: int
    period_s: int
    confirm_before: datetime


class ResetDone(BaseModel):
    user_id: str
    had_second_factor: bool


class _Result(BaseModel):
    event: str
    ok: bool = False
    retry_after_s: int = 0
    reason: str = ""


def _person(request: Request) -> str:
    """The session id of the caller's access token; refused for an API token."""
    claims = getattr(request.state, "access_claims", None)
    if claims is None:
        raise SecondFactorSessionRequired(STEP_UP_MESSAGES_FR[StepUp.NO_SESSION], details=[
            {"field": "Authorization", "reason": "jeton d'accès de session attendu"}])
    return claims.sid


def _attempts(rec: store.SecondFactorRecord) -> AttemptRecord:
    return AttemptRecord(**rec.model_dump(include={"failures", "window_started_at",
                                                   "locked_until", "lockouts", "last_failure_at"}))


def _checked(rules: SecondFactorRules, rec: store.SecondFactorRecord, stored: str | None,
             code: str, now: datetime, event: str, box: Any,
             on_success: dict[str, Any]) -> store.Change[_Result]:
    """A code checked against ``stored`` (an encrypted secret), throttled like a login: counted
    as a failure before it is checked, forgiven when good (policies/auth/throttle.py)."""
    gate = begin_attempt(_attempts(rec), rules.throttle.policy(), now)
    if not gate.allowed:
        return store.Change(_Result(event="second_factor_throttled",
                                    retry_after_s=gate.retry_after_s))
    assert stored is not None
    step = matching_step(box.open(stored, rec.user_id), code, now, rules.totp, rec.last_step)
    if step is None:
        return store.Change(_Result(event="second_factor_failure", reason=event),
                            set=gate.record.model_dump())
    return store.Change(_Result(event=event, ok=True), step_up_at=now,
                        set={**AttemptRecord().model_dump(), "last_step": step, **on_success})


async def _run(request: Request, graph, audit, caller: Principal, session_id: str,
               decide) -> _Result:
    client = auditing.client_of(request)

    def record(result: _Result) -> None:
        details = {"retry_after_s": result.retry_after_s} if result.retry_after_s else {}
        if result.reason:
            details["attempt"] = result.reason
        audit.append(auditing.authentication(
            client, auditing.actor_of(caller), event=result.event,
            outcome=DecisionOutcome.ALLOW if result.ok else DecisionOutcome.DENY,
            rule_id="auth-second-factor", user_id=caller.user_id, session_id=session_id,
            details=details))

    result = await run_in_threadpool(store.update, graph, caller.user_id, session_id, decide,
                                     record)
    if result.retry_after_s:
        raise TooManyRequests(
            f"trop de codes erronés : réessayer dans {result.retry_after_s} s",
            details=[{"field": "code", "reason": "saisie du second facteur temporairement "
                                                 "bloquée après des codes erronés"}],
            retry_after_s=result.retry_after_s)
    if result.event == NONE_PENDING:
        raise Conflict(
            "aucun enrôlement en cours (ou commencé depuis trop longtemps) : le recommencer",
            details=[{"field": "code",
                      "reason": "commencer par POST /api/v1/second-factor/enrolment"}])
    if result.event == NO_CODE:
        raise InvalidInput(
            "un second facteur est déjà enrôlé : son code actuel est exigé pour le remplacer",
            details=[{"field": "code", "reason": "code du second facteur actuel requis"}])
    if not result.ok:
        raise InvalidInput(WRONG_CODE_FR, details=[{"field": "code", "reason": WRONG_CODE_FR}])
    return result


async def _status(graph, rulebook, caller: Principal, session_id: str | None,
                  now: datetime) -> SecondFactorStatus:
    rec = await run_in_threadpool(store.get, graph, caller.user_id)
    verified = (await run_in_threadpool(store.session_verified_at, graph, caller.user_id,
                                        session_id) if session_id else None)
    rules = rulebook.second_factor
    return SecondFactorStatus(
        enrolled=rec.enrolled, enrolled_at=rec.enrolled_at, pending=rec.pending_secret is not None,
        session_verified_at=verified,
        step_up=[StepUpRuleView(action=r.action.value, fresh_minutes=r.fresh_minutes,
                                fresh_until=verified + r.fresh_for
                                if verified and verified + r.fresh_for > now else None)
                 for r in rules.step_up])


@router.get("", response_model=SecondFactorStatus, summary="État de votre second facteur",
            description="Enrôlé ou non, et jusqu'à quand la session en cours peut faire les "
                        "opérations qui l'exigent. Jamais la clé.")
async def second_factor_status(request: Request, caller: CallerDep, graph: GraphDep,
                               rulebook: RulebookDep, now: ClockDep) -> SecondFactorStatus:
    claims = getattr(request.state, "access_claims", None)
    return await _status(graph, rulebook, caller, claims.sid if claims else None, now)


@router.post("/enrolment", response_model=EnrolmentStarted, status_code=201,
             summary="Commencer l'enrôlement (clé et QR code, montrés une fois)",
             description="Le hub tire la clé, la garde chiffrée et la montre une seule fois ; "
                         "l'enrôlement est acquis au premier code confirmé. Remplacer un second "
                         "facteur enrôlé exige un code de l'actuel.")
async def begin_enrolment(request: Request, response: Response, caller: CallerDep,
                          graph: GraphDep, settings: SettingsDep, rulebook: RulebookDep,
                          audit: AuditDep, now: ClockDep, body: EnrolIn | None = None,
                          ) -> EnrolmentStarted:
    session_id = _person(request)
    rules, box = rulebook.second_factor, box_for(settings.keys_dir)
    secret = new_secret(rules.totp)
    sealed = box.seal(secret, caller.user_id)  # random nonce: made here, not in decide
    pending = {"pending_secret": sealed, "pending_created_at": now}
    code = body.code if body else None

    def decide(rec: store.SecondFactorRecord) -> store.Change[_Result]:
        if not rec.enrolled:
            return store.Change(_Result(event="second_factor_enrolment_started", ok=True),
                                set=pending)
        if code is None:
            return store.Change(_Result(event=NO_CODE))
        return _checked(rules, rec, rec.secret, code, now, "second_factor_enrolment_started",
                        box, pending)

    await _run(request, graph, audit, caller, session_id, decide)
    response.headers["Cache-Control"] = "no-store"
    uri = provisioning_uri(secret, caller.user_id, rules.totp)
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, title="QR code d'enrôlement du second facteur CROSS Hub")
    return EnrolmentStarted(secret=secret, otpauth_uri=uri, qr_svg=svg, digits=rules.totp.digits,
                            period_s=rules.totp.period_s,
                            confirm_before=now + timedelta(minutes=rules.pending_enrolment_minutes))


@router.post("/enrolment/confirm", response_model=SecondFactorStatus,
             summary="Confirmer l'enrôlement par un premier code",
             description="Le second facteur enrôlé devient celui en vigueur ; la session en cours "
                         "compte comme vérifiée à cet instant.")
async def confirm_enrolment(request: Request, body: CodeIn, caller: CallerDep, graph: GraphDep,
                            settings: SettingsDep, rulebook: RulebookDep, audit: AuditDep,
                            now: ClockDep) -> SecondFactorStatus:
    session_id = _person(request)
    rules, box = rulebook.second_factor, box_for(settings.keys_dir)
    deadline = timedelta(minutes=rules.pending_enrolment_minutes)

    def decide(rec: store.SecondFactorRecord) -> store.Change[_Result]:
        if rec.pending_secret is None or rec.pending_created_at is None \
                or now - rec.pending_created_at > deadline:
            return store.Change(_Result(event=NONE_PENDING))
        return _checked(rules, rec, rec.pending_secret, body.code, now, "second_factor_enrolled",
                        box, {"secret": rec.pending_secret, "enrolled_at": now,
                              "pending_secret": None, "pending_created_at": None})

    await _run(request, graph, audit, caller, session_id, decide)
    return await _status(graph, rulebook, caller, session_id, now)


@router.post("/verify", response_model=SecondFactorStatus,
             summary="Saisir le code du second facteur (session vérifiée)",
             description="Marque la session en cours comme vérifiée à cet instant, pour les "
                         "opérations que la politique soumet au second facteur. Un code ne sert "
                         "qu'une fois ; les codes erronés sont limités comme les connexions (429).")
async def verify(request: Request, body: CodeIn, caller: CallerDep, graph: GraphDep,
                 settings: SettingsDep, rulebook: RulebookDep, audit: AuditDep,
                 now: ClockDep) -> SecondFactorStatus:
    session_id = _person(request)
    rules, box = rulebook.second_factor, box_for(settings.keys_dir)
    current = await run_in_threadpool(store.get, graph, caller.user_id)
    if not current.enrolled:
        raise SecondFactorNotEnrolled(STEP_UP_MESSAGES_FR[StepUp.NOT_ENROLLED], details=[
            {"field": "code", "reason": "aucun second facteur enrôlé"}])

    def decide(rec: store.SecondFactorRecord) -> store.Change[_Result]:
        return _checked(rules, rec, rec.secret, body.code, now, "second_factor_verified", box, {})

    await _run(request, graph, audit, caller, session_id, decide)
    return await _status(graph, rulebook, caller, session_id, now)


@router.post("/users/{user_id}/reset", response_model=ResetDone,
             summary="Réinitialiser le second facteur d'un utilisateur",
             description="Administrateur (téléphone perdu) : la clé, l'enrôlement en cours et les "
                         "sessions vérifiées sont oubliés ; l'utilisateur devra enrôler à nouveau.")
async def reset_second_factor(
    request: Request, user_id: Annotated[str, Path(min_length=3, max_length=200)],
    caller: Annotated[Principal, requires(Action.RESET_SECOND_FACTOR)],
    graph: GraphDep, audit: AuditDep,
) -> ResetDone:
    had = await run_in_threadpool(store.reset, graph, user_id)  # NotFound, in French
    await run_in_threadpool(audit.append, auditing.authentication(
        auditing.client_of(request), auditing.actor_of(caller), event="second_factor_reset",
        outcome=DecisionOutcome.ALLOW, rule_id="auth-second-factor-reset-admin", user_id=user_id,
        details={"had_second_factor": had}))
    return ResetDone(user_id=user_id, had_second_factor=had)
