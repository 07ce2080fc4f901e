"""Co-presence: vehicles, phones and pseudonymous persons cited by different leads at the same
place within a time window — who keeps turning up together.

The place is one of: a commune (pairs are formed per Location inside it: a commune is not "the
same place"), a Location key, or a disc (lat, lon, radius) taken as one place — the way to join
an address-keyed Location with point-keyed ones a few metres away. A pair needs two distinct
readable leads whose times are at most ``window_min`` apart; entities cited by the same lead are
already linked by it and are not co-presence.

With ``fuzzy_plates``, two vehicles whose plates are one confusable character apart
(graph/analysis/plates.py) are reported as ``plate_variant``: probably one vehicle misread.

Only leads the caller may read, with times they may read, are used; leads at hit level on the
selected places come back as hit counts per agency and Location (hit/no-hit on the place, as
the network read shows them), whatever their time, so nothing is derived from their contents.

Answers place what they can: the disc's centre and radius, and the coordinates of every examined
Location that has a point (``locations``, and ``point_a``/``point_b`` on each piece of evidence),
from readable leads only — a Location known only through hit-level leads is never placed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

import neo4j

from graph.access import HIT, AccessFilter
from graph.analysis import plates
from graph.analysis._common import (
    LEAD_TIME,
    access_params,
    as_utc,
    entity_node,
    hit_counter,
    hits_of,
    run_read,
    span_check,
)
from graph.analysis.models import (
    MAX_COPRESENCE_LEADS,
    MAX_SPAN_DAYS,
    CopresenceEvidence,
    CopresencePair,
    CopresenceParams,
    CopresenceResult,
    PlacedLocation,
)
from graph.handle import Graph
from graph.models import NetworkNode, PointView
from hub.contract.errors import InvalidInput

MAX_EVIDENCE = 10
MAX_COMPARISONS = 500_000  # lead pairs examined; beyond, the result is marked truncated

# What can be co-present: the actors, not places or substances.
ACTOR_LINKS = "MENTIONS_VEHICLE|MENTIONS_PHONE|INVOLVES"


def copresence(graph: Graph, access: AccessFilter,
               params: CopresenceParams) -> CopresenceResult:
    match, place, place_params, per_location = _place(params)
    span_check(params.since, params.until, MAX_SPAN_DAYS)

    def work(tx: neo4j.ManagedTransaction) -> CopresenceResult:
        rows = list(tx.run(
            f"{match} "
            f"MATCH (loc)<-[:AT]-(l:Lead) WHERE l.version > 0 "
            f"WITH DISTINCT loc, l, {access.case_expression} AS access WHERE access IN $an_timed "
            f"WITH loc, l, {LEAD_TIME} AS t WHERE t >= $since AND t < $until "
            f"RETURN loc.key AS location, l.lead_id AS lead_id, t, "
            f"  loc.point.latitude AS lat, loc.point.longitude AS lon, "
            f"  [(l)-[:{ACTOR_LINKS}]->(x) | {{eid: elementId(x), labels: labels(x), props: properties(x)}}] AS actors "
            f"ORDER BY t, lead_id LIMIT $cap",
            # UTC: stored times are UTC, and the driver packs fixed offsets only.
            since=params.since.astimezone(UTC), until=params.until.astimezone(UTC),
            cap=MAX_COPRESENCE_LEADS + 1,
            **place_params, **access_params(access),
        ))
        hit_rows = tx.run(
            f"{match} "
            f"MATCH (loc)<-[:AT]-(l:Lead) WHERE l.version > 0 "
            f"WITH DISTINCT loc, l, {access.case_expression} AS access WHERE access = '{HIT}' "
            f"RETURN loc.key AS location, l.agency AS agency, count(*) AS n",
            **place_params, **access_params(access),
        )
        hits = hit_counter()
        for r in hit_rows:
            hits[(f"location:{r['location']}", r["agency"])] += r["n"]
        truncated = len(rows) > MAX_COPRESENCE_LEADS
        examined = rows[:MAX_COPRESENCE_LEADS]
        pairs, cut = _pairs(examined, params, per_location)
        located = _located(examined)
        per_key = Counter(r["location"] for r in examined)
        for pair in pairs:
            for e in pair.evidence:
                e.point_a, e.point_b = located.get(e.location_a), located.get(e.location_b)
        return CopresenceResult(
            center=_center(params, located), radius_m=params.radius_m,
            locations=[PlacedLocation(key=key, point=pt, lead_count=per_key[key])
                       for key, pt in sorted(located.items())],
            place=place, since=params.since, until=params.until, window_min=params.window_min,
            lead_count=min(len(rows), MAX_COPRESENCE_LEADS), pairs=pairs[: params.limit],
            hits=hits_of(hits, access), truncated=truncated or cut or len(pairs) > params.limit,
        )

    return run_read(graph, work, field="until")


def _located(rows: list[Any]) -> dict[str, PointView]:
    """Location key → point, for the examined Locations (readable leads) that have one."""
    return {r["location"]: PointView(lat=r["lat"], lon=r["lon"])
            for r in rows if r["lat"] is not None}


def _center(params: CopresenceParams, located: dict[str, PointView]) -> PointView | None:
    if params.lat is not None and params.lon is not None:
        return PointView(lat=params.lat, lon=params.lon)  # the caller's own disc
    if not located:
        return None
    points = list(located.values())
    return PointView(lat=round(sum(p.lat for p in points) / len(points), 6),
                     lon=round(sum(p.lon for p in points) / len(points), 6))


def _place(params: CopresenceParams) -> tuple[str, str, dict[str, Any], bool]:
    """(Cypher binding ``loc``, description, parameters, pair per Location?)."""
    disc = (params.lat, params.lon, params.radius_m)
    chosen = [name for name, given in (("insee", params.insee is not None),
                                       ("location_key", params.location_key is not None),
                                       ("lat", any(v is not None for v in disc))) if given]
    if len(chosen) != 1:
        raise InvalidInput("lieu de co-présence invalide", details=[
            {"field": name, "reason": "indiquer exactement un lieu : insee, location_key ou "
                                      "lat + lon + radius_m"} for name in chosen or ["insee"]])
    if params.insee is not None:
        return ("MATCH (:Commune {insee_code: $insee})<-[:IN_COMMUNE]-(loc:Location)",
                f"commune {params.insee}", {"insee": params.insee}, True)
    if params.location_key is not None:
        return ("MATCH (loc:Location {key: $location_key})", f"lieu {params.location_key}",
                {"location_key": params.location_key}, False)
    missing = [n for n, v in zip(("lat", "lon", "radius_m"), disc, strict=True) if v is None]
    if missing:
        raise InvalidInput("cercle de co-présence incomplet", details=[
            {"field": n, "reason": "lat, lon et radius_m vont ensemble"} for n in missing])
    return (("MATCH (loc:Location) WHERE point.distance(loc.point, "
             "point({latitude: $lat, longitude: $lon})) <= $radius"),
            f"cercle de {params.radius_m:g} m autour de ({params.lat}, {params.lon})",
            {"lat": params.lat, "lon": params.lon, "radius": params.radius_m}, False)


def _pairs(rows: list[Any], params: CopresenceParams,
           per_location: bool) -> tuple[list[CopresencePair], bool]:
    groups: dict[str, list[tuple[str, datetime, str, list[NetworkNode]]]] = defaultdict(list)
    for r in rows:
        actors = {}
        for a in r["actors"]:
            node = entity_node(a["labels"], a["props"])
            actors[node.id] = node
        groups[r["location"] if per_location else ""].append(
            (r["lead_id"], as_utc(r["t"]), r["location"], list(actors.values())))
    window = params.window_min * 60
    found: dict[tuple[str, str], dict[str, Any]] = {}
    comparisons = 0
    cut = False
    for sightings in groups.values():
        sightings.sort(key=lambda s: (s[1], s[0]))
        for i, (lead_a, t_a, loc_a, actors_a) in enumerate(sightings):
            for lead_b, t_b, loc_b, actors_b in sightings[i + 1:]:
                gap = (t_b - t_a).total_seconds()
                if gap > window:
                    break
                comparisons += 1
                if comparisons > MAX_COMPARISONS:
                    cut = True
                    break
                for a in actors_a:
                    for b in actors_b:
                        if a.id == b.id:
                            continue  # the same entity seen twice is not a pair
                        first, second = sorted((a, b), key=lambda n: n.id)
                        pair = found.setdefault((first.id, second.id), {
                            "a": first, "b": second, "evidence": {}})
                        pair["evidence"].setdefault((lead_a, lead_b), CopresenceEvidence(
                            lead_a=lead_a, lead_b=lead_b, at_a=t_a, at_b=t_b,
                            gap_minutes=round(gap / 60, 2), location_a=loc_a, location_b=loc_b))
            if cut:
                break
    out = []
    for pair in found.values():
        evidence = sorted(pair["evidence"].values(), key=lambda e: (e.gap_minutes, e.at_a))
        reason = None
        if params.fuzzy_plates and pair["a"].kind == "vehicle" == pair["b"].kind:
            reason = plates.confusion(pair["a"].key, pair["b"].key)
        times = [t for e in evidence for t in (e.at_a, e.at_b)]
        out.append(CopresencePair(
            a=pair["a"], b=pair["b"], relation="plate_variant" if reason else "copresence",
            reason=reason, occurrences=len(evidence), min_gap_minutes=evidence[0].gap_minutes,
            first_at=min(times), last_at=max(times), evidence=evidence[:MAX_EVIDENCE]))
    out.sort(key=lambda p: (p.relation != "plate_variant", -p.occurrences, p.min_gap_minutes,
                            p.a.id, p.b.id))
    return out, cut
