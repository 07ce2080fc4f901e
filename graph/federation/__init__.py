"""Federation between CROSS hubs in the graph (issue 16) — the only Cypher of federation: the
federable entities and their per-epoch tokens (``entities``), tickets of confirmed hits on both
sides (``tickets``), the holder's per-peer daily counters and the querier's cursors
(``counters``); records in ``models``. Which lead reaches which peer is policy
(policies/federation.py), asked by the hub (hub/federation/service.py).

Owns three kinds of bookkeeping nodes, never linked from a lead or an entity (analysis reads
never traverse them): ``FederationTicket``, ``FederationQuota``, ``FederationCursor``; and two
properties on Vehicle and Phone: ``fed_token`` (indexed) and ``fed_epoch``.
"""

from __future__ import annotations

from graph.federation.counters import get_cursor, quota_used, set_cursor, take_quota
from graph.federation.entities import (
    KINDS,
    entities_by_key,
    entities_by_token,
    federable_entities,
    set_tokens,
)
from graph.federation.models import (
    FederableEntity,
    FederableKind,
    LeadBehind,
    QuotaTake,
    TicketDraft,
    TicketRecord,
    TicketSide,
    TicketStatus,
    TokenRow,
)
from graph.federation.tickets import (
    get_ticket,
    list_tickets,
    open_ticket,
    readable_lead_ids,
    set_ticket_status,
    ticket_key,
    tickets_since,
)
from graph.labels import Label
from graph.schema import unique_constraint

SCHEMA: list[str] = [
    unique_constraint(Label.FEDERATION_TICKET),
    unique_constraint(Label.FEDERATION_QUOTA),
    unique_constraint(Label.FEDERATION_CURSOR),
    # A status answer finds the ticket by the holder's id.
    "CREATE INDEX federation_ticket_id IF NOT EXISTS FOR (n:FederationTicket) ON (n.ticket_id)",
    "CREATE INDEX federation_ticket_created IF NOT EXISTS "
    "FOR (n:FederationTicket) ON (n.created_at)",
    # Claim confirmation: one seek per token.
    "CREATE INDEX vehicle_fed_token IF NOT EXISTS FOR (n:Vehicle) ON (n.fed_token)",
    "CREATE INDEX phone_fed_token IF NOT EXISTS FOR (n:Phone) ON (n.fed_token)",
    # The querier's "new since": leads received since the last round.
    "CREATE INDEX lead_last_received IF NOT EXISTS FOR (n:Lead) ON (n.last_received_at)",
    # ... and the leads whose embargo ended since the last round.
    "CREATE INDEX lead_embargo_until IF NOT EXISTS FOR (n:Lead) ON (n.embargo_until)",
]

__all__ = [
    "KINDS", "SCHEMA", "FederableEntity", "FederableKind", "LeadBehind", "QuotaTake",
    "TicketDraft", "TicketRecord", "TicketSide", "TicketStatus", "TokenRow", "entities_by_key",
    "entities_by_token", "federable_entities", "get_cursor", "get_ticket", "list_tickets",
    "open_ticket", "quota_used", "readable_lead_ids", "set_cursor", "set_ticket_status", "set_tokens", "take_quota",
    "ticket_key", "tickets_since",
]
