"""Shortest paths between two entities through the leads the caller may read.

A hop is one lead citing two entities (vehicle, pseudonymous person, phone, place, deal point):
``entity ← lead → entity``. Leads the caller may not read are never stepped through, so a path
is never derived from a hidden lead, not even as "a path exists".

- Without time constraints: ``ALL SHORTEST`` with a quantified path pattern whose per-hop
  predicate evaluates the caller's access level on the lead, so the bidirectional search of the
  planner never enters a hidden lead.
- ``time_ordered`` (each lead at or after the previous one) and/or ``max_gap_hours`` (consecutive
  leads at most that far apart): the constraint links two consecutive hops, which a per-hop
  predicate cannot express, so a breadth-first search over (entity, last lead) states runs here,
  one query per hop, bounded by ``MAX_PATH_STATES`` and ``MAX_LEVEL_ROWS``. Only leads whose
  times the caller may read take part (their order would otherwise reveal withheld times).

Person aliases (``SAME_AS``) are not followed: the alias link is asserted by a lead of its own.

Both ends are resolved through the caller's policy first (``graph.read.entity_anchor``): an end
only hidden leads assert is unknown (404, like a key nobody holds); an end only hit-level leads
assert has no readable lead to step from, so there is no path, and its hits are returned.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import neo4j

from graph.access import AccessFilter
from graph.analysis._common import (
    LEAD_TIME,
    access_params,
    as_utc,
    entity_node,
    find_entity,
    lead_time,
    normalize_key,
    project_leads,
    run_read,
)
from graph.analysis.models import (
    MAX_LEVEL_ROWS,
    MAX_PATH_STATES,
    Path,
    PathParams,
    PathsResult,
)
from graph.handle import Graph
from graph.models import NetworkEdge, NetworkNode
from graph.read import EDGE_PROPERTIES
from graph.records import native
from hub.contract.errors import InvalidInput

# A chain alternates entity element ids and lead ids: [eid, lead_id, eid, ..., eid].
Chain = list[str]


def shortest_paths(graph: Graph, access: AccessFilter,
                   params: PathParams) -> PathsResult:
    from_key = normalize_key(params.from_kind, params.from_key, "from_key")
    to_key = normalize_key(params.to_kind, params.to_key, "to_key")
    if (params.from_kind, from_key) == (params.to_kind, to_key):
        raise InvalidInput("chemin d'une entité vers elle-même", details=[
            {"field": "to_key", "reason": "doit désigner une autre entité que from_key"}])
    types = "|".join(r.value for r in params.rel_types)  # allow-list members (models.PATH_RELS)
    temporal = params.time_ordered or params.max_gap_hours is not None

    def work(tx: neo4j.ManagedTransaction) -> PathsResult:
        a = find_entity(tx, access, params.from_kind, from_key)
        b = find_entity(tx, access, params.to_kind, to_key)
        a_node, b_node = a.node, b.node
        if not (a.readable and b.readable):
            chains, truncated = [], False
        elif temporal:
            chains, truncated = _temporal_search(tx, access, params, types, a.eid, b.eid)
        else:
            chains, truncated = _shortest(tx, access, params, types, a.eid, b.eid), False
        paths = _materialize(tx, access, chains, types)
        paths.sort(key=lambda p: (p.hops, p.largest_gap_hours or 0.0, p.lead_ids))
        return PathsResult(source=a_node.id, target=b_node.id, max_hops=params.max_hops,
                           time_ordered=params.time_ordered, max_gap_hours=params.max_gap_hours,
                           paths=paths[: params.limit], hits=a.hits + b.hits, truncated=truncated)

    return run_read(graph, work, field="max_hops")


def _shortest(tx: neo4j.ManagedTransaction, access: AccessFilter, params: PathParams, types: str,
              a_eid: str, b_eid: str) -> list[Chain]:
    # max_hops is a validated int (1..6): Cypher takes no parameter in a quantifier.
    hops = int(params.max_hops)
    rows = tx.run(
        f"MATCH (a) WHERE elementId(a) = $a MATCH (b) WHERE elementId(b) = $b "
        f"MATCH p = ALL SHORTEST (a) ((x)<-[r1:{types}]-(l:Lead)-[r2:{types}]->(y) "
        f"  WHERE l.version > 0 AND {access.case_expression} IN $an_visible "
        f"  AND elementId(r1) <> elementId(r2)){{1,{hops}}} (b) "
        f"RETURN [n IN nodes(p) | CASE WHEN n:Lead THEN n.lead_id ELSE elementId(n) END] AS chain "
        f"LIMIT $limit",
        a=a_eid, b=b_eid, limit=params.limit, **access_params(access),
    )
    return [r["chain"] for r in rows]


def _temporal_search(tx: neo4j.ManagedTransaction, access: AccessFilter, params: PathParams,
                     types: str, a_eid: str, b_eid: str) -> tuple[list[Chain], bool]:
    """Breadth-first over states (entity, lead that reached it, its time, parent state)."""
    gap = timedelta(hours=params.max_gap_hours) if params.max_gap_hours is not None else None
    states: list[tuple[str, str | None, datetime | None, int]] = [(a_eid, None, None, -1)]
    frontier = [0]
    visited: set[tuple[str, str]] = set()
    leads_of: dict[str, list[tuple[str, datetime, list[str]]]] = {}
    found: list[int] = []
    truncated = False

    def chain_of(i: int) -> tuple[set[str], set[str]]:
        entities, leads = set(), set()
        while i >= 0:
            e, lead, _, i = states[i]
            entities.add(e)
            if lead:
                leads.add(lead)
        return entities, leads

    for _ in range(params.max_hops):
        need = sorted({states[i][0] for i in frontier} - leads_of.keys())
        if need:
            rows = list(tx.run(
                f"UNWIND $eids AS eid MATCH (ent) WHERE elementId(ent) = eid "
                f"MATCH (ent)<-[:{types}]-(l:Lead) WHERE l.version > 0 "
                f"WITH DISTINCT eid, l, {access.case_expression} AS access "
                f"WHERE access IN $an_timed "
                f"RETURN eid, l.lead_id AS lead_id, {LEAD_TIME} AS t, "
                f"  [(l)-[:{types}]->(x) | elementId(x)] AS links "
                f"LIMIT $cap",
                eids=need, cap=MAX_LEVEL_ROWS, **access_params(access),
            ))
            truncated = truncated or len(rows) >= MAX_LEVEL_ROWS
            for eid in need:
                leads_of[eid] = []
            for r in rows:
                leads_of[r["eid"]].append((r["lead_id"], as_utc(r["t"]), list(dict.fromkeys(r["links"]))))
            for eid in need:
                leads_of[eid].sort(key=lambda x: (x[1], x[0]))
        next_frontier: list[int] = []
        for i in frontier:
            entity, _, t, _ = states[i]
            on_chain, leads_on_chain = chain_of(i)
            for lead_id, t2, links in leads_of[entity]:
                if lead_id in leads_on_chain:
                    continue
                if t is not None:
                    if params.time_ordered and t2 < t:
                        continue
                    if gap is not None and abs(t2 - t) > gap:
                        continue
                for x in links:
                    if x in on_chain:
                        continue
                    if x == b_eid:
                        states.append((x, lead_id, t2, i))
                        found.append(len(states) - 1)
                        continue
                    if (x, lead_id) in visited:
                        continue
                    visited.add((x, lead_id))
                    states.append((x, lead_id, t2, i))
                    next_frontier.append(len(states) - 1)
            if len(states) > MAX_PATH_STATES:
                truncated = True
                break
        if found or truncated or not next_frontier:
            break
        frontier = next_frontier

    chains = []
    for i in found[: params.limit * 4]:
        chain: Chain = []
        while i >= 0:
            e, lead, _, i = states[i]
            chain.append(e)
            if lead:
                chain.append(lead)
        chains.append(list(reversed(chain)))
    return chains, truncated


def _materialize(tx: neo4j.ManagedTransaction, access: AccessFilter, chains: list[Chain],
                 types: str) -> list[Path]:
    """Chains of ids → paths of link-chart nodes and edges (leads through the projection)."""
    if not chains:
        return []
    entity_ids = {c for chain in chains for c in chain[::2]}
    lead_ids = {c for chain in chains for c in chain[1::2]}
    entities: dict[str, NetworkNode] = {
        r["eid"]: entity_node(r["labels"], r["props"])
        for r in tx.run("UNWIND $eids AS eid MATCH (ent) WHERE elementId(ent) = eid "
                        "RETURN eid, labels(ent) AS labels, properties(ent) AS props",
                        eids=sorted(entity_ids))
    }
    leads = project_leads(tx, access, lead_ids)
    pairs = [{"lead": chain[i], "eid": chain[j]}
             for chain in chains for i in range(1, len(chain), 2) for j in (i - 1, i + 1)]
    links: dict[tuple[str, str], dict[str, Any]] = {}
    for r in tx.run(
        f"UNWIND $pairs AS p MATCH (l:Lead {{lead_id: p.lead}})-[r:{types}]->(ent) "
        f"WHERE elementId(ent) = p.eid "
        f"RETURN p.lead AS lead, p.eid AS eid, type(r) AS type, properties(r) AS props",
        pairs=pairs,
    ):
        links.setdefault((r["lead"], r["eid"]), {"type": r["type"], "props": r["props"]})
    paths = []
    for chain in chains:
        if any(c not in leads for c in chain[1::2]):
            continue  # cannot happen in one read transaction; never show a lead unprojected
        nodes: list[NetworkNode] = []
        edges: list[NetworkEdge] = []
        for n, item in enumerate(chain):
            nodes.append(leads[item] if n % 2 else entities[item])
        for i in range(1, len(chain), 2):
            lead = leads[chain[i]]
            for j in (i - 1, i + 1):
                link = links.get((chain[i], chain[j]), {"type": "", "props": {}})
                rel = link["props"] or {}
                edges.append(NetworkEdge(
                    source=lead.id, target=entities[chain[j]].id, type=link["type"],
                    agency=rel.get("agency"), lead_id=chain[i],
                    properties={k: native(v) for k, v in rel.items() if k in EDGE_PROPERTIES}))
        times = [lead_time(leads[c]) for c in chain[1::2]]
        known = [t for t in times if t is not None]
        gaps = [abs((b - a).total_seconds()) / 3600 for a, b in itertools.pairwise(times)
                if a is not None and b is not None]
        paths.append(Path(hops=len(chain) // 2, nodes=nodes, edges=edges,
                          lead_ids=list(chain[1::2]),
                          first_at=min(known) if known else None,
                          last_at=max(known) if known else None,
                          largest_gap_hours=round(max(gaps), 3) if gaps else None))
    return paths
