"""The triage queue of freshly written leads: ingest marks each written lead
(``graph.leads.TRIAGE_PENDING``); a triage worker claims a batch, oldest first, per connector,
and clears the mark (and its claim) once ``triage.after_ingest`` has run on them.

A claim (``triage_claimed_by``, ``triage_claimed_until`` on the lead, graph server's clock) lets
two hub processes drain the queue side by side without triaging a lead twice; a worker that dies
mid-batch leaves claims that lapse after ``CLAIM_TTL_S``, and the next claim takes those leads.
"""

from __future__ import annotations

import neo4j

from graph.handle import Graph
from graph.leads import TRIAGE_PENDING

# Long enough for a full batch (seconds in practice): a claim that lapses mid-batch lets another
# worker triage the same leads. Short enough that a dead worker's leads wait minutes, not hours.
CLAIM_TTL_S = 120.0

_UNCLAIMED = "(l.triage_claimed_until IS NULL OR l.triage_claimed_until <= {now})"


def pending_triage(graph: Graph, limit: int = 2000) -> dict[str | None, list[str]]:
    """Leads written but not yet triaged (graph.leads.TRIAGE_PENDING), oldest first, grouped by
    the connector that pushed them (claimed or not: a view, not a claim)."""
    records = graph.query(
        f"MATCH (l:{TRIAGE_PENDING}) WITH l ORDER BY l.updated_at LIMIT $limit "
        "RETURN l.pushed_by AS connector, collect(l.lead_id) AS ids",
        limit=limit, read_=True,
    )
    return {r["connector"]: r["ids"] for r in records}


def claim_pending(graph: Graph, claimant: str, limit: int = 2000,
                  ttl_s: float = CLAIM_TTL_S) -> dict[str | None, list[str]]:
    """Claim up to ``limit`` pending leads nobody holds (unclaimed, or whose claim lapsed), oldest
    first, for ``claimant`` (unique per claim), grouped by connector; one write transaction.

    Two statements: the first picks candidates; the second takes each lead's write lock *before*
    reading its claim again (sorted, so two claimers lock in one order), so of two claimers
    racing for a lead exactly one gets it."""

    def work(tx: neo4j.ManagedTransaction) -> dict[str | None, list[str]]:
        ids = [r["id"] for r in tx.run(
            f"MATCH (l:{TRIAGE_PENDING}) WHERE {_UNCLAIMED.format(now='datetime()')} "
            "WITH l ORDER BY l.updated_at LIMIT $limit RETURN l.lead_id AS id", limit=limit)]
        if not ids:
            return {}
        records = tx.run(
            "UNWIND $ids AS id MATCH (l:Lead {lead_id: id}) "
            "SET l._lock = true "
            "WITH l, datetime() AS now "
            f"WITH l, now, l:{TRIAGE_PENDING} AND {_UNCLAIMED.format(now='now')} AS free "
            "FOREACH (_ IN CASE WHEN free THEN [1] ELSE [] END | "
            "  SET l.triage_claimed_by = $claimant, "
            "      l.triage_claimed_until = now + duration({milliseconds: $ttl_ms})) "
            "REMOVE l._lock "
            "WITH l, free WHERE free "
            "RETURN l.pushed_by AS connector, collect(l.lead_id) AS ids",
            ids=sorted(ids), claimant=claimant, ttl_ms=max(1, round(ttl_s * 1000)))
        return {r["connector"]: r["ids"] for r in records}

    return graph.write(work)


def triage_done(graph: Graph, lead_ids: list[str]) -> None:
    graph.query(
        f"UNWIND $ids AS id MATCH (l:Lead {{lead_id: id}}) "
        f"REMOVE l:{TRIAGE_PENDING}, l.triage_claimed_by, l.triage_claimed_until",
        ids=lead_ids,
    )
