"""The timeline of an entity: the leads citing a vehicle, person, phone, place, deal point or
commune, in time order, with the entity's role in each and where it was.

Only readable leads are listed, placed by the time the caller may read (a lead whose times are
withheld comes last, unordered); leads at hit level come back as hit counts per agency. When
more than ``limit`` leads qualify, the most recent are kept.

The entity is resolved through the caller's policy first (``graph.read.entity_anchor``): one
only hidden leads assert is unknown (404, like a key nobody holds); one only hit-level leads
assert is answered with its key and hits, no entry.
"""

from __future__ import annotations

from datetime import UTC

import neo4j

from graph.access import HIT, AccessFilter
from graph.analysis._common import (
    LEAD_TIME,
    access_params,
    as_utc,
    find_entity,
    hit_counter,
    hits_of,
    normalize_key,
    project_leads,
    run_read,
    span_check,
)
from graph.analysis.models import Timeline, TimelineEntry, TimelineParams
from graph.handle import Graph

CITED_BY = "AT|MENTIONS_VEHICLE|INVOLVES|MENTIONS_PHONE|CONCERNS"


def timeline(graph: Graph, access: AccessFilter,
             params: TimelineParams) -> Timeline:
    key = normalize_key(params.kind, params.key, "key")
    span_check(params.since, params.until, None)  # filters, not a window: any length
    leads_of = (
        f"CALL (ent) {{ "
        f"  MATCH (ent)<-[r:{CITED_BY}]-(l:Lead) RETURN l, r "
        f"  UNION MATCH (ent)<-[:IN_COMMUNE]-(:Location)<-[r:AT]-(l:Lead) WHERE ent:Commune RETURN l, r "
        f"}} WITH l, r WHERE l.version > 0 "
        f"WITH l, r, {access.case_expression} AS access "
    )

    def work(tx: neo4j.ManagedTransaction) -> Timeline:
        anchor = find_entity(tx, access, params.kind, key)
        if not anchor.readable:
            return Timeline(entity=anchor.node, hits=anchor.hits)
        # The entity and those merged with it that the caller may read (ADR 0020).
        eids, node = [anchor.eid, *anchor.merged], anchor.node
        rows = list(tx.run(
            f"MATCH (ent) WHERE elementId(ent) IN $eids {leads_of} WHERE access IN $an_visible "
            f"WITH l, access, CASE WHEN access IN $an_timed THEN {LEAD_TIME} END AS t, "
            f"  collect(type(r))[0] AS relation, [x IN collect(r.role) WHERE x IS NOT NULL][0] AS role "
            f"WHERE ($since IS NULL OR t >= $since) AND ($until IS NULL OR t < $until) "
            f"RETURN l.lead_id AS lead_id, t, relation, role, "
            f"  [(l)-[:AT]->(loc:Location) | loc {{.key, .address, .place_label, .commune}}][0] AS loc "
            f"ORDER BY t IS NULL, t DESC, lead_id LIMIT $limit",
            eids=eids, limit=params.limit + 1,
            since=params.since.astimezone(UTC) if params.since else None,
            until=params.until.astimezone(UTC) if params.until else None,
            **access_params(access),
        ))
        hits = hit_counter()
        for r in tx.run(
            f"MATCH (ent) WHERE elementId(ent) IN $eids {leads_of} WHERE access = '{HIT}' "
            f"RETURN l.agency AS agency, count(DISTINCT l) AS n",
            eids=eids, **access_params(access),
        ):
            hits[(node.id, r["agency"])] += r["n"]
        kept = rows[: params.limit]
        leads = project_leads(tx, access, [r["lead_id"] for r in kept])
        entries = []
        for r in kept:
            loc = r["loc"] or {}
            place = loc.get("address") or loc.get("place_label") or loc.get("commune")
            if place and loc.get("commune") and place != loc.get("commune"):
                place = f"{place} — {loc['commune']}"
            entries.append(TimelineEntry(at=as_utc(r["t"]), lead=leads[r["lead_id"]],
                                         relation=r["relation"], role=r["role"], place=place,
                                         location_key=loc.get("key")))
        timed = sorted((e for e in entries if e.at is not None), key=lambda e: (e.at, e.lead.key))
        return Timeline(entity=node, entries=timed + [e for e in entries if e.at is None],
                        hits=hits_of(hits, access), truncated=len(rows) > params.limit)

    return run_read(graph, work, field="limit")
