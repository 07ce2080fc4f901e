"""The map of a département: what the caller may read, placed, as one GeoJSON FeatureCollection.

Four kinds of feature:

- ``commune``: every commune holding a Location of a lead the caller may read, placed at the
  centre of those Locations that have a point (the graph's own places: no geometry registry is
  bundled — see docs/decisions and the map page's legend); no point known → no geometry;
- ``lead``: readable leads (most recent first when a period is asked; only leads whose times the
  caller may read can be placed in a period), at their Location's point, else at their commune's
  centre (``placement``);
- ``deal_point``: deal points a readable lead concerns, at the centre of those leads' points,
  else at the commune's centre;
- ``operation``: the active operations of one agency (the caller's, when the caller may work
  leads), at their own point, else at the point of their Location when a readable lead places
  it, else at the commune's centre.

A Location, a commune or a deal point only leads the caller may not read assert (hit level
included) never appears, nor weighs in a centre: hit/no-hit is answered by the entity reads,
and a map is no way around them. Lead properties are the marking only (id, agency, kind,
handling code) plus the time when the caller's level may read it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j

from graph.access import AccessFilter, shown
from graph.analysis._common import LEAD_TIME, access_params, as_utc, run_read
from graph.analysis.models import GeoPoint, MapFeature, MapParams, MapProperties, MapResult
from graph.handle import Graph
from graph.workflow.operations import list_operations

ACTIVE_OPERATIONS = ("planned", "active")


def _source(departement: str | None) -> str:
    """Binds ``c`` (Commune), ``loc`` (Location) and ``l`` (every lead at it)."""
    if departement is not None:
        return ("MATCH (c:Commune {departement: $dep})<-[:IN_COMMUNE]-(loc:Location)<-[:AT]-(l:Lead) "
                "WHERE l.version > 0 ")
    return "MATCH (c:Commune)<-[:IN_COMMUNE]-(loc:Location)<-[:AT]-(l:Lead) WHERE l.version > 0 "


def _point(lat: float | None, lon: float | None) -> GeoPoint | None:
    if lat is None or lon is None:
        return None
    return GeoPoint(coordinates=(round(lon, 6), round(lat, 6)))


def map_layers(graph: Graph, access: AccessFilter, params: MapParams) -> MapResult:
    now = (params.now or datetime.now(UTC)).astimezone(UTC)
    since = now - timedelta(days=params.days) if params.days else None
    src = _source(params.departement)
    case = access.case_expression
    query_params = {"dep": params.departement, **access_params(access)}

    def rows_of(query: str, **extra: Any) -> list[dict[str, Any]]:
        # One bounded read per layer: each has its own time budget.
        return run_read(graph, lambda tx: [r.data() for r in tx.run(query, **extra, **query_params)],
                        field="days")

    rows = {
        "communes": rows_of(
            f"{src} WITH DISTINCT c, loc, l, {case} AS access WHERE access IN $an_visible "
            f"WITH c, loc, count(l) AS leads "
            f"RETURN c.insee_code AS insee, c.name AS name, sum(leads) AS leads, "
            f"  avg(loc.point.latitude) AS lat, avg(loc.point.longitude) AS lon "
            f"ORDER BY insee"),
        "leads": rows_of(
            f"{src} WITH DISTINCT c, loc, l, {case} AS access WHERE access IN $an_visible "
            f"WITH c, loc, l, access, CASE WHEN access IN $an_timed THEN {LEAD_TIME} END AS t "
            f"WHERE $since IS NULL OR (t >= $since AND t < $now) "
            f"RETURN l {{.lead_id, .agency, .kind, .handling_code}} AS lead, access, t, "
            f"  c.insee_code AS insee, c.name AS commune, loc.key AS location, "
            f"  coalesce(loc.address, loc.place_label) AS place, "
            f"  loc.point.latitude AS lat, loc.point.longitude AS lon "
            f"ORDER BY t IS NULL, t DESC, lead.lead_id LIMIT $cap",
            since=since, now=now, cap=params.limit + 1),
        "deal_points": rows_of(
            "MATCH (dp:DealPoint)<-[:CONCERNS]-(l:Lead) WHERE l.version > 0 "
            "  AND ($dep IS NULL OR left(dp.insee_code, size($dep)) = $dep) "
            f"WITH DISTINCT dp, l, {case} AS access WHERE access IN $an_visible "
            "OPTIONAL MATCH (l)-[:AT]->(loc:Location) "
            "WITH dp, l, head(collect(loc.point)) AS pt "
            "OPTIONAL MATCH (c:Commune {insee_code: dp.insee_code}) "
            "RETURN dp.key AS key, dp.label AS label, dp.insee_code AS insee, c.name AS commune, "
            "  count(l) AS leads, collect(DISTINCT l.agency) AS agencies, "
            "  avg(pt.latitude) AS lat, avg(pt.longitude) AS lon ORDER BY key"),
    }
    centres = {c["insee"]: (c["lat"], c["lon"]) for c in rows["communes"]}
    names = {c["insee"]: c["name"] for c in rows["communes"]}
    features = [MapFeature(
        id=f"commune:{c['insee']}", geometry=_point(c["lat"], c["lon"]),
        properties=MapProperties(kind="commune", key=c["insee"], label=c["name"] or c["insee"],
                                 insee_code=c["insee"], commune=c["name"], lead_count=c["leads"],
                                 placement="centroid" if c["lat"] is not None else None))
        for c in rows["communes"]]
    truncated = len(rows["leads"]) > params.limit
    for r in rows["leads"][: params.limit]:
        lead = r["lead"]
        placement, geometry = _placed(r["lat"], r["lon"], centres.get(r["insee"]))
        place = r["place"] or r["commune"] or r["insee"]
        features.append(MapFeature(id=f"lead:{lead['lead_id']}", geometry=geometry, properties=MapProperties(
            kind="lead", key=lead["lead_id"], label=place, insee_code=r["insee"],
            commune=r["commune"], agency=lead["agency"], placement=placement,
            handling_code=lead["handling_code"], nature=lead["kind"],
            location_key=r["location"], at=as_utc(r["t"]), status=shown(r["access"]))))
    for d in rows["deal_points"]:
        placement, geometry = _placed(d["lat"], d["lon"], centres.get(d["insee"]))
        features.append(MapFeature(id=f"deal_point:{d['key']}", geometry=geometry, properties=MapProperties(
            kind="deal_point", key=d["key"], label=d["label"] or d["key"], insee_code=d["insee"],
            commune=d["commune"], agencies=sorted(d["agencies"]), lead_count=d["leads"],
            placement=placement)))
    if params.operations_of:
        features += _operations(graph, access, params.operations_of, now, centres, names)
    return MapResult(departement=params.departement, since=since, features=features,
                     truncated=truncated)


def _placed(lat: float | None, lon: float | None,
            centre: tuple[float | None, float | None] | None) -> tuple[str | None, GeoPoint | None]:
    if lat is not None:
        return "point", _point(lat, lon)
    if centre is not None and centre[0] is not None:
        return "commune", _point(*centre)
    return None, None


def _operations(graph: Graph, access: AccessFilter, agency: str, now: datetime,
                centres: dict[str, tuple[float | None, float | None]],
                names: dict[str, str]) -> list[MapFeature]:
    ops = [o for o in list_operations(graph, agency, now=now) if o.status.value in ACTIVE_OPERATIONS]
    keys = sorted({o.place.location_key for o in ops if o.place.location_key and o.place.lat is None})
    known: dict[str, tuple[float, float]] = {}
    if keys:
        def work(tx: neo4j.ManagedTransaction) -> dict[str, tuple[float, float]]:
            return {r["key"]: (r["lat"], r["lon"]) for r in tx.run(
                "UNWIND $keys AS k MATCH (loc:Location {key: k}) WHERE loc.point IS NOT NULL "
                "  AND EXISTS { MATCH (loc)<-[:AT]-(l:Lead) WHERE l.version > 0 "
                f"    AND {access.case_expression} IN $an_visible }} "
                "RETURN loc.key AS key, loc.point.latitude AS lat, loc.point.longitude AS lon",
                keys=keys, **access_params(access))}
        known = run_read(graph, work, field="operations")
    out = []
    for o in ops:
        p = o.place
        if p.lat is not None:
            placement, geometry = "point", _point(p.lat, p.lon)
        elif p.location_key in known:
            placement, geometry = "point", _point(*known[p.location_key])
        else:
            placement, geometry = _placed(None, None, centres.get(p.insee_code))
        out.append(MapFeature(id=f"operation:{o.operation_id}", geometry=geometry, properties=MapProperties(
            kind="operation", key=o.operation_id, label=o.title or o.unit, insee_code=p.insee_code,
            commune=p.commune or names.get(p.insee_code), agency=o.agency, placement=placement,
            nature=o.kind.value, starts_at=o.starts_at, ends_at=o.ends_at,
            radius_m=p.radius_m, status=o.status.value)))
    return out
