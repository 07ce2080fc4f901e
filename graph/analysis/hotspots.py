"""Hotspots: places and communes ranked by recent leads, with their trend against the period
before.

The recent period is the last ``days`` days before ``now``; it is compared with the
``compare_days`` days before it (same length by default), per day so periods of different
lengths compare. Counts use only leads the caller may read, with times they may read.

An answer holds counts per place and per commune — no lead, no person, no vehicle, no phone. A
place appears only with at least ``MIN_PLACE_LEADS`` leads over both periods: a hotspot is a
repeated pattern, and a single lead at an address (a home search, say) stays behind the
justified consultation of that lead.

Entries carry coordinates where the graph has a point: a place its own; a commune the centre of
its ranked places (those with at least ``MIN_PLACE_LEADS`` leads) that have a point, and the
centres of their leads in each period (``recent_centroid``, ``previous_centroid``): together, the
way a commune's activity moved. Places with a single lead never weigh in, so no centre can
reveal one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j

from graph.access import AccessFilter
from graph.analysis._common import LEAD_TIME, access_params, run_read
from graph.analysis.models import HotspotEntry, HotspotParams, HotspotsResult, Trend
from graph.handle import Graph
from graph.models import PointView

MIN_PLACE_LEADS = 2
FLAT_TOLERANCE_PCT = 10.0  # a daily rate within ±10 % of the previous one is "flat"


def hotspots(graph: Graph, access: AccessFilter,
             params: HotspotParams) -> HotspotsResult:
    now = (params.now or datetime.now(UTC)).astimezone(UTC)
    days = params.days
    compare_days = params.compare_days or days
    recent_from = now - timedelta(days=days)
    previous_from = recent_from - timedelta(days=compare_days)
    if params.departement is not None:
        # The département's Locations first: a few hundred thousand leads at national scale
        # at most, then their times.
        source = "MATCH (c:Commune {departement: $dep})<-[:IN_COMMUNE]-(loc:Location)<-[:AT]-(l:Lead) "
    else:
        # No département: the two periods through the time indexes (observed, else reported).
        source = (
            "CALL () { "
            "  MATCH (l:Lead) WHERE l.observed_at >= $start AND l.observed_at < $end RETURN l "
            "  UNION MATCH (l:Lead) WHERE l.observed_at IS NULL AND l.reported_at >= $start "
            "    AND l.reported_at < $end RETURN l "
            "} MATCH (l)-[:AT]->(loc:Location)-[:IN_COMMUNE]->(c:Commune) "
        )

    def work(tx: neo4j.ManagedTransaction) -> list[list[Any]]:
        # The cheap filter first: a département's leads of every time cross the expansion,
        # only those of the two periods (a third of a year's) go on to the policy's CASE.
        # Counted per (commune, place) node, their properties read once per place after the
        # count, and every row in one record (the driver's cost is per record).
        return tx.run(
            f"{source}"
            f"WITH c, loc, l, {LEAD_TIME} AS t WHERE t >= $start AND t < $end AND l.version > 0 "
            f"WITH DISTINCT c, loc, l, t "
            f"WITH c, loc, t, {access.case_expression} AS access WHERE access IN $an_timed "
            f"WITH c, loc, sum(CASE WHEN t >= $recent THEN 1 ELSE 0 END) AS recent, "
            f"  sum(CASE WHEN t < $recent THEN 1 ELSE 0 END) AS previous "
            f"RETURN collect([loc.key, loc.address, loc.place_label, loc.point.latitude, "
            f"  loc.point.longitude, c.insee_code, c.name, recent, previous]) AS rows",
            dep=params.departement, start=previous_from, recent=recent_from, end=now,
            **access_params(access),
        ).single()["rows"]

    rows = run_read(graph, work, field="days")
    # Places ranked on plain tuples, and only the answered ones built as entries: a busy
    # département has thousands of places for an answer of ``limit``.
    ranked_places: list[tuple[int, float, str, int, list[Any]]] = []
    communes: defaultdict[str, dict[str, Any]] = defaultdict(
        lambda: {"recent": 0, "previous": 0, "label": "", "ranked": []})
    for i, (key, address, place_label, lat, lon, insee, commune_name, recent, previous) in enumerate(rows):
        commune = communes[insee]
        commune["recent"] += recent
        commune["previous"] += previous
        commune["label"] = commune_name or insee
        if recent + previous >= MIN_PLACE_LEADS:
            label = _place_label({"key": key, "address": address, "place_label": place_label,
                                  "commune": commune_name})
            change = _change(recent, previous, days, compare_days)[0]
            ranked_places.append((-recent, -(change if change is not None else float("inf")), label, i,
                                  [key, label, insee, recent, previous, lat, lon]))
            if lat is not None:
                commune["ranked"].append((PointView(lat=lat, lon=lon), recent, previous))
    ranked_places.sort()
    places = []
    for *_, (key, label, insee, recent, previous, lat, lon) in ranked_places[: params.limit]:
        entry = _entry(key, label, insee, recent, previous, days, compare_days)
        if lat is not None:
            point = PointView(lat=lat, lon=lon)
            entry.point = point
            entry.recent_centroid = point if recent else None
            entry.previous_centroid = point if previous else None
        places.append(entry)
    commune_entries = []
    for insee, c in communes.items():
        if c["recent"] + c["previous"] == 0:
            continue
        entry = _entry(insee, c["label"], insee, c["recent"], c["previous"], days, compare_days)
        ranked = c["ranked"]
        entry.point = _centre([(p, 1) for p, _, _ in ranked])
        entry.recent_centroid = _centre([(p, n) for p, n, _ in ranked])
        entry.previous_centroid = _centre([(p, n) for p, _, n in ranked])
        commune_entries.append(entry)
    return HotspotsResult(
        departement=params.departement, recent_from=recent_from, recent_to=now,
        previous_from=previous_from, min_place_leads=MIN_PLACE_LEADS,
        places=places, communes=_ranked(commune_entries)[: params.limit],
    )


def _centre(weighted: list[tuple[PointView, int]]) -> PointView | None:
    total = sum(w for _, w in weighted)
    if not total:
        return None
    return PointView(lat=round(sum(p.lat * w for p, w in weighted) / total, 6),
                     lon=round(sum(p.lon * w for p, w in weighted) / total, 6))


def _place_label(r: dict[str, Any]) -> str:
    name = r["address"] or r["place_label"]
    if name:
        return f"{name} — {r['commune']}"
    if r["key"].startswith("pt:"):
        _, lat, lon = r["key"].split(":")
        return f"point {lat}, {lon} — {r['commune']}"
    return f"{r['commune']} (commune, sans lieu précis)"


def _change(recent: int, previous: int, days: int, compare_days: int) -> tuple[float | None, Trend]:
    """The change of the daily rate against the previous period, in %, and its trend."""
    recent_rate, previous_rate = recent / days, previous / compare_days
    if previous == 0:
        return None, (Trend.NEW if recent else Trend.FLAT)
    change = round((recent_rate - previous_rate) / previous_rate * 100, 1)
    return change, (Trend.FLAT if abs(change) <= FLAT_TOLERANCE_PCT
                    else Trend.UP if change > 0 else Trend.DOWN)


def _entry(key: str, label: str, insee: str | None, recent: int, previous: int, days: int,
           compare_days: int) -> HotspotEntry:
    change, trend = _change(recent, previous, days, compare_days)
    return HotspotEntry(key=key, label=label, insee_code=insee, recent=recent, previous=previous,
                        recent_per_day=round(recent / days, 4),
                        previous_per_day=round(previous / compare_days, 4),
                        change_pct=change, trend=trend)


def _ranked(entries: list[HotspotEntry]) -> list[HotspotEntry]:
    return sorted(entries, key=lambda e: (-e.recent, -(e.change_pct if e.change_pct is not None
                                                       else float("inf")), e.label))
