"""Federation tickets shown where local hits show (issue 16, item 5): the notes of a lead sheet
and an entity sheet, and their French wording (also used by the watch signals of
hub/jobs/federation_watches.py and the web page « Fédération »).

Who may see a note is decided before wording it: the lead read adds notes only to a lead the
caller reads at full or redacted level (a hit is a ``Hit``, never a ``LeadView``), and drops a
ticket whose identifier lies in a linked field that level withholds (a graded release without
the vehicles does not learn that a plate of the lead is held elsewhere); the entity read asks
graph/federation/reads.py for the tickets behind leads the caller reads.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from graph.federation import TicketRecord, TicketSide
from graph.federation.reads import LINK_FIELD, is_overdue
from graph.models import FederationNote
from policies.federation import FederationRules

PARIS = ZoneInfo("Europe/Paris")
STATUS_FR = {"open": "en attente de réponse", "answered": "répondu",
             "released": "information communiquée", "declined": "communication refusée"}
OVERDUE_FR = "en retard"


def when_fr(value: datetime) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def peer_name(rules: FederationRules, peer: str) -> str:
    member = rules.member(peer)
    return member.name if member else peer


def peer_short(peer: str) -> str:
    """``cross-39`` → « CROSS 39 »."""
    return "CROSS " + peer.removeprefix("cross-") if peer.startswith("cross-") else peer


def status_fr(ticket: TicketRecord, now: datetime) -> str:
    return OVERDUE_FR if is_overdue(ticket, now) else STATUS_FR.get(ticket.status.value, "")


def sentence_fr(ticket: TicketRecord, rules: FederationRules) -> str:
    """« Aussi détenu par CROSS du Jura — contactez … — réponse attendue avant le … » (we
    claimed), « CROSS du Jura détient aussi cet identifiant et attend votre réponse avant le … »
    (we hold)."""
    name, due = peer_name(rules, ticket.peer), when_fr(ticket.due_at)
    if ticket.side is TicketSide.CLAIMANT:
        return f"Aussi détenu par {name} — contactez {ticket.desk} — réponse attendue avant le {due}"
    return f"{name} détient aussi cet identifiant et attend votre réponse avant le {due}"


def note_of(ticket: TicketRecord, rules: FederationRules, now: datetime) -> FederationNote:
    return FederationNote(
        ticket_id=ticket.ticket_id, side=ticket.side.value, peer=ticket.peer,
        peer_name=peer_name(rules, ticket.peer), kind=ticket.kind, desk=ticket.desk,
        due_at=ticket.due_at, status=ticket.status.value, overdue=is_overdue(ticket, now),
        created_at=ticket.created_at,
        text=sentence_fr(ticket, rules), status_fr=status_fr(ticket, now))


def lead_notes(tickets: list[TicketRecord], withheld: list[str], rules: FederationRules,
               now: datetime) -> list[FederationNote]:
    """Notes of a lead read at full or redacted level; ``withheld``: the fields its level
    withholds (``LeadView.redacted``)."""
    return [note_of(t, rules, now) for t in tickets if LINK_FIELD[t.kind] not in withheld]


def entity_notes(tickets: list[TicketRecord], rules: FederationRules,
                 now: datetime) -> list[FederationNote]:
    return [note_of(t, rules, now) for t in tickets]


KIND_FR = {"plate": "Plaque", "phone": "Téléphone"}
SIDE_FR = {"claimant": "Nous avons demandé", "holder": "Demandé par le CROSS pair"}


def overdue_fr(ticket: TicketRecord) -> str:
    """An open ticket past its deadline, as a decision to take: « réponse de CROSS 39 attendue
    depuis le … » (we claimed), « notre réponse à CROSS 70 est en retard (attendue le …) »."""
    due = when_fr(ticket.due_at)
    if ticket.side is TicketSide.CLAIMANT:
        return f"réponse de {peer_short(ticket.peer)} attendue depuis le {due}"
    return f"notre réponse à {peer_short(ticket.peer)} est en retard (attendue le {due})"
