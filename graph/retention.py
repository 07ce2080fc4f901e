"""The graph side of retention: reading the facts the retention decision needs, and erasing.

``candidate_facts`` pages through leads reported before a cutoff (keyset pagination on
``(reported_at, lead_id)``, the ``lead_reported_at`` index), yielding only what
``policies.retention.decide`` needs — never content. ``plan_purge`` says, in a read, what erasing
some leads would erase: the leads, their seizures, and the entities that no other lead would
still mention (orphans). ``purge`` erases in one write transaction per call: leads and their
seizures (``DETACH DELETE``), then the candidate entities that are orphans *now* — a vehicle,
person, phone, place or deal point another lead still mentions stays.

The lead's own workflow records (``LeadStatus``, ``StatusChange``: graph/workflow/, keyed by
``lead_id``) go with it. Link alerts, disclosure requests and operations that mention a purged
lead id belong to their modules (they keep no lead content).

Orphan entity kinds: Vehicle, Person (with its ``SAME_AS`` aliases once no alias has a lead),
Phone, Location, DealPoint. Reference vocabulary (Agency, Substance, Commune) is never erased.

Lifecycle properties read (written by the workflow module): ``Lead.status`` (absent = new),
``Lead.outcome``, and the resolution date ``Lead.closed_at`` / ``Lead.dismissed_at`` /
``Lead.status_changed_at`` (the first present).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import neo4j
from pydantic import BaseModel, Field

from graph.handle import Graph
from graph.labels import KEY_PROPERTY, LABEL_KIND, Label
from graph.records import plain
from policies.retention import RetentionFacts

ORPHAN_LABELS = ("Vehicle", "Person", "Phone", "Location", "DealPoint")
_IS_ORPHAN_KIND = " OR ".join(f"ent:{label}" for label in ORPHAN_LABELS)

# Entities the given leads (and their seizures) link to, and the aliases of their persons.
_CANDIDATES = (
    "UNWIND $ids AS id MATCH (l:Lead {lead_id: id}) "
    "CALL (l) { "
    f"  MATCH (l)-->(ent) WHERE {_IS_ORPHAN_KIND} RETURN ent "
    "  UNION "
    f"  MATCH (l)-[:RECORDED]->(:Seizure)-->(ent) WHERE {_IS_ORPHAN_KIND} RETURN ent "
    "  UNION "
    "  MATCH (l)-->(:Person)-[:SAME_AS]-(ent:Person) RETURN ent "
    "} "
    "WITH DISTINCT ent "
)


def _orphan_condition(excluding: bool) -> str:
    """An entity no lead mentions (when ``excluding``: no lead outside ``$ids``)."""
    other = " WHERE NOT o.lead_id IN $ids" if excluding else ""
    return (
        f"NOT EXISTS {{ MATCH (ent)<--(o:Lead){other} }} "
        f"AND NOT EXISTS {{ MATCH (ent)<--(:Seizure)<-[:RECORDED]-(o:Lead){other} }} "
        "AND NOT EXISTS { MATCH (ent)<-[:AT]-(:DealPoint) } "
        f"AND NOT (ent:Person AND EXISTS {{ MATCH (ent)-[:SAME_AS]-(:Person)<--(o:Lead){other} }})"
    )


def _entity_id(labels: list[str], props: dict[str, Any]) -> str:
    label = next((lb for lb in labels if lb in LABEL_KIND), labels[0])
    kind = LABEL_KIND[label]
    return f"{kind.value}:{props.get(KEY_PROPERTY[kind.label])}"


_KEY_PROPS = "ent {.plate, .pseudonym, .number, .key}"


class PurgePlan(BaseModel):
    lead_ids: list[str] = Field(default_factory=list)
    seizure_ids: list[str] = Field(default_factory=list)
    orphan_entities: list[str] = Field(default_factory=list, description="<kind>:<key>")


class PurgeResult(BaseModel):
    leads: int = 0
    seizures: int = 0
    workflow_records: int = 0
    entities: list[str] = Field(default_factory=list)


def candidate_facts(graph: Graph, reported_before: datetime, *,
                    page_size: int = 2000) -> Iterator[list[RetentionFacts]]:
    """Facts of every lead reported before ``reported_before``, a page at a time, oldest first.
    No lead reported after it can be due (every period is at least the shortest one)."""
    cursor_at: datetime | None = None
    cursor_id = ""

    def next_page(tx: neo4j.ManagedTransaction) -> list[neo4j.Record]:
        return list(tx.run(
            "MATCH (l:Lead) WHERE l.reported_at < $before AND l.version > 0 "
            "  AND ($at IS NULL OR l.reported_at > $at OR (l.reported_at = $at AND l.lead_id > $id)) "
            "RETURN l.lead_id AS lead_id, l.agency AS agency, l.kind AS kind, l.status AS status, "
            "  l.outcome AS outcome, l.reported_at AS reported_at, "
            "  coalesce(l.closed_at, l.dismissed_at, l.status_changed_at) AS resolved_at "
            "ORDER BY l.reported_at, l.lead_id LIMIT $limit",
            before=reported_before.astimezone(UTC), at=cursor_at, id=cursor_id, limit=page_size,
        ))

    while True:
        records = graph.read(next_page)
        if not records:
            return
        page = [RetentionFacts(**plain(r.data())) for r in records]
        yield page
        cursor_at, cursor_id = records[-1]["reported_at"], records[-1]["lead_id"]
        if len(records) < page_size:
            return


def plan_purge(graph: Graph, lead_ids: list[str]) -> PurgePlan:
    """What ``purge(lead_ids)`` would erase, read now."""

    def work(tx: neo4j.ManagedTransaction) -> PurgePlan:
        leads = tx.run(
            "UNWIND $ids AS id MATCH (l:Lead {lead_id: id}) "
            "RETURN l.lead_id AS lead_id, [(l)-[:RECORDED]->(s:Seizure) | s.seizure_id] AS seizures",
            ids=lead_ids).data()
        orphans = tx.run(
            _CANDIDATES + f"WHERE {_orphan_condition(excluding=True)} "
            f"RETURN labels(ent) AS labels, {_KEY_PROPS} AS props",
            ids=lead_ids).data()
        return PurgePlan(lead_ids=[r["lead_id"] for r in leads],
                         seizure_ids=[s for r in leads for s in r["seizures"]],
                         orphan_entities=sorted(_entity_id(r["labels"], r["props"]) for r in orphans))

    return graph.read(work)


def purge(graph: Graph, lead_ids: list[str]) -> PurgeResult:
    """Erase these leads, their seizures and the entities left orphaned, in one transaction
    (keep ``lead_ids`` bounded: a few hundred to a few thousand)."""

    def work(tx: neo4j.ManagedTransaction) -> PurgeResult:
        candidates = [r["eid"] for r in tx.run(_CANDIDATES + "RETURN elementId(ent) AS eid", ids=lead_ids)]
        # The lead's workflow records (status and its history, graph/workflow/) share its
        # lifecycle: keyed by lead_id, they go with it.
        workflow = tx.run(
            f"UNWIND $ids AS id MATCH (w) WHERE (w:{Label.LEAD_STATUS.value} OR w:{Label.STATUS_CHANGE.value}) "
            "AND w.lead_id = id DETACH DELETE w RETURN count(*) AS n", ids=lead_ids).single()["n"]
        counts = tx.run(
            "UNWIND $ids AS id MATCH (l:Lead {lead_id: id}) "
            "OPTIONAL MATCH (l)-[:RECORDED]->(s:Seizure) "
            "WITH l, collect(s) AS seizures "
            "FOREACH (s IN seizures | DETACH DELETE s) "
            "WITH l, size(seizures) AS n DETACH DELETE l "
            "RETURN count(*) AS leads, sum(n) AS seizures",
            ids=lead_ids).single()
        erased = tx.run(
            "UNWIND $eids AS eid MATCH (ent) WHERE elementId(ent) = eid "
            f"WITH ent WHERE {_orphan_condition(excluding=False)} "
            f"WITH ent, labels(ent) AS labels, {_KEY_PROPS} AS props "
            "DETACH DELETE ent RETURN labels, props",
            eids=candidates).data()
        return PurgeResult(leads=counts["leads"], seizures=counts["seizures"] or 0, workflow_records=workflow,
                           entities=sorted(_entity_id(r["labels"], r["props"]) for r in erased))

    return graph.write(work)
