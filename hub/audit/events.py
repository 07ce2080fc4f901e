"""The audit events of everything the hub does — one builder per operation, and the helpers that
append the API's consultations, collections, disclosures and alterations before it answers.

Builders return a ``policies.audit.AuditEvent``. A write appends it from the graph's
``before_commit`` callback, inside the transaction, so a step the trail could not record is rolled
back; a read appends before answering (``log_*``), so nothing is disclosed unlogged. Events the
hub performs on its own (scheduled briefs, the retention purge, expiries, triage) carry the
system actor (or the hub's own identity) and an origin instead of a client address.

Which Art. 25 operation each step is, and why:

* **ingest** is a *collection*, attributed to the pushing connector;
* reading a lead, an entity, an analysis, a meeting's agenda, a lead's **triage** or **history**,
  the **link alerts**, the agency's **operations** or its **deconfliction alerts** is a
  *consultation* of personal data (pseudonyms, plates, notes), justified; the **triage queue**
  lists lead ids, kinds and scores only: a consultation logged without personal data. Nothing is
  logged when nothing was shown (no lead, no entity);
* a meeting **brief** or an **export** is a *disclosure* to its recipients, justified;
* editing a meeting or its actions is an *alteration*; the retention **purge** an *erasure*;
* the **triage** of fresh leads (score, duplicates, link alerts) is a *combination*: leads of
  several agencies are cross-referenced; done by the hub for the pushing connector;
* a **status change** is an *alteration* of the lead's processing state, attributed to the
  person; a change refused because the caller is not a party to the lead is logged ``deny``
  (self-monitoring of probing);
* **registering an operation** is a *collection* (its targets enter the hub); the clashes it
  raises are a *combination* of two agencies' operations, whose recipients are both agencies;
  **acknowledging** a deconfliction alert is an *alteration* of the alert;
* a disclosure **request** is a *consultation* graded ``hit`` (or the requester's current
  level): the only thing it processes is what the guard looked up — that the lead exists and
  which agency holds it — and no content moves to anyone until the owner approves. Logging it
  as a disclosure would record a communication that has not happened (and may never), and an
  auditor counting disclosures would be misled. A request refused because the requester may
  not know of the lead is logged the same way with outcome ``none``;
* an **approval** is the *disclosure*: the owner communicates a named lead to a named
  recipient; the justification is the requester's, the approver is the actor; a **decline** is
  an *alteration* (of the request's state), outcome ``deny``: nothing is communicated;
* a **guest grant** is a *disclosure* to the grantee of the leads and entities it covers,
  justified by the chief's reason; a **revocation** and an **expiry** are *alterations* that end
  a disclosure; an expiry is done by the hub itself (system actor).

Logins, logouts and revocations are not processing of personal data: action ``authentication``
about an account (and a session), ``personal_data=False``, ``details.event`` naming what happened
(login_success, login_failure, login_throttled, logout, session_revoked, user_revoked_all).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from graph.grants import (
    DisclosureMessage,
    DisclosureRequestRecord,
    ExpiredGrant,
    GuestGrantRecord,
)
from graph.identity import Principal
from graph.workflow import (
    AfterIngestReport,
    DeconflictionAlertRecord,
    LeadClashRecord,
    OperationRecord,
    StatusResult,
)
from hub.audit.records import AuditEntry
from hub.audit.trail import AuditTrail
from policies.audit import (
    MAX_IDS,
    SYSTEM_ACTOR,
    Actor,
    AuditAction,
    AuditEvent,
    Decision,
    DecisionOutcome,
)
from policies.models import Decision as PolicyDecision

# Rule ids of the hub's own decisions (the policy's rule ids name read decisions).
RULE_INGEST = "ingest-connector-own-agency"
RULE_TRIAGE = "triage-after-ingest"
RULE_LIFECYCLE = "lifecycle-transition"
RULE_LIFECYCLE_REFUSED = "lifecycle-not-a-party"
RULE_OPERATION = "operation-own-agency"
RULE_DECONFLICTION = "deconfliction-clash"
RULE_ACKNOWLEDGE = "deconfliction-acknowledge"
RULE_LEAD_CLASH = "deconfliction-lead-clash"
RULE_OWNER_APPROVAL = "disclosure-owner-approval"
RULE_OWNER_DECLINE = "disclosure-owner-decline"
RULE_GUEST_GRANT = "guest-grant-by-coordinator"
RULE_GUEST_REVOKE = "guest-grant-revoked-by-coordinator"
RULE_EXPIRY = "grant-expiry"
RULE_ESCALATION = "disclosure-deadline-escalation"
RULE_THREAD = "disclosure-thread-party"
RULE_UNKNOWN_LEAD = "lead-unknown"

# Where an expiry run by the hub's own schedule comes from (AuditEvent requires an origin).
SCHEDULER_ORIGIN = "crosshub:expiration-planifiee"

Details = dict[str, int | str | bool | None]


def actor_of(principal: Principal) -> Actor:
    """Who acted, as the trail names them: a person, or a connector."""
    return Actor(kind="connector" if principal.role == "connector" else "user",
                 user_id=principal.user_id, name=principal.name, agency=principal.agency,
                 role=principal.role)


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def _event(action: AuditAction, actor: Actor, client: str | None, outcome: str | DecisionOutcome,
           rule_id: str, **fields: object) -> AuditEvent:
    return AuditEvent(action=action, actor=actor, client_address=client,
                      decision=Decision(outcome=DecisionOutcome(outcome), rule_id=rule_id),
                      **fields)


# --- the API's reads and direct operations (appended before answering) ----------------------------


async def log_collection(request: Request, audit: AuditTrail, caller: Principal, connector_id: str,
                         lead_ids: list[str], entered_by: str | None = None) -> AuditEntry:
    """``entered_by``: the person who entered the leads through the intake connector (ADR 0014)."""
    details: Details = {"count": len(lead_ids)}
    if entered_by is not None:
        details["entered_by"] = entered_by
    return await run_in_threadpool(audit.append, _event(
        AuditAction.COLLECTION, actor_of(caller), client_of(request), DecisionOutcome.ALLOW,
        RULE_INGEST, lead_ids=lead_ids, connector_id=connector_id, details=details,
    ))


async def log_consultation(request: Request, audit: AuditTrail, caller: Principal, *,
                           outcome: str, rule_id: str, justification: str | None,
                           lead_ids: list[str] | None = None, entity_keys: list[str] | None = None,
                           personal_data: bool = True,
                           details: Details | None = None) -> AuditEntry | None:
    """One consultation; nothing is logged when nothing was shown (no lead, no entity)."""
    if not (lead_ids or entity_keys):
        return None
    return await run_in_threadpool(audit.append, _event(
        AuditAction.CONSULTATION, actor_of(caller), client_of(request), outcome, rule_id,
        lead_ids=lead_ids or [], entity_keys=entity_keys or [], personal_data=personal_data,
        justification=justification, details=details or {},
    ))


async def log_disclosure(request: Request, audit: AuditTrail, caller: Principal, *,
                         justification: str, outcome: str, rule_id: str, lead_ids: list[str],
                         entity_keys: list[str], recipients: list[str],
                         details: Details | None = None) -> AuditEntry:
    return await run_in_threadpool(audit.append, _event(
        AuditAction.DISCLOSURE, actor_of(caller), client_of(request), outcome, rule_id,
        lead_ids=lead_ids[:MAX_IDS], entity_keys=entity_keys[:MAX_IDS],
        justification=justification, recipients=recipients, details=details or {},
    ))


async def log_alteration(request: Request, audit: AuditTrail, caller: Principal, *, rule_id: str,
                         lead_ids: list[str], entity_keys: list[str], personal_data: bool = True,
                         details: Details | None = None) -> AuditEntry:
    return await run_in_threadpool(audit.append, _event(
        AuditAction.ALTERATION, actor_of(caller), client_of(request), DecisionOutcome.ALLOW,
        rule_id, lead_ids=lead_ids[:MAX_IDS], entity_keys=entity_keys[:MAX_IDS],
        personal_data=personal_data, details=details or {},
    ))


def authentication(client: str | None, actor: Actor, *, event: str, outcome: DecisionOutcome,
                   rule_id: str, user_id: str, session_id: str | None = None,
                   details: Details | None = None) -> AuditEvent:
    """A login (success, failure, throttled), a logout or a revocation (hub/routers/auth.py)."""
    keys = [f"user:{user_id}"] + ([f"session:{session_id}"] if session_id else [])
    return _event(AuditAction.AUTHENTICATION, actor, client, outcome, rule_id, entity_keys=keys,
                  personal_data=False, details={"event": event, **(details or {})})


# --- the hub on its own ---------------------------------------------------------------------------


def system_event(action: AuditAction, *, origin: str, rule_id: str, lead_ids: list[str],
                 entity_keys: list[str], justification: str | None = None,
                 recipients: list[str] | None = None, outcome: DecisionOutcome = DecisionOutcome.ALLOW,
                 actor: Actor = SYSTEM_ACTOR, details: Details | None = None) -> AuditEvent:
    """An event the hub performs on its own (``origin``: "cli", "scheduler"...)."""
    return _event(action, actor, origin, outcome, rule_id, lead_ids=lead_ids[:MAX_IDS],
                  entity_keys=entity_keys[:MAX_IDS], justification=justification,
                  recipients=recipients or [], details=details or {})


def grants_expired(expired: list[ExpiredGrant], origin: str = SCHEDULER_ORIGIN,
                   triggered_by: str | None = None) -> list[AuditEvent]:
    """One event per grant the hub ended at its term."""
    return [
        system_event(AuditAction.ALTERATION, origin=origin, rule_id=RULE_EXPIRY,
                     lead_ids=g.lead_ids, entity_keys=g.entity_keys, recipients=[g.user_id],
                     details={"step": f"{g.kind}_grant_expiry", "grant_id": g.grant_id,
                              "valid_until": g.valid_until.isoformat(),
                              "triggered_by": triggered_by})
        for g in expired
    ]


def triage_combination(client: str | None, actor: Actor, connector_id: str | None,
                       report: AfterIngestReport) -> AuditEvent | None:
    """For ``after_ingest(..., before_commit=...)`` (the hub's triage worker, acting as itself);
    None when nothing was scored (nothing combined)."""
    if not report.scored:
        return None
    return _event(
        AuditAction.COMBINATION, actor, client, DecisionOutcome.ALLOW, RULE_TRIAGE,
        lead_ids=sorted(report.scores),
        entity_keys=sorted({f"{a.entity_kind}:{a.entity_key}" for a in report.link_alerts}),
        connector_id=connector_id,
        recipients=sorted({ag for a in report.link_alerts for ag in a.agencies}),
        details={"scored": report.scored, "duplicates_flagged": len(report.duplicates),
                 "link_alerts": len(report.link_alerts)},
    )


# --- the lead workflow: lifecycle, operations and deconfliction ----------------------------------


def status_changed(client: str | None, caller: Principal, result: StatusResult) -> AuditEvent:
    c = result.change
    return _event(
        AuditAction.ALTERATION, actor_of(caller), client, DecisionOutcome.ALLOW, RULE_LIFECYCLE,
        lead_ids=[result.lead_id],
        details={"step": "status_change", "from_state": c.from_state.value if c.from_state else None,
                 "to_state": c.to_state.value, "seq": c.seq, "as": c.by, "outcome": c.outcome,
                 "reason": c.reason, "assignee_agency": c.assignee_agency, "unit": c.unit},
    )


def status_refused(client: str | None, caller: Principal, lead_id: str, to_state: str,
                   message: str) -> AuditEvent:
    return _event(
        AuditAction.ALTERATION, actor_of(caller), client, DecisionOutcome.DENY,
        RULE_LIFECYCLE_REFUSED, lead_ids=[lead_id],
        details={"step": "status_change_refused", "to_state": to_state, "message": message[:300]},
    )


def operation_registered(client: str | None, caller: Principal, op: OperationRecord) -> AuditEvent:
    return _event(
        AuditAction.COLLECTION, actor_of(caller), client, DecisionOutcome.ALLOW, RULE_OPERATION,
        entity_keys=[f"operation:{op.operation_id}", *op.targets],
        details={"step": "operation_registered", "operation_id": op.operation_id, "kind": op.kind.value,
                 "insee_code": op.place.insee_code},
    )


def clashes_found(client: str | None, caller: Principal, op: OperationRecord,
                  alerts: list[DeconflictionAlertRecord]) -> AuditEvent:
    return _event(
        AuditAction.COMBINATION, actor_of(caller), client, DecisionOutcome.ALLOW, RULE_DECONFLICTION,
        entity_keys=sorted({f"deconfliction:{a.alert_id}" for a in alerts}
                           | {f"operation:{i}" for a in alerts for i in a.operation_ids}
                           | {t for a in alerts for t in a.shared_targets}),
        recipients=sorted({ag for a in alerts for ag in a.agencies}),
        details={"step": "deconfliction_alerts", "operation_id": op.operation_id, "alerts": len(alerts)},
    )


def lead_clashes_found(connector_id: str | None, records: list[LeadClashRecord]) -> AuditEvent:
    """A *combination* by the hub's triage worker (system actor): fresh leads cross-referenced
    with other agencies' operations (ADR 0017). Recipients: the owners alerted, and the leads'
    agencies told « contactez … » where the owner opted in."""
    return _event(
        AuditAction.COMBINATION, SYSTEM_ACTOR, None, DecisionOutcome.ALLOW, RULE_LEAD_CLASH,
        lead_ids=sorted({r.lead_id for r in records})[:MAX_IDS],
        entity_keys=sorted({f"deconfliction:{r.alert_id}" for r in records}
                           | {f"operation:{r.operation_id}" for r in records}
                           | {t for r in records for t in r.shared_targets})[:MAX_IDS],
        connector_id=connector_id or "hub",
        recipients=sorted({r.owner_agency for r in records}
                          | {r.lead_agency for r in records if r.author_told}),
        details={"step": "lead_clashes", "alerts": len(records),
                 "authors_told": sum(r.author_told for r in records)},
    )


def lead_clash_acknowledged(client: str | None, caller: Principal, alert: LeadClashRecord) -> AuditEvent:
    return _event(
        AuditAction.ALTERATION, actor_of(caller), client, DecisionOutcome.ALLOW, RULE_ACKNOWLEDGE,
        entity_keys=[f"deconfliction:{alert.alert_id}", f"operation:{alert.operation_id}"],
        details={"step": "lead_clash_acknowledged", "status": alert.status},
    )


def alert_acknowledged(client: str | None, caller: Principal, alert: DeconflictionAlertRecord) -> AuditEvent:
    return _event(
        AuditAction.ALTERATION, actor_of(caller), client, DecisionOutcome.ALLOW, RULE_ACKNOWLEDGE,
        entity_keys=[f"deconfliction:{alert.alert_id}"],
        details={"step": "deconfliction_acknowledged", "status": alert.status},
    )


# --- the grant workflow: disclosure requests and guest grants ------------------------------------


def disclosure_requested(client: str | None, caller: Principal, record: DisclosureRequestRecord,
                         decision: PolicyDecision) -> AuditEvent:
    return _event(
        AuditAction.CONSULTATION, actor_of(caller), client, decision.outcome.value, decision.rule_id,
        lead_ids=[record.lead_id], justification=record.justification,
        details={"step": "disclosure_request", "request_id": record.request_id,
                 "owner_agency": record.owner_agency},
    )


def disclosure_request_refused(client: str | None, caller: Principal, lead_id: str,
                               justification: str, outcome: str, rule_id: str) -> AuditEvent:
    """A request refused before anything was recorded: for a lead the caller may not know of
    or that does not exist (outcome ``none``, the caller gets a 404 — the trail keeps the
    attempt, for self-monitoring of probing), or one no disclosure could open further (the
    caller's current level, and the rule that caps it, which the answer quotes)."""
    return _event(
        AuditAction.CONSULTATION, actor_of(caller), client, outcome, rule_id, lead_ids=[lead_id],
        justification=justification, details={"step": "disclosure_request_refused"},
    )


def disclosure_approved(client: str | None, approver: Principal,
                        record: DisclosureRequestRecord) -> AuditEvent:
    return _event(
        AuditAction.DISCLOSURE, actor_of(approver), client, DecisionOutcome.ALLOW,
        RULE_OWNER_APPROVAL, lead_ids=[record.lead_id], justification=record.justification,
        recipients=[record.requester_user_id],
        details={"step": "disclosure_approval", "request_id": record.request_id,
                 "owner_agency": record.owner_agency,
                 "valid_until": record.valid_until.isoformat() if record.valid_until else None,
                 "reason": record.decision_reason,
                 # A graded release: the property groups communicated (None: every group).
                 "released_groups": (",".join(record.released_groups)
                                     if record.released_groups is not None else None)},
    )


def disclosures_escalated(records: list[DisclosureRequestRecord],
                          origin: str = SCHEDULER_ORIGIN) -> list[AuditEvent]:
    """One event per request the hub escalated to the CROSS coordinators at its deadline."""
    return [
        system_event(AuditAction.ALTERATION, origin=origin, rule_id=RULE_ESCALATION,
                     lead_ids=[r.lead_id], entity_keys=[], recipients=["role:coordinator"],
                     details={"step": "disclosure_escalation", "request_id": r.request_id,
                              "owner_agency": r.owner_agency,
                              "due_at": r.due_at.isoformat() if r.due_at else None})
        for r in records
    ]


def disclosure_message_posted(client: str | None, author: Principal, record: DisclosureRequestRecord,
                              message: DisclosureMessage) -> AuditEvent:
    """A message in a request's thread: who wrote, on which side, how long (the text stays in
    the graph with the request, not in the trail)."""
    return _event(
        AuditAction.ALTERATION, actor_of(author), client, DecisionOutcome.ALLOW, RULE_THREAD,
        lead_ids=[record.lead_id],
        details={"step": "disclosure_message", "request_id": record.request_id,
                 "message_id": message.message_id, "side": message.side,
                 "length": len(message.text)},
    )


def disclosure_declined(client: str | None, decider: Principal,
                        record: DisclosureRequestRecord) -> AuditEvent:
    return _event(
        AuditAction.ALTERATION, actor_of(decider), client, DecisionOutcome.DENY, RULE_OWNER_DECLINE,
        lead_ids=[record.lead_id],
        details={"step": "disclosure_decline", "request_id": record.request_id,
                 "requester_user_id": record.requester_user_id, "reason": record.decision_reason},
    )


def guest_grant_created(client: str | None, coordinator: Principal,
                        grant: GuestGrantRecord) -> AuditEvent:
    return _event(
        AuditAction.DISCLOSURE, actor_of(coordinator), client, DecisionOutcome.ALLOW,
        RULE_GUEST_GRANT, lead_ids=grant.lead_ids, entity_keys=grant.entity_keys,
        justification=grant.reason, recipients=[grant.grantee_user_id],
        details={"step": "guest_grant", "grant_id": grant.grant_id,
                 "valid_from": grant.valid_from.isoformat(),
                 "valid_until": grant.valid_until.isoformat()},
    )


def guest_grant_revoked(client: str | None, coordinator: Principal,
                        grant: GuestGrantRecord) -> AuditEvent:
    return _event(
        AuditAction.ALTERATION, actor_of(coordinator), client, DecisionOutcome.ALLOW,
        RULE_GUEST_REVOKE, lead_ids=grant.lead_ids, entity_keys=grant.entity_keys,
        recipients=[grant.grantee_user_id],
        details={"step": "guest_grant_revocation", "grant_id": grant.grant_id,
                 "reason": grant.revoke_reason},
    )
