"""The hub's side of federation (ADR 0024): what both roles share — the context a federation
call runs in, the transport the querier and the answering holder speak through, the tokens of
this hub's own identifiers, and the French notices of tickets. The holder's steps are in
``holder.py``, the querier's round in ``querier.py``; all Cypher is graph/federation/, every
rule policies/federation.py and policies/federation_reach.py.

``FederationContext`` is built once per app from the settings (``context_for``): this hub's
CROSS id, its per-epoch OPRF keys (``keys_dir/federation``), its Ed25519 federation signing key
(filters) and the federation directory (peers' signing keys: a filter is kept only if its
holder signed it; the antenna's key: a peer-facing route answers only antenna-signed calls).

``PeerTransport`` is how the querier reaches a holder and a holder reports a ticket's status:
the HTTP one goes through the antenna (hub/federation/client.py, mutual TLS and signed
requests); tests may plug in a transport that calls another hub's peer routes directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from graph.federation import FederableEntity, TicketRecord, TicketSide
from graph.grants.models import NotificationKind
from graph.grants.notifications import Notice
from graph.handle import Graph
from hub.audit import AuditTrail
from hub.contract.errors import NotFound
from hub.federation.directory import Directory
from hub.federation.identifiers import federation_input
from hub.federation.oprf import HolderKey, epoch_key, truncate
from hub.federation.wire import (
    ClaimsRequest,
    ClaimsResponse,
    EvaluateRequest,
    EvaluateResponse,
    SignedFilter,
    TicketStatusUpdate,
)
from policies.federation import FederationRules

PARIS = ZoneInfo("Europe/Paris")
# Each kind's French name and the agreement of its participles (« détenue », « détenu »).
KIND_FR = {"plate": ("Plaque", "e"), "phone": ("Numéro de téléphone", "")}


class PeerTransport(Protocol):
    """The calls a hub makes to a peer, through the antenna."""

    def get_filter(self, holder: str) -> SignedFilter: ...

    def evaluate(self, holder: str, request: EvaluateRequest) -> EvaluateResponse: ...

    def claims(self, holder: str, request: ClaimsRequest) -> ClaimsResponse: ...

    def ticket_status(self, ticket_id: str, update: TicketStatusUpdate) -> None: ...


class PeerRefused(Exception):
    """A peer (or the antenna) answered a call with an error: ``status`` and French ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


@dataclass
class FederationContext:
    graph: Graph
    rules: FederationRules
    cross_id: str
    keys_dir: Path
    audit: AuditTrail
    signing_key: Ed25519PrivateKey | None = None
    directory: Directory | None = None
    # Called with the tickets a step created (either side), after they committed: the watch
    # hits of hub/jobs/federation_watches.py in a running hub.
    on_new_tickets: Callable[[list[TicketRecord], datetime], object] | None = None
    # The holder's last token index (hub/federation/holder.py ``TokenIndex``), shared by the
    # filters of all peers for a short while.
    token_index: object | None = None
    _keys: dict[int, HolderKey] = field(default_factory=dict, repr=False)

    def tickets_created(self, tickets: list[TicketRecord], now: datetime) -> None:
        if tickets and self.on_new_tickets is not None:
            self.on_new_tickets(tickets, now)

    def key(self, epoch: int) -> HolderKey:
        """This hub's OPRF key of ``epoch`` (created 0600 on first use), kept in memory."""
        if epoch not in self._keys:
            self._keys = {epoch: epoch_key(self.keys_dir, self.cross_id, epoch)}
        return self._keys[epoch]

    def member(self, peer: str) -> str:
        """``peer`` if it is another member of the federation, else ``NotFound`` (French)."""
        if peer == self.cross_id or self.rules.member(peer) is None:
            raise NotFound(f"CROSS « {peer[:60]} » inconnu de la fédération")
        return peer

    def peers(self) -> list[str]:
        """The other members, of the rules and (when known) of the federation directory: a
        member of the rules the antenna does not know yet is not asked."""
        listed = set(self.directory.members) if self.directory is not None else None
        return sorted(p for p in self.rules.crosses
                      if p != self.cross_id and (listed is None or p in listed))

    def name_of(self, cross_id: str) -> str:
        member = self.rules.member(cross_id)
        return member.name if member else cross_id


def token_hex(key: HolderKey, entity: FederableEntity, token_bytes: int) -> str:
    """This hub's token of one of its own entities, as stored on the entity (hex)."""
    return truncate(key.token(federation_input(entity.kind, entity.key)), token_bytes).hex()


def _due_fr(due: datetime) -> str:
    return due.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def ticket_notices(ctx: FederationContext, ticket: TicketRecord) -> list[Notice]:
    """What the agencies of the local leads behind a new ticket are told, in French. Never the
    identifier's value: the ticket id links to it (the agency may read its own lead)."""
    peer = ctx.name_of(ticket.peer)
    kind, e = KIND_FR.get(ticket.kind, ("Identifiant", ""))
    if ticket.side is TicketSide.CLAIMANT:
        message = (f"{kind} aussi détenu{e} par le {peer} — contactez {ticket.desk} avant le "
                   f"{_due_fr(ticket.due_at)} (ticket {ticket.ticket_id}, code "
                   f"{ticket.handling_code}).")
    else:
        message = (f"{kind} de l'une de vos pistes recherché{e} par le {peer} : rapprochement "
                   f"confirmé, réponse attendue avant le {_due_fr(ticket.due_at)} "
                   f"(ticket {ticket.ticket_id}).")
    payload: dict[str, str | None] = {"ticket_id": ticket.ticket_id, "peer": ticket.peer,
                                      "side": ticket.side.value,
                                      "due_at": ticket.due_at.isoformat()}
    return [(agency, None, NotificationKind.FEDERATION_TICKET, message, payload)
            for agency in ticket.agencies]


def status_notices(ctx: FederationContext, ticket: TicketRecord) -> list[Notice]:
    """The claimant's agencies told of the holder's answer (the holder's message is
    identity-guarded before it is sent)."""
    labels = {"answered": "a répondu", "released": "a communiqué l'information",
              "declined": "a refusé la communication"}
    message = (f"Le {ctx.name_of(ticket.peer)} {labels.get(ticket.status.value, 'a répondu')} "
               f"(ticket {ticket.ticket_id}).")
    if ticket.message:
        message += f" Message : {ticket.message}"
    payload: dict[str, str | None] = {"ticket_id": ticket.ticket_id, "peer": ticket.peer,
                                      "side": ticket.side.value, "status": ticket.status.value}
    return [(agency, None, NotificationKind.FEDERATION_TICKET, message, payload)
            for agency in ticket.agencies]
