"""The audit events of federation between CROSS hubs (hub/federation/, ADR 0024) — apart from
events.py, whose size this would pass. What each step is under Art. 25, and why:

* a **query sent** (the querier's round, per peer) is a *combination*: this hub's identifiers are
  cross-referenced with a peer's, blinded; logged with the counts by kind — never a value — and
  the local leads behind each claim sent;
* an **evaluation answered** (the holder) is a *combination* too, of nothing the holder can read:
  the peer and the count (refused past the quota: ``deny``); no personal data;
* a **claim confirmed** is a *disclosure* to the claimant CROSS — that this hub holds the
  identifier, whom to call — graded ``hit``, with the ticket and the local leads behind it; a
  claim **refused** is a *combination* ``deny`` naming the local leads a scope kept back (none
  when the token matched nothing);
* a **ticket received** (the claimant stores the holder's answer) is a *combination* of the peer's
  answer with the local leads behind the claim;
* a ticket **answered** (holder, by a person) and a status **received** (claimant) are
  *alterations* of the ticket.

The hub acts on its own in the round and at the peer-facing routes: system actor, origin
``crosshub:federation`` (the antenna-authenticated peer is named in ``recipients`` or
``details``).
"""

from __future__ import annotations

from graph.federation import TicketRecord
from hub.audit.events import Details, _event, system_event
from policies.audit import MAX_IDS, SYSTEM_ACTOR, Actor, AuditAction, AuditEvent, DecisionOutcome

ORIGIN = "crosshub:federation"
RULE_ROUND = "federation-round"
RULE_QUOTA = "federation-quota"
RULE_SCOPE = "federation-scope"
RULE_ANSWER = "federation-ticket-answer"
JUSTIFICATION = "Rapprochement fédéré entre CROSS : signalement confirmé au CROSS demandeur"


def _peer_key(peer: str) -> str:
    return f"federation:{peer}"


def query_sent(peer: str, *, evaluated: dict[str, int], claimed: dict[str, int],
               lead_ids: list[str], tickets: int, refused: int, error: str | None) -> AuditEvent:
    details: Details = {"event": "federation_query", "peer": peer, "tickets": tickets,
                        "refused": refused}
    for kind, n in sorted(evaluated.items()):
        details[f"evaluated_{kind}"] = n
    for kind, n in sorted(claimed.items()):
        details[f"claimed_{kind}"] = n
    if error:
        details["error"] = error
    return system_event(AuditAction.COMBINATION, origin=ORIGIN, rule_id=RULE_ROUND,
                        lead_ids=sorted(set(lead_ids))[:MAX_IDS], entity_keys=[_peer_key(peer)],
                        outcome=DecisionOutcome.DENY if error else DecisionOutcome.ALLOW,
                        details=details)


def evaluation_answered(peer: str, count: int, *, allowed: bool, used: int,
                        limit: int) -> AuditEvent:
    return _event(AuditAction.COMBINATION, SYSTEM_ACTOR, ORIGIN,
                  DecisionOutcome.ALLOW if allowed else DecisionOutcome.DENY, RULE_QUOTA,
                  entity_keys=[_peer_key(peer)], personal_data=False,
                  details={"event": "federation_evaluation", "peer": peer, "count": count,
                           "used_today": used, "quota": limit})


def claim_confirmed(ticket: TicketRecord, *, created: bool) -> AuditEvent:
    return system_event(AuditAction.DISCLOSURE, origin=ORIGIN, rule_id=RULE_SCOPE,
                        lead_ids=ticket.lead_ids, entity_keys=[f"federation-ticket:{ticket.ticket_id}"],
                        justification=JUSTIFICATION, recipients=[ticket.peer],
                        outcome=DecisionOutcome.HIT,
                        details={"event": "federation_claim_confirmed", "peer": ticket.peer,
                                 "ticket_id": ticket.ticket_id, "kind": ticket.kind,
                                 "new_ticket": created, "handling_code": ticket.handling_code})


def claims_refused(peer: str, count: int, lead_ids: list[str]) -> AuditEvent:
    return system_event(AuditAction.COMBINATION, origin=ORIGIN, rule_id=RULE_SCOPE,
                        lead_ids=sorted(set(lead_ids)), entity_keys=[_peer_key(peer)],
                        outcome=DecisionOutcome.DENY,
                        details={"event": "federation_claims_refused", "peer": peer,
                                 "count": count})


def ticket_received(ticket: TicketRecord, *, created: bool) -> AuditEvent:
    return system_event(AuditAction.COMBINATION, origin=ORIGIN, rule_id=RULE_ROUND,
                        lead_ids=ticket.lead_ids,
                        entity_keys=[f"federation-ticket:{ticket.ticket_id}"],
                        details={"event": "federation_ticket_received", "peer": ticket.peer,
                                 "ticket_id": ticket.ticket_id, "kind": ticket.kind,
                                 "new_ticket": created, "handling_code": ticket.handling_code,
                                 "due_at": ticket.due_at.isoformat()})


def ticket_answered(ticket: TicketRecord, actor: Actor | None, client: str | None) -> AuditEvent:
    """A status set on the ticket: by a person of the holder (``actor``), or received from the
    holder through the antenna (system)."""
    details: Details = {"event": "federation_ticket_status", "peer": ticket.peer,
                        "ticket_id": ticket.ticket_id, "status": ticket.status.value,
                        "side": ticket.side.value}
    return _event(AuditAction.ALTERATION, actor or SYSTEM_ACTOR, client or ORIGIN,
                  DecisionOutcome.ALLOW, RULE_ANSWER, lead_ids=ticket.lead_ids,
                  entity_keys=[f"federation-ticket:{ticket.ticket_id}"], details=details)
