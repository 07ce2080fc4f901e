"""The agenda's map of the week: the window's leads the participant reads (seizures marked), the
deal points they concern and the hotspot communes, placed in WGS84 — the brief draws it offline.

No geometry registry is bundled (graph/analysis/geo.py): a lead sits at its Location's point,
else at the centre of its commune; a commune's centre is the mean of the points of its
Locations that leads of the CROSS the participant reads place there (over the hotspot baseline
and the week); a deal point sits at the mean of its readable leads' points, else at its commune's centre.
Only leads the participant reads (full or redacted, and whose level reads the commune) place
anything: a hit or an unknown lead neither appears nor weighs in a centre.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import neo4j

from graph.access import HIT, NONE
from graph.meetings._common import AgendaContext, commune_names, strictest
from graph.meetings.models import HotspotMove, MapPoint, WeekMap
from graph.meetings.seizures import levels_reading
from graph.meetings.sections import HOTSPOT_BASELINE_WEEKS
from graph.records import utc

MAP_LEADS = 300  # leads placed on the map at most (a brief is read, not searched)


def week_map(tx: neo4j.ManagedTransaction, ctx: AgendaContext, hotspots: list[HotspotMove]) -> WeekMap:
    placed = levels_reading(ctx, "insee_code")
    rows = tx.run(
        ctx.window_leads()
        + f"WITH l, access WHERE access <> '{HIT}' "
        "WITH l, access, access IN $mp_placed AS placed "
        "OPTIONAL MATCH (l)-[:AT]->(loc:Location) "
        "WITH l, access, placed, head(collect(loc)) AS loc "
        "RETURN l.lead_id AS lead_id, l.agency AS agency, l.kind AS kind, l.handling_code AS hc, "
        "  CASE WHEN placed THEN l.insee_code END AS insee, "
        "  CASE WHEN placed THEN loc.point.latitude END AS lat, "
        "  CASE WHEN placed THEN loc.point.longitude END AS lon, "
        "  CASE WHEN placed THEN coalesce(loc.place_label, loc.address) END AS place, "
        "  exists { (l)-[:RECORDED]->(:Seizure) } AS seized, "
        "  CASE WHEN placed THEN [(l)-[:CONCERNS]->(dp:DealPoint) | dp {.key, .label, .insee_code}] "
        "    ELSE [] END AS deal_points "
        "ORDER BY l.reported_at DESC, lead_id LIMIT $mp_cap",
        ctx.params(mp_placed=placed, mp_cap=MAP_LEADS),
    ).data()
    codes = {r["insee"] for r in rows if r["insee"]} | {h.insee_code for h in hotspots}
    codes |= {d["insee_code"] for r in rows for d in r["deal_points"] if d.get("insee_code")}
    centres = _commune_centres(tx, ctx, codes, placed)
    names = commune_names(tx, codes)
    points: list[MapPoint] = []
    unplaced = 0
    dp_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    dp_info: dict[str, dict] = {}
    for r in rows:
        where = _place(r["lat"], r["lon"], centres.get(r["insee"]))
        for d in r["deal_points"]:
            dp_info[d["key"]] = d
            if r["lat"] is not None:
                dp_points[d["key"]].append((r["lat"], r["lon"]))
        if where is None:
            unplaced += 1
            continue
        lat, lon, placement = where
        points.append(MapPoint(kind="seizure" if r["seized"] else "lead", lat=lat, lon=lon, placement=placement,
                               label=r["place"] or names.get(r["insee"]) or r["insee"], insee_code=r["insee"],
                               lead_id=r["lead_id"], agency=r["agency"]))
    for key, d in sorted(dp_info.items()):
        pts = dp_points.get(key)
        if pts:
            where = (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts), "point")
        else:
            where = _place(None, None, centres.get(d.get("insee_code")))
        if where is not None:
            points.append(MapPoint(kind="deal_point", lat=where[0], lon=where[1], placement=where[2],
                                   label=d.get("label") or key, insee_code=d.get("insee_code")))
    for h in hotspots:
        centre = centres.get(h.insee_code)
        if centre is not None:
            points.append(MapPoint(kind="hotspot", lat=centre[0], lon=centre[1], placement="commune",
                                   label=h.commune or names.get(h.insee_code) or h.insee_code,
                                   insee_code=h.insee_code, count=h.count, direction=h.direction))
    for code in sorted(c for c in codes if c in centres):
        points.append(MapPoint(kind="commune", lat=centres[code][0], lon=centres[code][1], placement="commune",
                               label=names.get(code) or code, insee_code=code))
    return WeekMap(points=points, unplaced=unplaced,
                   handling_code=strictest({r["hc"] for r in rows} | {h.handling_code.value for h in hotspots}))


def _place(lat, lon, centre):
    if lat is not None and lon is not None:
        return lat, lon, "point"
    if centre is not None:
        return centre[0], centre[1], "commune"
    return None


def _commune_centres(tx: neo4j.ManagedTransaction, ctx: AgendaContext, codes: set[str],
                     placed: list[str]) -> dict[str, tuple[float, float]]:
    """Mean point of each commune's Locations that readable leads of the hotspot baseline
    period and the week place there."""
    if not codes:
        return {}
    since = ctx.meeting.starts_at - timedelta(weeks=HOTSPOT_BASELINE_WEEKS)
    # From the period's leads (the reported_at index, as the hotspots read), not from the
    # communes: a big town's whole history is never walked.
    rows = tx.run(
        "MATCH (l:Lead) WHERE l.reported_at >= $mp_since AND l.reported_at < $mp_end "
        f"  AND l.version > 0 AND {ctx.dept_filter} "
        f"WITH l, {ctx.access.case_expression} AS access "
        f"WHERE access <> '{NONE}' AND access <> '{HIT}' AND access IN $mp_placed "
        "MATCH (l)-[:AT]->(loc:Location)-[:IN_COMMUNE]->(c:Commune) "
        "WHERE c.insee_code IN $mp_codes AND loc.point IS NOT NULL "
        "WITH DISTINCT c, loc "
        "RETURN c.insee_code AS insee, avg(loc.point.latitude) AS lat, avg(loc.point.longitude) AS lon",
        ctx.params(mp_codes=sorted(codes), mp_since=utc(since), mp_end=utc(ctx.meeting.ends_at), mp_placed=placed),
    ).data()
    return {r["insee"]: (r["lat"], r["lon"]) for r in rows if r["lat"] is not None}
