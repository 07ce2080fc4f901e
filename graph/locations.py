"""Where a lead happened: resolving its place to one ``Location`` node and writing it.

One Location per address key (commune + folded address), else per place label, else per point:
a point joins the nearest Location within ``radius_m`` metres (documented default 50 m), else
starts a new one; a lead with only a commune links to that commune's ``commune:`` Location
(graph/README.md). Called by the ingest write path (graph/leads.py) inside its chunk's
transaction; rows are sorted by key so concurrent writers lock Locations in one order.
"""

from __future__ import annotations

import math
from typing import Any

import neo4j

from hub.contract.lead import Lead
from hub.contract.normalize import place_key

def location_key(lead: Lead) -> str | None:
    """The key of a lead's Location when it is decided by text alone (address, label, commune);
    None when only a point is known (resolved by distance)."""
    loc = lead.location
    if loc is None:
        return None
    if loc.address:
        return f"addr:{loc.insee_code}:{place_key(loc.address)}"
    if loc.place_label:
        return f"place:{loc.insee_code}:{place_key(loc.place_label)}"
    if loc.point:
        return None
    return f"commune:{loc.insee_code}"


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    # Equirectangular approximation: exact to well under 1 % at the radii we use (≤ 1 km).
    lat = math.radians((a[0] + b[0]) / 2)
    dx = math.radians(b[1] - a[1]) * math.cos(lat)
    dy = math.radians(b[0] - a[0])
    return 6_371_000 * math.hypot(dx, dy)


def resolve_locations(tx: neo4j.ManagedTransaction, leads: list[Lead], radius_m: float) -> dict[str, str]:
    """Map source key -> Location key."""
    keys: dict[str, str] = {}
    pending: list[tuple[str, float, float]] = []
    for lead in leads:
        loc = lead.location
        if loc is None:
            continue
        key = location_key(lead)
        if key is not None:
            keys[lead.source_key] = key
        else:
            assert loc.point is not None
            pending.append((lead.source_key, loc.point.lat, loc.point.lon))
    if not pending:
        return keys
    nearest = {
        r["sk"]: r["key"]
        for r in tx.run(
            "UNWIND $points AS p "
            "CALL (p) { "
            "  WITH point({latitude: p.lat, longitude: p.lon}) AS here "
            "  MATCH (loc:Location) WHERE point.distance(loc.point, here) <= $radius "
            "  RETURN loc.key AS key ORDER BY point.distance(loc.point, here) LIMIT 1 "
            "} RETURN p.sk AS sk, key",
            points=[{"sk": i, "lat": la, "lon": lo} for i, la, lo in pending],
            radius=radius_m,
        )
    }
    # Points new to the graph: cluster greedily within the batch so two close points sent
    # together still make one Location.
    fresh: list[tuple[str, tuple[float, float]]] = []
    for sk, lat, lon in pending:
        if sk in nearest:
            keys[sk] = nearest[sk]
            continue
        for key, centre in fresh:
            if distance_m(centre, (lat, lon)) <= radius_m:
                keys[sk] = key
                break
        else:
            key = f"pt:{lat:.5f}:{lon:.5f}"
            fresh.append((key, (lat, lon)))
            keys[sk] = key
    return keys


def write_locations(tx: neo4j.ManagedTransaction, leads: list[Lead], keys: dict[str, str]) -> None:
    if not keys:
        return
    by_key: dict[str, dict[str, Any]] = {}
    links = []
    for lead in leads:
        key = keys.get(lead.source_key)
        if key is None:
            continue
        loc = lead.location
        assert loc is not None
        props = by_key.setdefault(key, {"key": key, "insee_code": loc.insee_code,
                                        "commune": loc.commune, "departement": loc.departement,
                                        "props": {}})
        for name in ("address", "place_label"):
            value = getattr(loc, name)
            if value and name not in props["props"]:
                props["props"][name] = value
        if loc.point and "lat" not in props:
            props["lat"], props["lon"] = loc.point.lat, loc.point.lon
        links.append({"sk": lead.source_key, "key": key, "agency": lead.source_agency.value})
    # Every write below takes its locks in key order (rows sorted), and an existing Location is
    # written only when it has no point yet. An unconditional SET write-locked every Location the
    # batch names, in row order: two concurrent batches naming the same places deadlocked.
    communes = {row["insee_code"]: row for row in by_key.values()}
    tx.run(
        "UNWIND $rows AS row "
        "MERGE (c:Commune {insee_code: row.insee_code}) "
        "ON CREATE SET c.name = row.commune, c.departement = row.departement",
        rows=[communes[code] for code in sorted(communes)],
    ).consume()
    tx.run(
        "UNWIND $rows AS row "
        "MERGE (loc:Location {key: row.key}) "
        "ON CREATE SET loc += row.props, loc.insee_code = row.insee_code, loc.commune = row.commune "
        "FOREACH (_ IN CASE WHEN loc.point IS NULL AND row.lat IS NOT NULL THEN [1] ELSE [] END | "
        "  SET loc.point = point({latitude: row.lat, longitude: row.lon})) "
        # MERGE of a relationship that exists locks nothing.
        "WITH loc, row MATCH (c:Commune {insee_code: row.insee_code}) "
        "MERGE (loc)-[:IN_COMMUNE]->(c)",
        rows=[by_key[key] for key in sorted(by_key)],
    ).consume()
    links.sort(key=lambda row: (row["key"], row["sk"]))
    tx.run(
        "UNWIND $rows AS row "
        "MATCH (l:Lead {source_key: row.sk}) MATCH (loc:Location {key: row.key}) "
        "CREATE (l)-[:AT {agency: row.agency, lead_id: l.lead_id}]->(loc)",
        rows=links,
    ).consume()
