"""« Partagé avec d'autres CROSS » in a participant's brief (hub/brief/sections.py, issue 16):
the federation tickets behind the leads of the participant's agency — those opened in the
meeting's week (per peer CROSS: kind, desk, due date, status) and the open ones past their
deadline on either side, listed as needing a decision. None (no section) when there is none.

Only the agency's own tickets (``FederationTicket.agencies``: the agencies of the local leads
behind it), never the identifier: the ticket id leads to it in the hub, for whoever may read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graph.access import AccessFilter
from graph.federation import reads as fed_reads
from graph.handle import Graph
from hub.federation import notes
from policies.federation import strictest_code


@dataclass(frozen=True)
class TicketRow:
    ticket_id: str
    peer: str  # « CROSS 39 »
    side: str
    kind: str
    desk: str
    due: str
    status: str
    overdue: bool
    decision: str = ""  # what is late, for the overdue list
    claimant: bool = True  # we asked: ``desk`` is the holder's, whom to call


@dataclass
class FederationSection:
    opened: list[TicketRow] = field(default_factory=list)
    overdue: list[TicketRow] = field(default_factory=list)
    handling_code: str = "H0"  # the strictest code of the tickets listed: the brief's marking


def row_of(ticket: fed_reads.TicketLine, now: datetime) -> TicketRow:
    return TicketRow(
        ticket_id=ticket.ticket_id, peer=notes.peer_short(ticket.peer),
        side=notes.SIDE_FR[ticket.side.value],
        kind=notes.KIND_FR.get(ticket.kind, ticket.kind), desk=ticket.desk,
        due=notes.when_fr(ticket.due_at), status=notes.status_fr(ticket, now),
        overdue=ticket.overdue, decision=notes.overdue_fr(ticket) if ticket.overdue else "",
        claimant=ticket.side.value == "claimant")


def section_of(week: fed_reads.FederationWeek, now: datetime) -> FederationSection | None:
    if week.is_empty():
        return None
    codes = [t.handling_code for t in (*week.opened, *week.overdue)]
    return FederationSection(opened=[row_of(t, now) for t in week.opened],
                             overdue=[row_of(t, now) for t in week.overdue],
                             handling_code=strictest_code(codes).value)


def brief_section(graph: Graph, meeting: Any, participant: Any, access: AccessFilter,
                  now: datetime) -> FederationSection | None:
    week = fed_reads.federation_week(graph, participant.agency, meeting.starts_at,
                                     min(meeting.ends_at, now), now)
    return section_of(week, now)
