"""The agenda read: every section of a meeting's agenda as one participant may see it, and the
graph of the window's leads they read (the link chart's input), in one read transaction.

"New in the window" means reported in it, or reported earlier but ingested in it (a late
arrival is new to the CROSS); the window runs from the end of the département's previous meeting.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import neo4j

from graph.access import HIT, AccessFilter
from graph.access import shown as public_level
from graph.handle import Graph
from graph.identity import Principal
from graph.meetings._common import (
    CHART_RELS,
    ENTITY_PROPS,
    AgendaContext,
    entity_identity,
)
from graph.dossiers import overdue_dossiers
from graph.federation.reads import federation_week_tx
from graph.meetings.actions import agenda_actions
from graph.meetings.models import Agenda, Meeting, WeekGraph
from graph.meetings.seizures import week_seizures
from graph.meetings.sections import (
    cross_agency_links,
    deconfliction_alerts,
    hotspots,
    new_leads,
    pending_disclosures,
    trend,
    triage_backlog,
)
from graph.meetings.weekmap import week_map
from graph.models import NetworkEdge, NetworkNode
from graph.records import native, utc

_PARIS = ZoneInfo("Europe/Paris")  # a task is overdue from the day after its due date, in France
# How far back "new since the last meeting" reaches when meetings were skipped.
MAX_CATCH_UP = timedelta(weeks=4)


def _window_start(tx: neo4j.ManagedTransaction, meeting: Meeting) -> datetime:
    """New since the last meeting: from the end of the previous meeting of the département
    (at most ``MAX_CATCH_UP`` back), else from the start of this meeting's week."""
    record = tx.run(
        "MATCH (m:Meeting) WHERE m.departement = $dept AND m.starts_at < $starts "
        "RETURN m.ends_at AS ends ORDER BY m.starts_at DESC LIMIT 1",
        dept=meeting.departement, starts=utc(meeting.starts_at),
    ).single()
    start = meeting.starts_at
    if record and record["ends"] is not None:
        prev_end = native(record["ends"])
        if prev_end < start:
            start = max(prev_end, start - MAX_CATCH_UP)
    return start


def build_agenda(graph: Graph, meeting: Meeting, participant: Principal,
                 access: AccessFilter, *, include_unlocated: bool = False,
                 now: datetime | None = None) -> tuple[Agenda, WeekGraph]:
    """The meeting's agenda as ``participant`` may see it (through ``access``), and the graph of
    the window's leads they read (for the link chart). One read transaction.

    ``include_unlocated``: leads without a location belong to this CROSS (the hub's own
    département)."""
    now = now or datetime.now(UTC)

    def work(tx: neo4j.ManagedTransaction) -> tuple[Agenda, WeekGraph]:
        ctx = AgendaContext(meeting=meeting, departement=meeting.departement,
                            include_unlocated=include_unlocated,
                            window_start=_window_start(tx, meeting), window_end=meeting.ends_at,
                            participant=participant, access=access, now=now)
        links, links_total = cross_agency_links(tx, ctx)
        moves = hotspots(tx, ctx)
        agenda = Agenda(
            meeting=meeting, participant_user_id=participant.user_id,
            participant_agency=participant.agency, participant_role=participant.role,
            window_start=ctx.window_start, window_end=ctx.window_end, generated_at=now,
            policy_id=access.policy_id,
            new_leads=new_leads(tx, ctx),
            cross_agency_links=links, cross_agency_links_total=links_total,
            pending_disclosures=pending_disclosures(tx, ctx),
            deconfliction_alerts=deconfliction_alerts(tx, ctx),
            triage=triage_backlog(tx, ctx),
            hotspots=moves,
            actions_due=agenda_actions(tx, ctx, decided_here=False),
            actions_decided=agenda_actions(tx, ctx, decided_here=True),
            trend=trend(tx, ctx),
            seizures=week_seizures(tx, ctx),
            week_map=week_map(tx, ctx, moves),
            dossiers_overdue=overdue_dossiers(tx, participant.user_id, access, now.astimezone(_PARIS).date()),
            federation=federation_week_tx(tx, participant.agency, ctx.window_start,
                                          ctx.window_end, now),
        )
        return agenda, _week_graph(tx, ctx)

    return graph.read(work)


def _week_graph(tx: neo4j.ManagedTransaction, ctx: AgendaContext) -> WeekGraph:
    """The window's leads the participant reads, and the vehicles, persons, phones and deal
    points they mention."""
    rows = tx.run(
        ctx.window_leads()
        + f"WITH l, access WHERE access <> '{HIT}' "
        f"OPTIONAL MATCH (l)-[r:{CHART_RELS}]->(ent) "
        "RETURN l.lead_id AS lead_id, l.agency AS agency, l.kind AS kind, l.handling_code AS hc, access, "
        "collect(CASE WHEN ent IS NULL THEN null "
        f"  ELSE {{labels: labels(ent), props: {ENTITY_PROPS}, type: type(r)}} END) AS links",
        ctx.params(),
    ).data()
    nodes: dict[str, NetworkNode] = {}
    edges: list[NetworkEdge] = []
    for r in rows:
        lead_node = f"lead:{r['lead_id']}"
        nodes[lead_node] = NetworkNode(id=lead_node, kind="lead", key=r["lead_id"],
                                       label=f"{r['kind']} — {r['agency']}",
                                       properties={"agency": r["agency"], "kind": r["kind"],
                                                   "handling_code": r["hc"], "access": public_level(r["access"])})
        for link in r["links"]:
            kind, key, shown = entity_identity(link["labels"], link["props"])
            node_id = f"{kind}:{key}"
            nodes.setdefault(node_id, NetworkNode(id=node_id, kind=kind, key=key, label=shown))
            edges.append(NetworkEdge(source=lead_node, target=node_id, type=link["type"],
                                     agency=r["agency"], lead_id=r["lead_id"]))
    return WeekGraph(nodes=list(nodes.values()), edges=edges)
