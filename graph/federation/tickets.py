"""Federation tickets: one per (side, peer, kind, entity key) — the holder's record of a
confirmed claim, and the claimant's copy of the holder's answer.

``ticket_key`` = ``side|peer|kind|key`` is the MERGE key (uniqueness constraint), so a repeated
claim — in the same round, a later round or another epoch — finds the existing ticket; the
``ticket_id`` is the holder's (drawn here on the holder's side, copied on the claimant's).
The entity key stays local: it is never sent, and a ticket is never linked from a lead or an
entity (analysis reads never traverse it). ``agencies`` are the agencies of the local leads
behind the ticket: who may list it.

``open_ticket`` runs as one explicit write transaction: the ticket, the notifications of a new
ticket (graph/grants/notifications.py) and the audit append (``before_commit``) commit together
or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import neo4j

from graph.access import AccessFilter
from graph.federation.models import TicketDraft, TicketRecord, TicketSide, TicketStatus
from graph.grants.notifications import Notice, notify_many
from graph.handle import Graph
from graph.labels import Label
from graph.read import level_params
from graph.records import plain, utc
from hub.contract.errors import NotFound

_T = Label.FEDERATION_TICKET.value
_FIELDS = ("ticket_id", "side", "peer", "kind", "entity_key", "lead_ids", "agencies",
           "handling_code", "desk", "due_at", "status", "created_at", "answered_at", "message")


def ticket_key(side: TicketSide | str, peer: str, kind: str, entity_key: str) -> str:
    return f"{TicketSide(side).value}|{peer}|{kind}|{entity_key}"


def new_ticket_id() -> str:
    return f"fed-{uuid.uuid4().hex}"  # hub/federation/wire.py TicketId


def _record(props: dict[str, Any]) -> TicketRecord:
    p = plain(props)
    return TicketRecord(**{k: p.get(k) for k in _FIELDS if p.get(k) is not None})


def open_ticket(
    graph: Graph, draft: TicketDraft, now: datetime, *,
    notices_for: Callable[[TicketRecord], list[Notice]] | None = None,
    before_commit: Callable[[TicketRecord, bool], None] | None = None,
) -> tuple[TicketRecord, bool]:
    """The ticket for the draft's (side, peer, kind, key): created (with its notifications)
    when none exists, else the existing one unchanged. Returns (ticket, created)."""
    creation = uuid.uuid4().hex
    props = {
        "ticket_id": draft.ticket_id or new_ticket_id(), "side": draft.side.value,
        "peer": draft.peer, "kind": draft.kind, "entity_key": draft.entity_key,
        "lead_ids": sorted(set(draft.lead_ids)), "agencies": sorted(set(draft.agencies)),
        "handling_code": draft.handling_code, "desk": draft.desk, "due_at": utc(draft.due_at),
        "status": TicketStatus.OPEN.value, "created_at": utc(now), "creation": creation,
        "claim_id": draft.claim_id,
    }

    def work(tx: neo4j.Transaction) -> tuple[TicketRecord, bool]:
        record = tx.run(
            f"MERGE (t:{_T} {{ticket_key: $key}}) ON CREATE SET t += $props "
            f"RETURN t {{.*}} AS t",
            key=ticket_key(draft.side, draft.peer, draft.kind, draft.entity_key),
            props=props).single()
        ticket = _record(record["t"])
        created = record["t"].get("creation") == creation
        if created and notices_for is not None:
            notify_many(tx, notices_for(ticket), now)
        if before_commit is not None:
            before_commit(ticket, created)
        return ticket, created

    return graph.write_once(work)


def get_ticket(graph: Graph, ticket_id: str, side: TicketSide) -> TicketRecord | None:
    records = graph.query(f"MATCH (t:{_T} {{ticket_id: $id}}) WHERE t.side = $side "
                          f"RETURN t {{.*}} AS t", id=ticket_id, side=side.value, read_=True)
    return _record(records[0]["t"]) if records else None


def list_tickets(graph: Graph, agency: str, *, limit: int = 500) -> list[TicketRecord]:
    """The tickets some lead of ``agency`` is behind, newest first (both sides)."""
    records = graph.query(
        f"MATCH (t:{_T}) WHERE $agency IN t.agencies "
        f"RETURN t {{.*}} AS t ORDER BY t.created_at DESC, t.ticket_id LIMIT $limit",
        agency=agency, limit=limit, read_=True)
    return [_record(r["t"]) for r in records]


def tickets_since(graph: Graph, since: datetime, *, limit: int = 5000) -> list[TicketRecord]:
    """Tickets created at or after ``since`` (both sides), oldest first: briefs and digests."""
    records = graph.query(
        f"MATCH (t:{_T}) WHERE t.created_at >= $since "
        f"RETURN t {{.*}} AS t ORDER BY t.created_at, t.ticket_id LIMIT $limit",
        since=utc(since), limit=limit, read_=True)
    return [_record(r["t"]) for r in records]


def set_ticket_status(
    graph: Graph, ticket_id: str, side: TicketSide, status: TicketStatus, at: datetime, *,
    peer: str | None = None, message: str | None = None,
    notices_for: Callable[[TicketRecord], list[Notice]] | None = None,
    before_commit: Callable[[TicketRecord], None] | None = None,
) -> TicketRecord:
    """Record an answer on a ticket (``peer``: the ticket must be with that peer — a status a
    holder reports only moves the claimant's copy of *its* ticket). ``NotFound`` alike when the
    ticket does not exist and when it is another peer's."""

    def work(tx: neo4j.Transaction) -> TicketRecord:
        record = tx.run(
            f"MATCH (t:{_T} {{ticket_id: $id}}) WHERE t.side = $side "
            f"  AND ($peer IS NULL OR t.peer = $peer) "
            f"SET t.status = $status, t.answered_at = coalesce(t.answered_at, $at), "
            f"  t.status_at = $at, t.message = coalesce($message, t.message) "
            f"RETURN t {{.*}} AS t",
            id=ticket_id, side=side.value, peer=peer, status=status.value, at=utc(at),
            message=message).single()
        if record is None:
            raise NotFound(f"ticket de fédération inconnu : {ticket_id}")
        ticket = _record(record["t"])
        if notices_for is not None:
            notify_many(tx, notices_for(ticket), at)
        if before_commit is not None:
            before_commit(ticket)
        return ticket

    return graph.write_once(work)


def readable_lead_ids(graph: Graph, lead_ids: list[str], access: AccessFilter) -> set[str]:
    """Which of these lead ids the caller may *read* (a level above hit) through their compiled
    ``access``: the only leads a ticket list may name to them."""
    ids = sorted(set(lead_ids))
    if not ids:
        return set()
    records = graph.query(
        f"UNWIND $ids AS id MATCH (l:{Label.LEAD.value} {{lead_id: id}}) WHERE l.version > 0 "
        f"WITH l, {access.case_expression} AS access WHERE access IN $an_visible "
        f"RETURN l.lead_id AS lead_id", {"ids": ids, **level_params(access)}, read_=True)
    return {r["lead_id"] for r in records}
