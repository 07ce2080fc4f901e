"""The daily accounts job (hub/jobs/schedule.py registers it; run once across hub processes,
ADR 0013), also callable on demand (``crosshub users sweep``):

1. **inactivity** — every enabled account whose last use (or creation) is older than its role's
   period in ``policies/data/accounts.yaml`` is disabled, its rights ended, one audit entry each
   (appended before the account's change commits); exempt roles (connectors) are never touched;
2. **review** — a new access review opens when the last one is a period old (or none exists),
   its reviewers notified;
3. **overdue** — an open review past its deadline with accounts undecided is flagged once, the
   administrators notified.

Each step runs as of the job's due time (a taker does the same work: every step is idempotent).
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, Field

from graph.handle import Graph
from graph.identity import lifecycle, reviews
from hub.audit import AuditTrail
from hub.audit.account_events import ACCOUNTS_ORIGIN, access_review_event, account_changed
from policies import accounts as rules_fr
from policies.accounts import AccountRules, inactivity_cutoffs, review_due
from policies.audit import SYSTEM_ACTOR, Actor

log = logging.getLogger("crosshub.accounts")

JOB_NAME = "accounts"
_BATCH = 500


class AccountsReport(BaseModel):
    disabled: list[str] = Field(default_factory=list)
    review_opened: str | None = None
    reviews_flagged: list[str] = Field(default_factory=list)


def disable_inactive(graph: Graph, audit: AuditTrail, rules: AccountRules, now: datetime, *,
                     origin: str = ACCOUNTS_ORIGIN) -> list[str]:
    """Disable every account past its role's period of inactivity at ``now``; their ids."""
    done: list[str] = []
    cutoffs = inactivity_cutoffs(rules, now)
    while True:
        batch = lifecycle.inactive_accounts(graph, cutoffs, limit=_BATCH)
        progressed = False
        for account in batch:
            extra = {"inactivity_days": rules.inactivity_days(account.role),
                     "last_use": _last_use_text(account)}
            try:
                lifecycle.disable_account(
                    graph, account.user_id, reason=lifecycle.INACTIVE, by=SYSTEM_ACTOR.user_id,
                    now=now, before_commit=lambda change, extra=extra: audit.append_many(
                        account_changed(origin, SYSTEM_ACTOR, change, extra)))
            except Exception:  # noqa: BLE001 — one account's failure must not keep the others
                log.exception("disabling inactive account %s failed", account.user_id)
                continue
            done.append(account.user_id)
            progressed = True
        if len(batch) < _BATCH or not progressed:
            return done


def _last_use_text(account: lifecycle.AccountUse) -> str | None:
    last = rules_fr.last_use(account.created_at, account.last_used_at)
    return last.isoformat() if last else None


def open_review_if_due(graph: Graph, audit: AuditTrail, rules: AccountRules, now: datetime, *,
                       opened_by: str = SYSTEM_ACTOR.user_id,
                       origin: str = ACCOUNTS_ORIGIN) -> reviews.AccessReview | None:
    latest = reviews.latest_review(graph)
    if not review_due(rules, latest.opened_at if latest else None, now):
        return None
    return open_review(graph, audit, rules, now, opened_by=opened_by, origin=origin)


def open_review(graph: Graph, audit: AuditTrail, rules: AccountRules, now: datetime, *,
                opened_by: str, origin: str = ACCOUNTS_ORIGIN,
                actor: Actor = SYSTEM_ACTOR) -> reviews.AccessReview:
    return reviews.open_review(
        graph, now=now, due_at=now + rules.review.deadline, opened_by=opened_by,
        reviewer_role=rules.review.reviewer_role.value, message=rules_fr.review_opened_fr,
        before_commit=lambda r: audit.append(access_review_event(
            origin, actor, event="access_review_opened", review_id=r.review_id,
            details={"accounts": r.accounts, "due_at": r.due_at.isoformat()})))


def flag_overdue(graph: Graph, audit: AuditTrail, rules: AccountRules, now: datetime, *,
                 origin: str = ACCOUNTS_ORIGIN) -> list[reviews.AccessReview]:
    return reviews.flag_overdue(
        graph, now=now, notify_role=rules.review.notify_role.value,
        message=rules_fr.review_overdue_fr,
        before_commit=lambda flagged: audit.append_many([access_review_event(
            origin, SYSTEM_ACTOR, event="access_review_overdue", review_id=r.review_id,
            details={"pending": r.pending, "due_at": r.due_at.isoformat()}) for r in flagged]))


def run_accounts_job(graph: Graph, audit: AuditTrail, rules: AccountRules, now: datetime, *,
                     origin: str = ACCOUNTS_ORIGIN) -> AccountsReport:
    report = AccountsReport(disabled=disable_inactive(graph, audit, rules, now, origin=origin))
    opened = open_review_if_due(graph, audit, rules, now, origin=origin)
    report.review_opened = opened.review_id if opened else None
    report.reviews_flagged = [r.review_id for r in flag_overdue(graph, audit, rules, now,
                                                                 origin=origin)]
    if report.disabled or opened or report.reviews_flagged:
        log.info("accounts: %d disabled for inactivity, review opened %s, flagged %s",
                 len(report.disabled), report.review_opened, report.reviews_flagged)
    return report
