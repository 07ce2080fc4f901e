"""The audit events of the grant workflow (guest grants, hit/no-hit disclosure requests,
their end), one builder per step. Builders are plain functions returning an ``AuditEvent``:
the graph calls the hub's ``before_commit`` callback inside its write transaction, and that
callback appends the event, so a step the trail could not record is rolled back.

Which Art. 25 operation each step is, and why:

* a disclosure **request** is a *consultation* graded ``hit`` (or the requester's current
  level): the only thing it processes is what the guard looked up — that the lead exists and
  which agency holds it — and no content moves to anyone until the owner approves. Logging it
  as a disclosure would record a communication that has not happened (and may never), and an
  auditor counting disclosures would be misled. A request refused because the requester may
  not know of the lead is logged the same way with outcome ``none``;
* an **approval** is the *disclosure*: the owner communicates a named lead to a named
  recipient; the justification is the requester's, the approver is the actor;
* a **decline** is an *alteration* (of the request's state), outcome ``deny``: nothing is
  communicated;
* a **guest grant** is a *disclosure* to the grantee of the leads and entities it covers,
  justified by the chief's reason;
* a **revocation** and an **expiry** are *alterations* that end a disclosure; an expiry is
  done by the hub itself (system actor).
"""

from __future__ import annotations

from graph.grants import DisclosureRequestRecord, ExpiredGrant, GuestGrantRecord
from graph.identity import Principal
from hub.deps import actor_of
from policies.audit.models import (
    SYSTEM_ACTOR,
    AuditAction,
    AuditEvent,
    Decision,
    DecisionOutcome,
)
from policies.models import Decision as PolicyDecision

# Rule ids of the workflow's own decisions (the policy's rule ids name read decisions).
RULE_OWNER_APPROVAL = "disclosure-owner-approval"
RULE_OWNER_DECLINE = "disclosure-owner-decline"
RULE_GUEST_GRANT = "guest-grant-by-coordinator"
RULE_GUEST_REVOKE = "guest-grant-revoked-by-coordinator"
RULE_EXPIRY = "grant-expiry"
RULE_UNKNOWN_LEAD = "lead-unknown"

# Where an expiry run by the hub's own schedule comes from (AuditEvent requires an origin).
SCHEDULER_ORIGIN = "crosshub:expiration-planifiee"


def disclosure_requested(client: str | None, caller: Principal, record: DisclosureRequestRecord,
                         decision: PolicyDecision) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.CONSULTATION, actor=actor_of(caller), lead_ids=[record.lead_id],
        client_address=client,
        decision=Decision(outcome=DecisionOutcome(decision.outcome.value), rule_id=decision.rule_id),
        justification=record.justification,
        details={"step": "disclosure_request", "request_id": record.request_id,
                 "owner_agency": record.owner_agency},
    )


def disclosure_request_refused(client: str | None, caller: Principal, lead_id: str,
                               justification: str, outcome: str, rule_id: str) -> AuditEvent:
    """A request refused before anything was recorded: for a lead the caller may not know of
    or that does not exist (outcome ``none``, the caller gets a 404 — the trail keeps the
    attempt, for self-monitoring of probing), or one no disclosure could open further (the
    caller's current level, and the rule that caps it, which the answer quotes)."""
    return AuditEvent(
        action=AuditAction.CONSULTATION, actor=actor_of(caller), lead_ids=[lead_id],
        client_address=client, decision=Decision(outcome=DecisionOutcome(outcome), rule_id=rule_id),
        justification=justification, details={"step": "disclosure_request_refused"},
    )


def disclosure_approved(client: str | None, approver: Principal,
                        record: DisclosureRequestRecord) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.DISCLOSURE, actor=actor_of(approver), lead_ids=[record.lead_id],
        client_address=client,
        decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE_OWNER_APPROVAL),
        justification=record.justification, recipients=[record.requester_user_id],
        details={"step": "disclosure_approval", "request_id": record.request_id,
                 "owner_agency": record.owner_agency,
                 "valid_until": record.valid_until.isoformat() if record.valid_until else None,
                 "reason": record.decision_reason},
    )


def disclosure_declined(client: str | None, decider: Principal,
                        record: DisclosureRequestRecord) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.ALTERATION, actor=actor_of(decider), lead_ids=[record.lead_id],
        client_address=client,
        decision=Decision(outcome=DecisionOutcome.DENY, rule_id=RULE_OWNER_DECLINE),
        details={"step": "disclosure_decline", "request_id": record.request_id,
                 "requester_user_id": record.requester_user_id, "reason": record.decision_reason},
    )


def guest_grant_created(client: str | None, coordinator: Principal,
                        grant: GuestGrantRecord) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.DISCLOSURE, actor=actor_of(coordinator), lead_ids=grant.lead_ids,
        entity_keys=grant.entity_keys, client_address=client,
        decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE_GUEST_GRANT),
        justification=grant.reason, recipients=[grant.grantee_user_id],
        details={"step": "guest_grant", "grant_id": grant.grant_id,
                 "valid_from": grant.valid_from.isoformat(),
                 "valid_until": grant.valid_until.isoformat()},
    )


def guest_grant_revoked(client: str | None, coordinator: Principal,
                        grant: GuestGrantRecord) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.ALTERATION, actor=actor_of(coordinator), lead_ids=grant.lead_ids,
        entity_keys=grant.entity_keys, client_address=client,
        decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE_GUEST_REVOKE),
        recipients=[grant.grantee_user_id],
        details={"step": "guest_grant_revocation", "grant_id": grant.grant_id,
                 "reason": grant.revoke_reason},
    )


def grants_expired(expired: list[ExpiredGrant], origin: str = SCHEDULER_ORIGIN,
                   triggered_by: str | None = None) -> list[AuditEvent]:
    """One event per grant the hub ended at its term."""
    return [
        AuditEvent(
            action=AuditAction.ALTERATION, actor=SYSTEM_ACTOR, lead_ids=g.lead_ids,
            entity_keys=g.entity_keys, client_address=origin,
            decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE_EXPIRY),
            recipients=[g.user_id],
            details={"step": f"{g.kind}_grant_expiry", "grant_id": g.grant_id,
                     "valid_until": g.valid_until.isoformat(), "triggered_by": triggered_by},
        )
        for g in expired
    ]
