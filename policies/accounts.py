"""Accounts over time: how long an account may stay unused, when an access review is due and
by when it must be answered — decided here, from ``policies/data/accounts.yaml``; the graph keeps
the accounts and reviews (graph/identity/lifecycle.py, reviews.py), the hub runs the daily job
(hub/jobs/accounts.py).

Owns:

* ``AccountRules`` — inactivity days per role, roles exempt (connectors, with why), how often an
  account's last use is written, and the review's period, deadline, reviewer and who is told of
  an overdue review;
* ``inactive`` — whether an account is past its role's period at an instant;
* ``needs_touch`` — whether an authentication should write the account's last use now (at most
  once per resolution: no write on every request);
* ``review_due`` / ``review_overdue`` — when the next review opens, and whether an open one has
  run past its deadline;
* the French words of the review's decisions.

Pure: no clock (``now`` is an argument), no I/O beyond reading its rules file.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field

from policies.models import PolicyModel, Role

ACCOUNTS_FILE = "accounts.yaml"


class InactivityRule(PolicyModel):
    role: Role
    days: int = Field(ge=1, le=3650)


class Exemption(PolicyModel):
    role: Role
    reason_fr: str = Field(min_length=5, max_length=500)


class ReviewRules(PolicyModel):
    every_days: int = Field(default=90, ge=1, le=3650)
    deadline_days: int = Field(default=14, ge=1, le=365)
    reviewer_role: Role = Role.COORDINATOR
    notify_role: Role = Role.ADMINISTRATOR

    @property
    def period(self) -> timedelta:
        return timedelta(days=self.every_days)

    @property
    def deadline(self) -> timedelta:
        return timedelta(days=self.deadline_days)


class AccountRules(PolicyModel):
    version: int = Field(default=1, ge=1, le=1)
    last_use_resolution_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # Defaults are the packaged file's (rules built in code behave as deployed).
    inactivity: list[InactivityRule] = Field(default_factory=lambda: [
        InactivityRule(role=Role.ANALYST, days=90), InactivityRule(role=Role.COORDINATOR, days=120),
        InactivityRule(role=Role.AUDITOR, days=180),
        InactivityRule(role=Role.ADMINISTRATOR, days=90),
        InactivityRule(role=Role.GUEST_REFERENT, days=30)])
    exempt: list[Exemption] = Field(default_factory=lambda: [Exemption(
        role=Role.CONNECTOR, reason_fr="compte technique d'un connecteur")])
    review: ReviewRules = Field(default_factory=ReviewRules)
    digest: str = ""

    @property
    def resolution(self) -> timedelta:
        return timedelta(minutes=self.last_use_resolution_minutes)

    def inactivity_days(self, role: str) -> int | None:
        """The role's period in days; None for an exempt role."""
        for rule in self.inactivity:
            if rule.role.value == role:
                return rule.days
        return None


def _check(source: str, data: Any, rules: AccountRules) -> None:
    """Every role is either given a period or exempt (with a reason), never both, never twice:
    a role forgotten here would silently never be disabled."""
    from policies.loader import _fail, line_of

    seen: dict[str, str] = {}
    for section, items in (("inactivity", rules.inactivity), ("exempt", rules.exempt)):
        for i, item in enumerate(items):
            role = item.role.value
            if role in seen:
                raise _fail(source, line_of(data, (section, i)), f"{section}[{i}].role",
                            f"rôle « {role} » déjà présent dans {seen[role]}")
            seen[role] = section
    missing = [r.value for r in Role if r.value not in seen]
    if missing:
        raise _fail(source, 1, "inactivity", "rôle(s) sans délai d'inactivité ni exemption : "
                    + ", ".join(missing))


def load_account_rules(path: Path | str | None = None) -> AccountRules:
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / ACCOUNTS_FILE
    return load_rules_file(AccountRules, entry, "comptes", _check)


# --- decisions -------------------------------------------------------------------------------------


def last_use(created_at: datetime | None, last_used_at: datetime | None) -> datetime | None:
    """When the account was last used, counting its creation as a use (a new account is not
    "unused for ever")."""
    known = [t for t in (created_at, last_used_at) if t is not None]
    return max(known) if known else None


def inactive(rules: AccountRules, role: str, *, created_at: datetime | None,
             last_used_at: datetime | None, now: datetime) -> bool:
    """Whether the account is past its role's period of inactivity at ``now`` (never for an exempt
    role; an account with no date at all is left alone — nothing says how old it is)."""
    days = rules.inactivity_days(role)
    since = last_use(created_at, last_used_at)
    return days is not None and since is not None and now - since >= timedelta(days=days)


def inactivity_cutoffs(rules: AccountRules, now: datetime) -> dict[str, datetime]:
    """Per role with a period: accounts whose last use is at or before this instant are due."""
    return {r.role.value: now - timedelta(days=r.days) for r in rules.inactivity}


def needs_touch(rules: AccountRules, last_used_at: datetime | None, now: datetime) -> bool:
    """Whether this authentication should record the account's last use: at most once per
    resolution (the cost of knowing who still uses the hub is one write per hour per account)."""
    return last_used_at is None or now - last_used_at >= rules.resolution


def review_due(rules: AccountRules, last_opened_at: datetime | None, now: datetime) -> bool:
    """Whether a new access review opens at ``now`` (none yet, or the last one is a period old)."""
    return last_opened_at is None or now - last_opened_at >= rules.review.period


def review_overdue(rules: AccountRules, due_at: datetime, now: datetime) -> bool:
    return now >= due_at


class ReviewDecision(StrEnum):
    CONFIRMED = "confirmed"
    DISABLED = "disabled"


REVIEW_DECISIONS_FR: dict[ReviewDecision, str] = {
    ReviewDecision.CONFIRMED: "accès confirmé",
    ReviewDecision.DISABLED: "compte désactivé",
}


def review_opened_fr(due_at: datetime, accounts: int) -> str:
    return (f"Revue des accès ouverte : {accounts} compte(s) à confirmer ou désactiver avant le "
            f"{due_at:%d/%m/%Y}.")


def review_overdue_fr(review_id: str, pending: int, due_at: datetime) -> str:
    return (f"Revue des accès {review_id} échue le {due_at:%d/%m/%Y} : {pending} compte(s) "
            "toujours sans décision du chef de la CROSS.")


def inactivity_reason_fr(role: str, days: int) -> str:
    return f"compte inutilisé depuis {days} jours ou plus (délai du rôle « {role} »)"


def movable(role: str, *, field: str = "role") -> None:
    """A person's account may move to any role a person holds; a connector is no person (its
    identity is its keys and its agency's feed): ``InvalidInput`` naming ``field``."""
    from hub.contract.errors import InvalidInput

    if role == Role.CONNECTOR.value:
        raise InvalidInput("un connecteur n'est pas une personne : pas de mutation", details=[
            {"field": field, "reason": "rôle « connector » exclu : créer un compte de connecteur"}])
