"""The second factor (TOTP, RFC 6238): which actions need a person to have proved it recently, how
recently, and whether a typed code is good — decided here; the secret is kept encrypted by the
hub (hub/auth/second_factor.py) and stored by graph/identity/second_factor.py.

Owns:

* ``SecondFactorRules`` — the data of ``policies/data/second_factor.yaml``: per action
  (policies/permissions.py) the freshness a step-up must have (« disclosure.decide: 10 min »),
  the TOTP parameters, and the throttle of wrong codes (the same rule as failed logins,
  ``policies.auth.throttle.ThrottlePolicy``);
* ``step_up_decision`` — for a caller about to do an action: not needed, fresh, stale, not
  enrolled, or impossible (an API token is no person's session);
* ``matching_step`` — the time step a code belongs to within ±``drift_steps`` of now, refused
  when that step is not after the last one used (a code, or any code of an earlier step, works
  once: RFC 6238 §5.2).

Pure: no clock (``now`` is an argument), no I/O beyond reading its rules file.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyotp
from pydantic import Field

from policies.auth.throttle import ThrottlePolicy
from policies.models import PolicyModel
from policies.permissions import Action

SECOND_FACTOR_FILE = "second_factor.yaml"


class StepUpRule(PolicyModel):
    action: Action
    fresh_minutes: float = Field(gt=0, le=24 * 60)

    @property
    def fresh_for(self) -> timedelta:
        return timedelta(minutes=self.fresh_minutes)


class TotpParameters(PolicyModel):
    issuer: str = Field(default="CROSS Hub", min_length=1, max_length=60)
    digits: int = Field(default=6, ge=6, le=8)
    period_s: int = Field(default=30, ge=15, le=120)
    drift_steps: int = Field(default=1, ge=0, le=2)
    secret_bytes: int = Field(default=20, ge=16, le=64)  # 160 bits: RFC 4226's recommendation


class CodeThrottle(PolicyModel):
    max_failures: int = Field(default=5, ge=1, le=100)
    window_minutes: float = Field(default=15, gt=0)
    lock_minutes: float = Field(default=5, gt=0)
    lock_max_minutes: float = Field(default=60, gt=0)

    def policy(self) -> ThrottlePolicy:
        lock = timedelta(minutes=self.lock_minutes)
        return ThrottlePolicy(max_failures=self.max_failures,
                              window=timedelta(minutes=self.window_minutes), base_lock=lock,
                              max_lock=max(lock, timedelta(minutes=self.lock_max_minutes)))


class SecondFactorRules(PolicyModel):
    version: int = Field(default=1, ge=1, le=1)
    # Defaults are the packaged file's: rules built in code (tests) fail closed, never open.
    step_up: list[StepUpRule] = Field(default_factory=lambda: [
        StepUpRule(action=Action.DECIDE_DISCLOSURE, fresh_minutes=10),
        StepUpRule(action=Action.EXPORT_NETWORK, fresh_minutes=10)])
    # An enrolment begun and not confirmed within this long must be begun again.
    pending_enrolment_minutes: float = Field(default=15, gt=0, le=24 * 60)
    totp: TotpParameters = Field(default_factory=TotpParameters)
    throttle: CodeThrottle = Field(default_factory=CodeThrottle)
    digest: str = ""

    def freshness(self, action: Action) -> timedelta | None:
        """How recent a step-up ``action`` needs (None: the action needs none)."""
        for rule in self.step_up:
            if rule.action == action:
                return rule.fresh_for
        return None


def _check(source: str, data: Any, rules: SecondFactorRules) -> None:
    """One rule per action (two would leave the freshness ambiguous)."""
    from policies.loader import _fail, line_of

    seen: set[Action] = set()
    for i, rule in enumerate(rules.step_up):
        if rule.action in seen:
            raise _fail(source, line_of(data, ("step_up", i, "action")), f"step_up[{i}].action",
                        f"action « {rule.action.value} » déjà citée : une seule règle par action")
        seen.add(rule.action)


def load_second_factor_rules(path: Path | str | None = None) -> SecondFactorRules:
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / SECOND_FACTOR_FILE
    return load_rules_file(SecondFactorRules, entry, "second facteur", _check)


# --- step-up ---------------------------------------------------------------------------------------


class StepUp(StrEnum):
    NOT_NEEDED = "not_needed"
    FRESH = "fresh"
    STALE = "stale"  # enrolled, but not proved in this session within the freshness
    NOT_ENROLLED = "not_enrolled"
    NO_SESSION = "no_session"  # an API token: no person's session to step up


def step_up_decision(rules: SecondFactorRules, action: Action, *, person_session: bool,
                     enrolled: bool, verified_at: datetime | None, now: datetime) -> StepUp:
    """Whether the caller may do ``action`` now, as far as the second factor goes (the role's
    permission is decided before, by policies.permissions)."""
    fresh_for = rules.freshness(action)
    if fresh_for is None:
        return StepUp.NOT_NEEDED
    if not person_session:
        return StepUp.NO_SESSION
    if not enrolled:
        return StepUp.NOT_ENROLLED
    # A verification stamped in the future (clock moved back) is not trusted either.
    if verified_at is None or not (now - fresh_for <= verified_at <= now + timedelta(seconds=5)):
        return StepUp.STALE
    return StepUp.FRESH


STEP_UP_MESSAGES_FR: dict[StepUp, str] = {
    StepUp.STALE: "second facteur requis : saisir le code à 6 chiffres de votre application "
                  "d'authentification, puis recommencer",
    StepUp.NOT_ENROLLED: "second facteur requis : vous n'avez pas encore enrôlé de second "
                         "facteur — ouvrez la page « Second facteur » (/second-facteur) pour "
                         "l'enrôler, puis recommencez",
    StepUp.NO_SESSION: "second facteur requis : cette opération exige la session d'une personne "
                       "(connexion par mot de passe ou par l'annuaire de son service) ; un jeton "
                       "d'API ne suffit pas",
}


# --- codes -----------------------------------------------------------------------------------------


def time_step(now: datetime, params: TotpParameters) -> int:
    return int(now.timestamp()) // params.period_s


def matching_step(secret_b32: str, code: str, now: datetime, params: TotpParameters,
                  last_step: int | None) -> int | None:
    """The time step ``code`` is the code of, within ±drift of ``now``, and later than
    ``last_step`` (the last step used by this person); None if there is none."""
    if len(code) != params.digits or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret_b32, digits=params.digits, interval=params.period_s)
    current = time_step(now, params)
    for step in range(current - params.drift_steps, current + params.drift_steps + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_secret(params: TotpParameters) -> str:
    return pyotp.random_base32(length=params.secret_bytes * 8 // 5)


def provisioning_uri(secret_b32: str, account: str, params: TotpParameters) -> str:
    return pyotp.TOTP(secret_b32, digits=params.digits, interval=params.period_s).provisioning_uri(
        name=account, issuer_name=params.issuer)
