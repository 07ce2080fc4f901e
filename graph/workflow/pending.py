"""The triage queue of freshly written leads: ingest marks each written lead
(``graph.leads.TRIAGE_PENDING``); the triage worker takes them oldest first, per connector, and
clears the mark once ``triage.after_ingest`` has run on them."""

from __future__ import annotations

from graph.handle import Graph
from graph.leads import TRIAGE_PENDING


def pending_triage(graph: Graph, limit: int = 2000) -> dict[str | None, list[str]]:
    """Leads written but not yet triaged (graph.leads.TRIAGE_PENDING), oldest first, grouped by
    the connector that pushed them."""
    records = graph.query(
        f"MATCH (l:{TRIAGE_PENDING}) WITH l ORDER BY l.updated_at LIMIT $limit "
        "RETURN l.pushed_by AS connector, collect(l.lead_id) AS ids",
        limit=limit, read_=True,
    )
    return {r["connector"]: r["ids"] for r in records}


def triage_done(graph: Graph, lead_ids: list[str]) -> None:
    graph.query(
        f"UNWIND $ids AS id MATCH (l:Lead {{lead_id: id}}) REMOVE l:{TRIAGE_PENDING}",
        ids=lead_ids,
    )
