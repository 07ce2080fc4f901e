"""Audit calls for what leaves the hub or changes in it outside ingest: disclosures (a meeting
brief, an export — Art. 25: justification and recipients), alterations (meetings, actions) and
erasures (the retention purge). One function per operation, like hub/auditing.py; the API's
calls append before answering, so nothing is disclosed unlogged.

``system_event`` builds the events the hub itself performs (scheduled briefs, the purge), for
callers without a request.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from graph.identity import Principal
from hub.deps import actor_of
from policies.audit import AuditTrail
from policies.audit.models import (
    SYSTEM_ACTOR,
    Actor,
    AuditAction,
    AuditEntry,
    AuditEvent,
    Decision,
    DecisionOutcome,
)

# An audit event holds at most this many ids (policies/audit/models.py).
MAX_IDS = 50_000


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


async def log_disclosure(request: Request, audit: AuditTrail, caller: Principal, *,
                         justification: str, outcome: str, rule_id: str, lead_ids: list[str],
                         entity_keys: list[str], recipients: list[str],
                         details: dict[str, int | str | bool | None] | None = None) -> AuditEntry:
    return await run_in_threadpool(audit.append, AuditEvent(
        action=AuditAction.DISCLOSURE, actor=actor_of(caller), lead_ids=lead_ids[:MAX_IDS],
        entity_keys=entity_keys[:MAX_IDS], client_address=_client(request),
        decision=Decision(outcome=DecisionOutcome(outcome), rule_id=rule_id),
        justification=justification, recipients=recipients, details=details or {},
    ))


async def log_alteration(request: Request, audit: AuditTrail, caller: Principal, *, rule_id: str,
                         lead_ids: list[str], entity_keys: list[str], personal_data: bool = True,
                         details: dict[str, int | str | bool | None] | None = None) -> AuditEntry:
    return await run_in_threadpool(audit.append, AuditEvent(
        action=AuditAction.ALTERATION, actor=actor_of(caller), lead_ids=lead_ids[:MAX_IDS],
        entity_keys=entity_keys[:MAX_IDS], client_address=_client(request),
        decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=rule_id),
        personal_data=personal_data, details=details or {},
    ))


def system_event(action: AuditAction, *, origin: str, rule_id: str, lead_ids: list[str],
                 entity_keys: list[str], justification: str | None = None,
                 recipients: list[str] | None = None, outcome: DecisionOutcome = DecisionOutcome.ALLOW,
                 actor: Actor = SYSTEM_ACTOR,
                 details: dict[str, int | str | bool | None] | None = None) -> AuditEvent:
    """An event the hub performs on its own (``origin``: "cli", "scheduler"...)."""
    return AuditEvent(
        action=action, actor=actor, lead_ids=lead_ids[:MAX_IDS], entity_keys=entity_keys[:MAX_IDS],
        client_address=origin, decision=Decision(outcome=outcome, rule_id=rule_id),
        justification=justification, recipients=recipients or [], details=details or {},
    )
