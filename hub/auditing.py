"""The hub's calls into the audit trail: one function per Art. 25 operation the API performs.
Each appends (fsync) before the caller acts or answers, so nothing is disclosed unlogged."""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from graph.identity import Principal
from hub.deps import actor_of
from policies.audit import AuditTrail
from policies.audit.models import (
    AuditAction,
    AuditEntry,
    AuditEvent,
    Decision,
    DecisionOutcome,
)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


async def log_collection(request: Request, audit: AuditTrail, caller: Principal, connector_id: str,
                         lead_ids: list[str]) -> AuditEntry:
    return await run_in_threadpool(audit.append, AuditEvent(
        action=AuditAction.COLLECTION, actor=actor_of(caller), lead_ids=lead_ids,
        client_address=_client(request), connector_id=connector_id,
        decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id="ingest-connector-own-agency"),
        details={"count": len(lead_ids)},
    ))


async def log_consultation(request: Request, audit: AuditTrail, caller: Principal, *,
                           justification: str, outcome: str, rule_id: str,
                           lead_ids: list[str], entity_keys: list[str] | None = None,
                           details: dict[str, int | str] | None = None) -> AuditEntry:
    return await run_in_threadpool(audit.append, AuditEvent(
        action=AuditAction.CONSULTATION, actor=actor_of(caller), lead_ids=lead_ids,
        entity_keys=entity_keys or [], client_address=_client(request),
        decision=Decision(outcome=DecisionOutcome(outcome), rule_id=rule_id),
        justification=justification, details=details or {},
    ))
