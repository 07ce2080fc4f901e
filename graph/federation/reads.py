"""Federation tickets where local hits show (issue 16, item 5 "In the product"): the reads the
lead sheet, the entity sheet, the watchlists, the weekly brief and the meeting agenda make of
``FederationTicket`` nodes (written by graph/federation/tickets.py).

Each read says who may see what it returns:

* ``tickets_of_lead`` — the tickets a lead is behind; the caller (hub/routers/leads.py) shows
  them only with a lead it reads at full or redacted level;
* ``entity_tickets`` — the tickets on a Vehicle/Phone, kept only when the caller reads (full or
  redacted, the generic level of ``AccessFilter.case_expression``) some lead behind the ticket:
  a ticket says what its leads mention, so a hit-level caller learns nothing of it;
* ``watches_on_keys`` — the active key watches following an entity (``vehicle:AB-123-CD``);
* ``federation_week`` — one agency's tickets opened in a window and its overdue open ones (both
  sides), in the caller's transaction (the agenda's read) or on its own (the brief).

Wording is not here: the hub words notes and notifications, templates word the brief.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import neo4j
from pydantic import BaseModel, Field

from graph.access import AccessFilter
from graph.federation.models import TicketRecord, TicketSide, TicketStatus
from graph.handle import Graph
from graph.labels import Label
from graph.records import plain, utc

_T = Label.FEDERATION_TICKET.value
_FIELDS = ("ticket_id", "side", "peer", "kind", "entity_key", "lead_ids", "agencies",
           "handling_code", "desk", "due_at", "status", "created_at", "answered_at", "message")
# A ticket's identifier kind and the graph's entity kind a watch key names (ADR 0024).
WATCH_KIND = {"plate": "vehicle", "phone": "phone"}
ENTITY_KIND = {v: k for k, v in WATCH_KIND.items()}
# The lead's linked field that holds the identifier: a level withholding it withholds the ticket.
LINK_FIELD = {"plate": "vehicles", "phone": "phones"}


def _record(props: dict[str, Any]) -> TicketRecord:
    p = plain(props)
    return TicketRecord(**{k: p.get(k) for k in _FIELDS if p.get(k) is not None})


def is_overdue(ticket: TicketRecord | TicketLine, now: datetime) -> bool:
    """An open ticket past its follow-up deadline."""
    return ticket.status is TicketStatus.OPEN and ticket.due_at < now


def tickets_of_lead(graph: Graph, lead_id: str, *, limit: int = 50) -> list[TicketRecord]:
    """The tickets ``lead_id`` is behind (both sides), newest first."""
    rows = graph.query(
        f"MATCH (t:{_T}) WHERE $lead_id IN t.lead_ids "
        f"RETURN t {{.*}} AS t ORDER BY t.created_at DESC, t.ticket_id LIMIT $limit",
        lead_id=lead_id, limit=limit, read_=True)
    return [_record(r["t"]) for r in rows]


def entity_tickets(graph: Graph, kind: str, key: str, access: AccessFilter, *,
                   limit: int = 50) -> list[TicketRecord]:
    """The tickets on entity ``kind``/``key`` (ticket kinds: plate, phone) some lead behind
    which the caller reads at full or redacted level, newest first."""
    rows = graph.query(
        f"MATCH (t:{_T}) WHERE t.kind = $kind AND t.entity_key = $key "
        f"AND EXISTS {{ MATCH (l:{Label.LEAD.value}) WHERE l.lead_id IN t.lead_ids "
        f"  AND l.version > 0 AND {access.case_expression} IN $fed_visible }} "
        f"RETURN t {{.*}} AS t ORDER BY t.created_at DESC, t.ticket_id LIMIT $limit",
        kind=kind, key=key, fed_visible=access.visible_levels(), limit=limit,
        **access.params, read_=True)
    return [_record(r["t"]) for r in rows]


class KeyWatch(BaseModel):
    """An active key watch on an entity a ticket opened on."""

    watch_id: str
    user_id: str
    label: str
    justification: str
    match_key: str


def watches_on_keys(graph: Graph, match_keys: list[str]) -> list[KeyWatch]:
    """The active watches following these keys (one seek each on ``Watch.match_key``, which
    only active key watches carry)."""
    if not match_keys:
        return []
    rows = graph.query(
        f"UNWIND $keys AS k MATCH (w:{Label.WATCH.value} {{match_key: k}}) "
        "RETURN w.watch_id AS watch_id, w.user_id AS user_id, w.label AS label, "
        "w.justification AS justification, k AS match_key ORDER BY watch_id",
        keys=sorted(set(match_keys)), read_=True)
    return [KeyWatch(**r.data()) for r in rows]


class TicketLine(BaseModel):
    """A ticket as a brief or an agenda lists it: no identifier, no lead id."""

    ticket_id: str
    side: TicketSide
    peer: str
    kind: str
    desk: str
    handling_code: str
    due_at: datetime
    status: TicketStatus
    overdue: bool
    created_at: datetime


class FederationWeek(BaseModel):
    """One agency's federation tickets for a brief or an agenda: those opened in the window,
    and the open ones past their deadline (whenever opened) — a decision is due on them."""

    opened: list[TicketLine] = Field(default_factory=list)
    overdue: list[TicketLine] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.opened or self.overdue)


def _line(props: dict[str, Any], now: datetime) -> TicketLine:
    t = _record(props)
    return TicketLine(ticket_id=t.ticket_id, side=t.side, peer=t.peer, kind=t.kind, desk=t.desk,
                      handling_code=t.handling_code, due_at=t.due_at, status=t.status,
                      overdue=is_overdue(t, now), created_at=t.created_at)


def federation_week_tx(tx: neo4j.ManagedTransaction, agency: str, since: datetime,
                       until: datetime, now: datetime, *, limit: int = 200) -> FederationWeek:
    """``FederationWeek`` of ``agency`` (tickets some lead of the agency is behind)."""
    opened = tx.run(
        f"MATCH (t:{_T}) WHERE $agency IN t.agencies AND t.created_at >= $since "
        f"AND t.created_at < $until "
        f"RETURN t {{.*}} AS t ORDER BY t.peer, t.created_at, t.ticket_id LIMIT $limit",
        agency=agency, since=utc(since), until=utc(until), limit=limit).data()
    overdue = tx.run(
        f"MATCH (t:{_T}) WHERE $agency IN t.agencies AND t.status = $open AND t.due_at < $now "
        f"RETURN t {{.*}} AS t ORDER BY t.due_at, t.ticket_id LIMIT $limit",
        agency=agency, open=TicketStatus.OPEN.value, now=utc(now), limit=limit).data()
    return FederationWeek(opened=[_line(r["t"], now) for r in opened],
                          overdue=[_line(r["t"], now) for r in overdue])


def federation_week(graph: Graph, agency: str, since: datetime, until: datetime,
                    now: datetime) -> FederationWeek:
    return graph.read(lambda tx: federation_week_tx(tx, agency, since, until, now))


__all__ = ["ENTITY_KIND", "LINK_FIELD", "WATCH_KIND", "FederationWeek", "KeyWatch",
           "TicketLine", "TicketSide", "entity_tickets", "federation_week", "federation_week_tx",
           "is_overdue", "tickets_of_lead", "watches_on_keys"]
