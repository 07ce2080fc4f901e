"""Retention of leads: how long each lead is kept, by kind and outcome, and whether it is due for
erasure. Pure: the rules are data (``policies/data/retention.yaml``), the decision a function of
(rules, the lead's facts, the instant). Knows nothing of Neo4j: graph/retention.py reads the facts
and erases; the hub schedules and audits.

Public API: ``load_retention_policy``, ``retention_outcome``,
``decide``, ``add_months``, ``RetentionFacts``, ``RetentionDecision``.

The outcome of a lead comes from its lifecycle (policies/lifecycle.py, written by the workflow
on the lead as ``status``, ``outcome`` and the resolution date): unresolved → ``open``,
``dismissed`` → ``dismissed``, ``closed`` → its close outcome (``other`` if none was recorded).
"""

from __future__ import annotations

import calendar
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from hub.contract.lead import LeadKind
from policies.models import PolicyModel

RETENTION_FILE = "retention.yaml"


class RetentionOutcome(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    NO_FOLLOW_UP = "no_follow_up"
    ARREST = "arrest"
    SEIZURE = "seizure"
    TRANSFERRED = "transferred"
    OTHER = "other"


OUTCOME_LABELS_FR: dict[RetentionOutcome, str] = {
    RetentionOutcome.OPEN: "non résolue",
    RetentionOutcome.DISMISSED: "écartée",
    RetentionOutcome.NO_FOLLOW_UP: "sans suite",
    RetentionOutcome.ARREST: "interpellation",
    RetentionOutcome.SEIZURE: "saisie",
    RetentionOutcome.TRANSFERRED: "transmise",
    RetentionOutcome.OTHER: "autre issue",
}

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9\-]{0,63}$")]
ReasonFr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Months = Annotated[int, Field(ge=1, le=600)]


class RetentionDefault(PolicyModel):
    months: Months
    reason_fr: ReasonFr


class RetentionRule(PolicyModel):
    id: Slug
    kinds: list[LeadKind] | None = Field(default=None, min_length=1)
    outcomes: list[RetentionOutcome] | None = Field(default=None, min_length=1)
    months: Months
    reason_fr: ReasonFr

    def matches(self, kind: LeadKind, outcome: RetentionOutcome) -> bool:
        return ((self.kinds is None or kind in self.kinds)
                and (self.outcomes is None or outcome in self.outcomes))

    def covers(self, other: RetentionRule) -> bool:
        """Every lead ``other`` matches, this rule matches too."""
        kinds = self.kinds is None or (other.kinds is not None and set(other.kinds) <= set(self.kinds))
        outcomes = self.outcomes is None or (
            other.outcomes is not None and set(other.outcomes) <= set(self.outcomes))
        return kinds and outcomes


class RetentionPolicy(PolicyModel):
    version: int = Field(ge=1, le=1)
    default: RetentionDefault
    rules: list[RetentionRule] = Field(default_factory=list)
    digest: str = ""

    @property
    def min_months(self) -> int:
        return min([self.default.months, *(r.months for r in self.rules)])


class RetentionFacts(BaseModel):
    """What the decision needs of a lead: never its content."""

    lead_id: str
    agency: str
    kind: LeadKind
    status: str | None = None  # lifecycle state; absent = new
    outcome: str | None = None  # close outcome, when closed
    reported_at: AwareDatetime
    resolved_at: AwareDatetime | None = None


class RetentionDecision(BaseModel):
    lead_id: str
    agency: str
    kind: LeadKind
    outcome: RetentionOutcome
    rule_id: str  # "default" when no rule matched
    months: int
    reference_at: datetime
    expires_at: datetime
    expired: bool


def add_months(instant: datetime, months: int) -> datetime:
    """Calendar months later, the day clamped to the month's length (31 Jan + 1 → 28/29 Feb)."""
    index = instant.month - 1 + months
    year, month = instant.year + index // 12, index % 12 + 1
    day = min(instant.day, calendar.monthrange(year, month)[1])
    return instant.replace(year=year, month=month, day=day)


def retention_outcome(status: str | None, outcome: str | None) -> RetentionOutcome:
    state = status or "new"
    if state == "dismissed":
        return RetentionOutcome.DISMISSED
    if state == "closed":
        try:
            return RetentionOutcome(outcome) if outcome else RetentionOutcome.OTHER
        except ValueError:
            return RetentionOutcome.OTHER
    return RetentionOutcome.OPEN


def decide(policy: RetentionPolicy, facts: RetentionFacts, *, now: datetime) -> RetentionDecision:
    outcome = retention_outcome(facts.status, facts.outcome)
    rule = next((r for r in policy.rules if r.matches(facts.kind, outcome)), None)
    months = rule.months if rule else policy.default.months
    # Resolved leads count from their resolution; the rest from their report.
    reference = (facts.resolved_at if outcome is not RetentionOutcome.OPEN and facts.resolved_at
                 else facts.reported_at)
    expires = add_months(reference, months)
    return RetentionDecision(
        lead_id=facts.lead_id, agency=facts.agency, kind=facts.kind, outcome=outcome,
        rule_id=rule.id if rule else "default", months=months, reference_at=reference,
        expires_at=expires, expired=expires <= now,
    )


def load_retention_policy(path: Path | str | None = None) -> RetentionPolicy:
    """Load and validate the retention rules (default: the packaged ``retention.yaml``). Raises
    ``ConfigurationError`` naming the file and line of the first problem."""
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / RETENTION_FILE
    return load_rules_file(RetentionPolicy, entry, "conservation", _check_rules)


def _check_rules(source: str, data: Any, policy: RetentionPolicy) -> None:
    """Rule ids are unique, and no rule is shadowed by an earlier one that covers all its cases."""
    from policies.loader import _fail, line_of

    seen: set[str] = set()
    for i, rule in enumerate(policy.rules):
        if rule.id in seen:
            raise _fail(source, line_of(data, ("rules", i, "id")), f"rules[{i}].id",
                        f"règle « {rule.id} » en double")
        seen.add(rule.id)
        for earlier in policy.rules[:i]:
            if earlier.covers(rule):
                raise _fail(source, line_of(data, ("rules", i)), f"rules[{i}]",
                            f"règle « {rule.id} » inapplicable : la règle « {earlier.id} », "
                            "placée avant, couvre déjà tous ses cas")
