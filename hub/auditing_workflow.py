"""The audit events of the lead workflow (triage, lifecycle, link alerts, operations and
deconfliction), one builder per step. Builders return an ``AuditEvent``; writes append it from
the graph's ``before_commit`` callback, inside the transaction, so a step the trail could not
record is rolled back. Reads append before answering.

Which Art. 25 operation each step is, and why:

* the **triage** of fresh leads (score, duplicates, link alerts) is a *combination*: leads of
  several agencies are cross-referenced; done by the hub for the pushing connector;
* a **status change** is an *alteration* of the lead's processing state, attributed to the
  person; a change refused because the caller is not a party to the lead is logged ``deny``
  (self-monitoring of probing);
* reading a lead's **triage**, its **history**, the **link alerts**, the agency's **operations**
  or its **deconfliction alerts** is a *consultation* of personal data (pseudonyms, plates,
  notes), justified; the **triage queue** lists lead ids, kinds and scores only: a consultation
  logged without personal data;
* **registering an operation** is a *collection* (its targets enter the hub); the clashes it
  raises are a *combination* of two agencies' operations, whose recipients are both agencies;
* **acknowledging** a deconfliction alert is an *alteration* of the alert.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from graph.identity import Principal
from graph.workflow import (
    AfterIngestReport,
    DeconflictionAlertRecord,
    OperationRecord,
    StatusResult,
)
from hub.deps import actor_of
from policies.audit import AuditTrail
from policies.audit.models import (
    Actor,
    AuditAction,
    AuditEvent,
    Decision,
    DecisionOutcome,
)

# Rule ids of the workflow's own decisions (the policy's rule ids name read decisions).
RULE_TRIAGE = "triage-after-ingest"
RULE_LIFECYCLE = "lifecycle-transition"
RULE_LIFECYCLE_REFUSED = "lifecycle-not-a-party"
RULE_OPERATION = "operation-own-agency"
RULE_DECONFLICTION = "deconfliction-clash"
RULE_ACKNOWLEDGE = "deconfliction-acknowledge"


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


# --- builders -----------------------------------------------------------------------------------


def triage_combination(client: str | None, actor: Actor, connector_id: str | None,
                       report: AfterIngestReport) -> AuditEvent | None:
    """For ``after_ingest(..., before_commit=...)`` (the hub's triage worker, acting as itself);
    None when nothing was scored (nothing combined)."""
    if not report.scored:
        return None
    return AuditEvent(
        action=AuditAction.COMBINATION, actor=actor, lead_ids=sorted(report.scores),
        entity_keys=sorted({f"{a.entity_kind}:{a.entity_key}" for a in report.link_alerts}),
        client_address=client, connector_id=connector_id,
        decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE_TRIAGE),
        recipients=sorted({ag for a in report.link_alerts for ag in a.agencies}),
        details={"scored": report.scored, "duplicates_flagged": len(report.duplicates),
                 "link_alerts": len(report.link_alerts)},
    )


def status_changed(client: str | None, caller: Principal, result: StatusResult) -> AuditEvent:
    c = result.change
    return AuditEvent(
        action=AuditAction.ALTERATION, actor=actor_of(caller), lead_ids=[result.lead_id],
        client_address=client,
        decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE_LIFECYCLE),
        details={"step": "status_change", "from_state": c.from_state.value if c.from_state else None,
                 "to_state": c.to_state.value, "seq": c.seq, "as": c.by, "outcome": c.outcome,
                 "reason": c.reason, "assignee_agency": c.assignee_agency, "unit": c.unit},
    )


def status_refused(client: str | None, caller: Principal, lead_id: str, to_state: str,
                   message: str) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.ALTERATION, actor=actor_of(caller), lead_ids=[lead_id],
        client_address=client,
        decision=Decision(outcome=DecisionOutcome.DENY, rule_id=RULE_LIFECYCLE_REFUSED),
        details={"step": "status_change_refused", "to_state": to_state, "message": message[:300]},
    )


def operation_registered(client: str | None, caller: Principal, op: OperationRecord) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.COLLECTION, actor=actor_of(caller), client_address=client,
        entity_keys=[f"operation:{op.operation_id}", *op.targets],
        decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE_OPERATION),
        details={"step": "operation_registered", "operation_id": op.operation_id, "kind": op.kind.value,
                 "insee_code": op.place.insee_code},
    )


def clashes_found(client: str | None, caller: Principal, op: OperationRecord,
                  alerts: list[DeconflictionAlertRecord]) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.COMBINATION, actor=actor_of(caller), client_address=client,
        entity_keys=sorted({f"deconfliction:{a.alert_id}" for a in alerts}
                           | {f"operation:{i}" for a in alerts for i in a.operation_ids}
                           | {t for a in alerts for t in a.shared_targets}),
        decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE_DECONFLICTION),
        recipients=sorted({ag for a in alerts for ag in a.agencies}),
        details={"step": "deconfliction_alerts", "operation_id": op.operation_id, "alerts": len(alerts)},
    )


def alert_acknowledged(client: str | None, caller: Principal, alert: DeconflictionAlertRecord) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.ALTERATION, actor=actor_of(caller), client_address=client,
        entity_keys=[f"deconfliction:{alert.alert_id}"],
        decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE_ACKNOWLEDGE),
        details={"step": "deconfliction_acknowledged", "status": alert.status},
    )


# --- consultations (appended before answering) --------------------------------------------------


async def log_consultation(request: Request, audit: AuditTrail, caller: Principal, *,
                           outcome: str, rule_id: str, justification: str | None,
                           lead_ids: list[str] | None = None, entity_keys: list[str] | None = None,
                           personal_data: bool = True,
                           details: dict[str, int | str | bool | None] | None = None) -> None:
    """One consultation; nothing is logged when nothing was shown (no lead, no entity)."""
    if not (lead_ids or entity_keys):
        return
    await run_in_threadpool(audit.append, AuditEvent(
        action=AuditAction.CONSULTATION, actor=actor_of(caller), lead_ids=lead_ids or [],
        entity_keys=entity_keys or [], client_address=client_of(request),
        decision=Decision(outcome=DecisionOutcome(outcome), rule_id=rule_id),
        personal_data=personal_data, justification=justification, details=details or {},
    ))
