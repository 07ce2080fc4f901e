"""Watch hits of federation tickets (issue 16, item 5): a watch on a plate or a phone is told
when a federation ticket opens on that entity — « partagé avec CROSS 39 » — through the watch
hits' own mechanism (graph/watches ``record_hits``: a ``watch_hit`` notification, the watch's
hit count, outbound signals by hub/jobs/watch_delivery.py).

Who is told is the access engine's decision, watcher by watcher, as for a lead (hub/jobs/
watch_hits.py): a ticket says what the leads behind it mention, so a watcher is told only when
they read one of those leads at full or redacted level, with the identifier's linked field
shown at that level; a hit-level watcher was told of the lead itself and learns nothing of the
ticket. A watch whose owner may no longer hold watches tells nothing (the watch hits' job ends
it). Each told watcher is audited as a disclosure before commit.

``after_tickets`` is what the federation service calls once a ticket is created (either side);
it never raises: a failure is logged and federation goes on.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from fastapi import FastAPI

from graph import grants as graph_grants
from graph import watches as graph_watches
from graph.federation import TicketRecord, TicketSide
from graph.federation import reads as fed_reads
from graph.watches import WatchHit
from hub.audit.events import system_event
from hub.federation.notes import peer_name, peer_short, when_fr
from hub.jobs import watch_delivery
from policies.audit import AuditAction, DecisionOutcome
from policies.engine import decide
from policies.federation import FederationRules
from policies.models import Caller, GuestGrant, Outcome
from policies.watches import standing

log = logging.getLogger("crosshub.federation.watches")

ORIGIN = "crosshub:veilles"
RULE = "watch-federation-hit"
TOLD = (Outcome.FULL, Outcome.REDACTED)


def message_fr(label: str, ticket: TicketRecord, rules: FederationRules) -> str:
    """« Veille « AB-123-CD » : partagé avec CROSS 39 (CROSS du Jura) — … »."""
    head = (f"Veille « {label} » : partagé avec {peer_short(ticket.peer)} "
            f"({peer_name(rules, ticket.peer)})")
    due = when_fr(ticket.due_at)
    if ticket.side is TicketSide.CLAIMANT:
        return f"{head} — contactez {ticket.desk} — réponse attendue avant le {due}."
    return f"{head}, qui attend votre réponse avant le {due}."


def after_tickets(app: FastAPI, tickets: list[TicketRecord], now: datetime) -> int:
    """Tell the watchers of these new tickets' entities; never raises. Returns hits written."""
    try:
        return notify_ticket_watchers(app, tickets, now)
    except Exception:  # noqa: BLE001 — a watch signal must never stop federation
        log.exception("federation watch hits failed for %d ticket(s)", len(tickets))
        return 0


def notify_ticket_watchers(app: FastAPI, tickets: list[TicketRecord], now: datetime) -> int:
    graph, rulebook = app.state.graph, app.state.rulebook
    by_key: dict[str, list[TicketRecord]] = defaultdict(list)
    for ticket in tickets:
        by_key[f"{fed_reads.WATCH_KIND[ticket.kind]}:{ticket.entity_key}"].append(ticket)
    watches = fed_reads.watches_on_keys(graph, list(by_key))
    if not watches:
        return 0
    owners = graph_watches.watch_owners(graph, {w.user_id for w in watches})
    grants = graph_watches.grants_of(graph, owners, now)
    markings = graph_grants.lead_markings(
        graph, sorted({i for t in tickets for i in t.lead_ids}))
    hits: list[WatchHit] = []
    why: dict[str, str] = {}
    for watch in watches:
        owner = owners.get(watch.user_id)
        live = any(isinstance(g, GuestGrant) and g.active_at(now)
                   for g in grants.get(watch.user_id, []))
        if owner is None or standing(rulebook.policy, rulebook.watches, role=owner.role,
                                     disabled=owner.disabled, live_grant=live) is not None:
            continue
        caller = Caller(user_id=owner.user_id, name=owner.name or owner.user_id,
                        agency=owner.agency, role=owner.role)
        for ticket in by_key[watch.match_key]:
            lead_id, level = _read_lead(caller, ticket, markings, grants[watch.user_id],
                                        rulebook.policy, now)
            if lead_id is None:
                continue
            why[watch.watch_id] = watch.justification
            hits.append(WatchHit(
                watch_id=watch.watch_id, user_id=owner.user_id, agency=caller.agency.value,
                lead_id=lead_id, message=message_fr(watch.label, ticket, rulebook.federation),
                payload={"level": level, "lead_id": lead_id, "federation": ticket.side.value,
                         "ticket_id": ticket.ticket_id, "peer": ticket.peer}))
    if not hits:
        return 0
    graph_watches.record_hits(graph, hits, now, before_commit=lambda: _audit(app, hits, why))
    watch_delivery.signal(app, sorted({h.user_id for h in hits}))
    return len(hits)


def _read_lead(caller: Caller, ticket: TicketRecord, markings: dict, grants: list, policy,
               now: datetime) -> tuple[str | None, str]:
    """The first lead behind the ticket the watcher reads at full or redacted level with the
    identifier's field shown, and that level; (None, "") when there is none."""
    field = fed_reads.LINK_FIELD[ticket.kind]
    for lead_id in ticket.lead_ids:
        marking = markings.get(lead_id)
        if marking is None:
            continue
        decision = decide(caller, marking, policy, grants, now=now)
        if decision.outcome in TOLD and field not in decision.hidden_properties:
            return lead_id, decision.outcome.value
    return None, ""


def _audit(app: FastAPI, hits: list[WatchHit], why: dict[str, str]) -> None:
    """One disclosure per watcher and level told: the leads behind, the tickets, the watches'
    justifications."""
    groups: dict[tuple[str, str], list[WatchHit]] = defaultdict(list)
    for hit in hits:
        groups[(hit.user_id, hit.payload["level"] or "")].append(hit)
    for (uid, level), items in sorted(groups.items()):
        app.state.audit.append(system_event(
            AuditAction.DISCLOSURE, origin=ORIGIN, rule_id=RULE,
            lead_ids=sorted({h.lead_id for h in items}),
            entity_keys=sorted({f"watch:{h.watch_id}" for h in items}
                               | {f"federation_ticket:{h.payload['ticket_id']}" for h in items}),
            justification=" | ".join(sorted({why[h.watch_id] for h in items}))[:2000],
            recipients=[uid], outcome=DecisionOutcome(level),
            details={"step": "watch_federation_hit", "notifications": len(items)}))
